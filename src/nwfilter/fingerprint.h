/* fingerprint: a stable hash of what a binding enforces, so two hosts can
 * check they would apply the same rules to a VM port (e.g. before a
 * migration) without comparing firewall dumps.
 *
 * The hash covers a canonical text of the parsed model, never the XML
 * bytes: the binding's MAC and filterref parameters, then every filter the
 * tree reaches (first-reached order, each once) with its chain, chain
 * priority and entries in document order. Each rule contributes its
 * action, direction, priority, statematch, protocol and every attribute
 * with its negation and value in one canonical form (numbers in decimal,
 * whatever base or name was written). Left out because they change no
 * verdict: uuids, formatting, attribute order, line numbers, comments, the
 * port device name and the owner. */
#pragma once

#include <glib.h>

#include "conf/binding_def.h"
#include "nwfilter/compile.h"

typedef struct {
    char *sha256;          /* 64 lowercase hex digits */
    char *canonical;       /* the hashed text */
    GPtrArray *filters;    /* char*: every filter reached, first-reached order */
} NwfFingerprint;

/* Fingerprint BINDING's tree, resolving filters through LOOKUP. Fails
 * (libvirt's message) when a referenced filter is missing. */
NwfFingerprint *nwf_fingerprint_binding(const NwfBindingDef *binding, NwfFilterLookupFunc lookup,
                                        gpointer lookup_data, GError **error);
void nwf_fingerprint_free(NwfFingerprint *fp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfFingerprint, nwf_fingerprint_free)
