/* Backend selection by name. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend.h"
#include "util/nwf_error.h"

static NwfBackend *
backend_probed(NwfBackend *backend, GError **error)
{
    if (!backend->ops->probe(backend, error)) {
        backend->ops->free(backend);
        return NULL;
    }
    return backend;
}

NwfBackend *
nwf_backend_new_by_name(const char *name, GError **error)
{
#ifdef NWF_HAVE_NFT_BACKEND
    if (!name) {
        /* nftables when the kernel and library can do it, else ebiptables */
        NwfBackend *nft = nwf_backend_nft_new();
        if (nft->ops->probe(nft, NULL))
            return nft;
        nft->ops->free(nft);
        return backend_probed(nwf_backend_ebiptables_new(), error);
    }
    if (strcmp(name, "nftables") == 0 || strcmp(name, "nft") == 0)
        return backend_probed(nwf_backend_nft_new(), error);
#else
    if (!name)
        return backend_probed(nwf_backend_ebiptables_new(), error);
    if (strcmp(name, "nftables") == 0 || strcmp(name, "nft") == 0) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED, "%s",
                      _("the nftables backend is not part of this build"));
        return NULL;
    }
#endif
    if (strcmp(name, "ebiptables") == 0 || strcmp(name, "iptables") == 0)
        return backend_probed(nwf_backend_ebiptables_new(), error);
    nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                  _("unknown firewall backend '%s' (use 'nftables' or 'ebiptables')"), name);
    return NULL;
}

gboolean
nwf_backend_ports_match(NwfBackend *backend, GPtrArray *programs, gboolean *matches,
                        GError **error)
{
    const NwfBackendOps *ops = backend->ops;

    if (programs->len == 0)
        return TRUE;
    if (ops->ports_match)
        return ops->ports_match(backend, programs, matches, error);
    if (!ops->port_matches) {
        nwf_error_set(error, NWF_ERR_OPERATION_UNSUPPORTED,
                      _("the %s backend cannot compare its rules with the kernel"), ops->name);
        return FALSE;
    }
    for (guint i = 0; i < programs->len; i++) {
        if (!ops->port_matches(backend, g_ptr_array_index(programs, i), &matches[i], error))
            return FALSE;
    }
    return TRUE;
}
