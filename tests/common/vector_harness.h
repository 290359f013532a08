/* What libvirt's xml2firewall harness gives every vector, shared by the
 * ebiptables and nftables render tests. */
#pragma once

#include <glib.h>

#include "conf/nwfilter_def.h"
#include "conf/nwfilter_params.h"

typedef struct {
    const char *dir;
    GHashTable *defs;               /* path -> NwfFilterDef*, owned by the caller */
} NwfTestDirLookup;

/* Compile lookup callback: filterrefs resolve to NAME.xml in lookup->dir
 * (DATA is an NwfTestDirLookup*), parsed once and cached in lookup->defs. */
const NwfFilterDef *nwf_test_dir_lookup(const char *name, gpointer data);

/* IPSETNAME=tck_test and the lists A, B, C of the vectors README. */
NwfParams *nwf_test_vector_params(void);
