/* What our tables hold, read back from the kernel: per port, its chain
 * names and its id. The backend reads this once and then keeps it up to date
 * itself (reading a large ruleset back is the slow part of nft), re-reading
 * only after a failed commit. Also reads rule counters for stats. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend_nft_private.h"
#include "util/nwf_error.h"

/* nft's messages can be long (they quote the command); keep the start */
#define ERROR_TEXT_MAX 2000

gboolean
nwf_nft_run(struct nft_ctx *ctx, const char *cmds, const char *what, char **output,
            GError **error)
{
    int rc = nft_run_cmd_from_buffer(ctx, cmds);
    const char *out = nft_ctx_get_output_buffer(ctx);
    const char *err = nft_ctx_get_error_buffer(ctx);

    if (rc != 0) {
        g_autofree char *text = g_strstrip(g_strndup(err ? err : "", ERROR_TEXT_MAX));
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("nftables could not %s: %s"), what,
                      *text ? text : _("unknown error (no message from libnftables)"));
        return FALSE;
    }
    if (output)
        *output = g_strdup(out ? out : "");
    return TRUE;
}

NwfNftPortState *
nwf_nft_port_state_new(void)
{
    NwfNftPortState *state = g_new0(NwfNftPortState, 1);

    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++)
        state->chains[t] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    state->sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return state;
}

void
nwf_nft_port_state_free(NwfNftPortState *state)
{
    if (!state)
        return;
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++)
        g_hash_table_unref(state->chains[t]);
    g_hash_table_unref(state->sets);
    g_free(state->digest);
    g_free(state);
}

NwfNftState *
nwf_nft_state_new(void)
{
    NwfNftState *state = g_new0(NwfNftState, 1);

    state->ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)nwf_nft_port_state_free);
    return state;
}

void
nwf_nft_state_free(NwfNftState *state)
{
    if (!state)
        return;
    g_hash_table_unref(state->ports);
    g_free(state);
}

static NwfNftPortState *
state_port(NwfNftState *state, const char *ifname)
{
    NwfNftPortState *port = g_hash_table_lookup(state->ports, ifname);

    if (!port) {
        port = nwf_nft_port_state_new();
        g_hash_table_insert(state->ports, g_strdup(ifname), port);
    }
    return port;
}

/* "table FAMILY NAME {" lines present in a "list tables" output */
static gboolean
tables_listed(const char *listing, const char *family)
{
    g_autofree char *line = g_strdup_printf("table %s " NWF_NFT_TABLE_NAME "\n", family);
    g_autofree char *padded = g_strdup_printf("\n%s", listing);
    g_autofree char *needle = g_strdup_printf("\n%s", line);

    return strstr(padded, needle) != NULL;
}

/* Port chains of our table in a "list chains FAMILY" output. */
static void
chains_parse(NwfNftState *state, NwfNftTable table, const char *listing)
{
    g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);
    gboolean ours = FALSE;

    for (char **l = lines; *l; l++) {
        const char *line = *l;
        if (g_str_has_prefix(line, "table ")) {
            g_autofree char *want = g_strdup_printf("table %s " NWF_NFT_TABLE_NAME " {",
                                                    table == NWF_NFT_BRIDGE ? "bridge" : "inet");
            ours = strcmp(line, want) == 0;
        } else if (ours && g_str_has_prefix(line, "\tchain ")) {
            g_autofree char *name = g_strdup(line + strlen("\tchain "));
            char *end = strchr(name, ' ');
            char *slash;
            if (end)
                *end = '\0';
            slash = strchr(name, '/');
            if (!slash)
                continue;      /* a base chain */
            *slash = '\0';
            g_hash_table_add(state_port(state, name)->chains[table],
                             g_strdup_printf("%s/%s", name, slash + 1));
        }
    }
}

/* Per-port value sets ("<if>/v<k>") in a "list sets bridge" output. */
static void
sets_parse(NwfNftState *state, const char *listing)
{
    g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);
    gboolean ours = FALSE;

    for (char **l = lines; *l; l++) {
        const char *line = *l;
        if (g_str_has_prefix(line, "table ")) {
            ours = strcmp(line, "table bridge " NWF_NFT_TABLE_NAME " {") == 0;
        } else if (ours && g_str_has_prefix(line, "\tset ")) {
            g_autofree char *name = g_strdup(line + strlen("\tset "));
            char *end = strchr(name, ' ');
            char *slash;
            if (end)
                *end = '\0';
            slash = strchr(name, '/');
            if (!slash)
                continue;      /* a set of the skeleton */
            *slash = '\0';
            g_hash_table_add(state_port(state, name)->sets,
                             g_strdup_printf("%s/%s", name, slash + 1));
        }
    }
}

/* "ifname" : 0xID pairs of the port_ids map */
static void
ids_parse(NwfNftState *state, const char *listing)
{
    const char *p = listing;

    while ((p = strchr(p, '"'))) {
        const char *end = strchr(p + 1, '"');
        g_autofree char *name = NULL;
        const char *colon;
        if (!end)
            break;
        name = g_strndup(p + 1, end - p - 1);
        colon = end + 1;
        while (*colon == ' ')
            colon++;
        if (*colon == ':') {
            guint64 id = g_ascii_strtoull(colon + 1, NULL, 0);
            if (id > 0 && id <= NWF_NFT_PORT_ID_MAX)
                state_port(state, name)->id = (guint)id;
        }
        p = end + 1;
    }
}

/* "ifname" comment "digest" elements of the port_digests set */
static void
digests_parse(NwfNftState *state, const char *listing)
{
    const char *p = listing;

    while ((p = strstr(p, "\""))) {
        const char *end = strchr(p + 1, '"');
        const char *comment;
        if (!end)
            break;
        comment = end + 1;
        if (g_str_has_prefix(comment, " comment \"")) {
            const char *text = comment + strlen(" comment \"");
            const char *text_end = strchr(text, '"');
            g_autofree char *name = g_strndup(p + 1, end - p - 1);
            NwfNftPortState *port;
            if (!text_end)
                break;
            port = state_port(state, name);
            g_free(port->digest);
            port->digest = g_strndup(text, text_end - text);
            p = text_end + 1;
            continue;
        }
        p = end + 1;
    }
}

NwfNftState *
nwf_nft_state_load(struct nft_ctx *ctx, GError **error)
{
    g_autoptr(NwfNftState) state = nwf_nft_state_new();
    g_autofree char *tables = NULL;
    gboolean have[NWF_NFT_TABLE_LAST];

    if (!nwf_nft_run(ctx, "list tables", "list tables", &tables, error))
        return NULL;
    have[NWF_NFT_BRIDGE] = tables_listed(tables, "bridge");
    have[NWF_NFT_INET] = tables_listed(tables, "inet");
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++) {
        g_autofree char *chains = NULL;
        if (!have[t])
            continue;
        if (!nwf_nft_run(ctx, t == NWF_NFT_BRIDGE ? "list chains bridge" : "list chains inet",
                         "list our chains", &chains, error))
            return NULL;
        chains_parse(state, t, chains);
    }
    if (have[NWF_NFT_BRIDGE]) {
        g_autofree char *ids = NULL;
        g_autofree char *digests = NULL;
        g_autofree char *sets = NULL;
        if (!nwf_nft_run(ctx, "list map bridge " NWF_NFT_TABLE_NAME " port_ids",
                         "list the port ids", &ids, error))
            return NULL;
        ids_parse(state, ids);
        if (!nwf_nft_run(ctx, "list sets bridge", "list our sets", &sets, error))
            return NULL;
        sets_parse(state, sets);
        /* absent in tables made before digests existed: then no digests */
        if (nwf_nft_run(ctx, "list set bridge " NWF_NFT_TABLE_NAME " port_digests",
                        "list the port digests", &digests, NULL))
            digests_parse(state, digests);
    }
    state->tables = have[NWF_NFT_BRIDGE] && have[NWF_NFT_INET];
    if (!state->tables && (have[NWF_NFT_BRIDGE] || have[NWF_NFT_INET])) {
        /* half a skeleton (someone deleted one table): start over */
        g_hash_table_remove_all(state->ports);
        if (have[NWF_NFT_BRIDGE] &&
            !nwf_nft_run(ctx, "delete table bridge " NWF_NFT_TABLE_NAME,
                         "remove an incomplete table", NULL, error))
            return NULL;
        if (have[NWF_NFT_INET] &&
            !nwf_nft_run(ctx, "delete table inet " NWF_NFT_TABLE_NAME,
                         "remove an incomplete table", NULL, error))
            return NULL;
    }
    return g_steal_pointer(&state);
}

guint
nwf_nft_state_free_id(const NwfNftState *state)
{
    g_autofree guint8 *used = g_malloc0(NWF_NFT_PORT_ID_MAX + 1);
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, state->ports);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        used[((NwfNftPortState *)value)->id] = 1;
    for (guint id = 1; id <= NWF_NFT_PORT_ID_MAX; id++) {
        if (!used[id])
            return id;
    }
    return 0;
}

/* --- counters ------------------------------------------------------------ */

void
nwf_nft_rule_stats_free(NwfNftRuleStats *stats)
{
    if (!stats)
        return;
    g_free(stats->chain);
    g_free(stats->filter);
    g_free(stats->rule);
    g_free(stats);
}

static gboolean
number_after(const char *line, const char *key, guint64 *out)
{
    const char *p = strstr(line, key);

    if (!p)
        return FALSE;
    *out = g_ascii_strtoull(p + strlen(key), NULL, 10);
    return TRUE;
}

void
nwf_nft_stats_parse(GPtrArray *out, const char *chain, const char *listing)
{
    g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);

    for (char **l = lines; *l; l++) {
        const char *line = g_strstrip(*l);
        const char *comment = strstr(line, "comment \"");
        NwfNftRuleStats *stats;
        guint64 packets, bytes;
        g_auto(GStrv) words = NULL;
        if (!comment || !number_after(line, "counter packets ", &packets) ||
            !number_after(line, " bytes ", &bytes))
            continue;
        words = g_strsplit(comment + strlen("comment \""), " ", 3);
        stats = g_new0(NwfNftRuleStats, 1);
        stats->chain = g_strdup(chain);
        stats->filter = g_strdup(words[0] ? words[0] : "");
        stats->priority = words[0] && words[1] ? atoi(words[1]) : 0;
        stats->packets = packets;
        stats->bytes = bytes;
        stats->rule = g_strdup(line);
        g_ptr_array_add(out, stats);
    }
}
