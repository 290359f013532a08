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
        nwf_error_set_firewall(error, NWF_ERR_INTERNAL_ERROR, _("nftables could not %s: %s"),
                               what, *text ? text : _("unknown error (no message from libnftables)"));
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
    state->elements = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return state;
}

void
nwf_nft_port_state_free(NwfNftPortState *state)
{
    if (!state)
        return;
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++)
        g_hash_table_unref(state->chains[t]);
    g_hash_table_unref(state->elements);
    g_free(state->group);
    g_free(state->digest);
    g_free(state);
}

NwfNftState *
nwf_nft_state_new(void)
{
    NwfNftState *state = g_new0(NwfNftState, 1);

    state->ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)nwf_nft_port_state_free);
    state->sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    nwf_nft_state_init_groups(state);
    return state;
}

void
nwf_nft_state_free(NwfNftState *state)
{
    if (!state)
        return;
    g_hash_table_unref(state->ports);
    g_hash_table_unref(state->sets);
    g_hash_table_unref(state->groups);
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
            if (g_str_has_prefix(name, NWF_NFT_GROUP_PREFIX) && strlen(name) > 15) {
                g_hash_table_add(nwf_nft_state_group(state, name)->chains[table],
                                 g_strdup_printf("%s/%s", name, slash + 1));
                continue;
            }
            g_hash_table_add(state_port(state, name)->chains[table],
                             g_strdup_printf("%s/%s", name, slash + 1));
        }
    }
}

/* The value sets ("v/...") in a "list sets bridge" output: their names, and
 * each element ("<if>" . value) under its port. */
static void
sets_parse(NwfNftState *state, const char *listing)
{
    g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);
    g_autofree char *set = NULL;
    g_autoptr(GString) elements = g_string_new(NULL);
    gboolean ours = FALSE, in_elements = FALSE;

    for (char **l = lines; *l; l++) {
        const char *line = *l;
        if (g_str_has_prefix(line, "table ")) {
            ours = strcmp(line, "table bridge " NWF_NFT_TABLE_NAME " {") == 0;
        } else if (ours && g_str_has_prefix(line, "\tset v/")) {
            g_free(set);
            set = g_strdup(line + strlen("\tset "));
            *strchr(set, ' ') = '\0';
            g_hash_table_add(state->sets, g_strdup(set));
        } else if (ours && set && strstr(line, "elements = {")) {
            g_string_assign(elements, strstr(line, "{") + 1);
            in_elements = TRUE;
        } else if (in_elements) {
            g_string_append_printf(elements, " %s", line);
        }
        if (in_elements && strchr(elements->str, '}')) {
            g_auto(GStrv) items = NULL;
            *strchr(elements->str, '}') = '\0';
            items = g_strsplit(elements->str, ",", -1);
            for (char **it = items; *it; it++) {
                char *item = g_strstrip(*it);
                const char *end = item[0] == '"' ? strchr(item + 1, '"') : NULL;
                g_autofree char *port = NULL;
                if (!end)
                    continue;
                port = g_strndup(item + 1, end - item - 1);
                g_hash_table_add(state_port(state, port)->elements,
                                 g_strdup_printf("%s\t%s", set, item));
            }
            in_elements = FALSE;
            g_clear_pointer(&set, g_free);
        }
    }
}

/* The next element of a map or set listing, from *P on: its quoted port
 * name (into NAME, to be freed) and where the text after the closing quote
 * starts (REST); *P moves past the name. FALSE when no name is left. */
static gboolean
element_next(const char **p, char **name, const char **rest)
{
    const char *start = strchr(*p, '"');
    const char *end = start ? strchr(start + 1, '"') : NULL;

    if (!end)
        return FALSE;
    *name = g_strndup(start + 1, (gsize)(end - start - 1));
    *rest = end + 1;
    *p = end + 1;
    return TRUE;
}

/* What follows " : " in REST (a map element's value), or NULL. */
static const char *
element_value(const char *rest)
{
    while (*rest == ' ')
        rest++;
    if (*rest != ':')
        return NULL;
    rest++;
    while (*rest == ' ')
        rest++;
    return rest;
}

/* PORT dispatches into the group whose chain TARGET ("<group>/...") is. */
static void
port_group_note(NwfNftState *state, NwfNftPortState *port, const char *target)
{
    if (port->group)
        return;
    port->group = g_strndup(target, strcspn(target, "/"));
    nwf_nft_state_group(state, port->group)->users++;
}

/* "ifname" : goto <if>/mark (or <group>/mark) elements of mark_to: which
 * ports have IP-layer dispatch, and the group of those in one (a group may
 * have IP-layer chains only) */
static void
marks_parse(NwfNftState *state, const char *listing)
{
    const char *p = listing, *rest, *target;

    for (char *name; element_next(&p, &name, &rest); g_free(name)) {
        NwfNftPortState *port;
        target = element_value(rest);
        if (!target || !g_str_has_prefix(target, "goto "))
            continue;
        target += strlen("goto ");
        port = state_port(state, name);
        port->mark_dispatch = TRUE;
        if (g_str_has_prefix(target, NWF_NFT_GROUP_PREFIX))
            port_group_note(state, port, target);
    }
}

/* "ifname" : jump <chain> elements of DIR's dispatch map: which ports have
 * one, and the group of those that jump into one */
static void
groups_parse(NwfNftState *state, NwfEthDir dir, const char *listing)
{
    const char *p = listing, *rest, *target;

    for (char *name; element_next(&p, &name, &rest); g_free(name)) {
        target = element_value(rest);
        if (!target)
            continue;
        state_port(state, name)->dispatch[dir] = TRUE;
        if (g_str_has_prefix(target, "jump " NWF_NFT_GROUP_PREFIX))
            port_group_note(state, state_port(state, name), target + strlen("jump "));
    }
}

/* "0xKEY : jump <chain>" elements of the inet maps ("list maps inet"):
 * the ids of groups, and which ports with chains of their own have which
 * IP-layer dispatch. A key is an id, or an id << 16 in the to-VM maps. */
static void
ip_groups_parse(NwfNftState *state, const char *listing)
{
    static const char *const maps[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST] = {
        { "from4", "to4", "host4" }, { "from6", "to6", "host6" },
    };
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);
    GHashTableIter iter;
    gpointer value;
    gint fam = -1, chain = -1;

    g_hash_table_iter_init(&iter, state->ports);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        NwfNftPortState *port = value;
        if (port->id && !port->group)
            g_hash_table_insert(by_id, GUINT_TO_POINTER(port->id), port);
    }
    for (char **l = lines; *l; l++) {
        const char *p = *l;
        if (g_str_has_prefix(p, "table ")) {
            fam = chain = -1;
            if (strcmp(p, "table inet " NWF_NFT_TABLE_NAME " {") != 0)
                fam = -2;
            continue;
        }
        if (fam == -2)
            continue;
        if (g_str_has_prefix(p, "\tmap ")) {
            fam = chain = -1;
            for (guint f = 0; f < NWF_IP_FAMILY_LAST; f++) {
                for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
                    g_autofree char *head = g_strdup_printf("\tmap %s {", maps[f][c]);
                    if (strcmp(p, head) == 0) {
                        fam = (gint)f;
                        chain = (gint)c;
                    }
                }
            }
            continue;
        }
        if (fam < 0)
            continue;
        while ((p = strstr(p, " : jump "))) {
            const char *start = p;
            guint64 key;
            NwfNftPortState *port;
            while (start > *l && start[-1] != ' ' && start[-1] != '{' && start[-1] != '\t')
                start--;
            key = g_ascii_strtoull(start, NULL, 0);
            if (key > NWF_NFT_PORT_ID_MAX)
                key >>= 16;
            p += strlen(" : jump ");
            if (g_str_has_prefix(p, NWF_NFT_GROUP_PREFIX)) {
                g_autofree char *group = g_strndup(p, strcspn(p, "/"));
                nwf_nft_state_group(state, group)->id = (guint)key;
                continue;
            }
            port = g_hash_table_lookup(by_id, GUINT_TO_POINTER((guint)key));
            if (port)
                port->ip_dispatch[fam][chain] = TRUE;
        }
    }
}

/* "ifname" : 0xID pairs of the port_ids map */
static void
ids_parse(NwfNftState *state, const char *listing)
{
    const char *p = listing, *rest, *value;

    for (char *name; element_next(&p, &name, &rest); g_free(name)) {
        guint64 id;
        value = element_value(rest);
        if (!value)
            continue;
        id = g_ascii_strtoull(value, NULL, 0);
        if (id > 0 && id <= NWF_NFT_PORT_ID_MAX)
            state_port(state, name)->id = (guint)id;
    }
}

/* "ifname" comment "digest" elements of the port_digests set */
static void
digests_parse(NwfNftState *state, const char *listing)
{
    const char *p = listing, *rest;

    for (char *name; element_next(&p, &name, &rest); g_free(name)) {
        const char *text, *text_end;
        NwfNftPortState *port;
        if (!g_str_has_prefix(rest, " comment \""))
            continue;
        text = rest + strlen(" comment \"");
        text_end = strchr(text, '"');
        if (!text_end) {
            g_free(name);
            break;
        }
        port = state_port(state, name);
        g_free(port->digest);
        port->digest = g_strndup(text, (gsize)(text_end - text));
        /* the digest is quoted too: go on after it */
        p = text_end + 1;
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
        for (guint m = 0; m < 2; m++) {
            g_autofree char *dispatch = NULL;
            if (!nwf_nft_run(ctx, m ? "list map bridge " NWF_NFT_TABLE_NAME " eth_in"
                                    : "list map bridge " NWF_NFT_TABLE_NAME " eth_out",
                             "list the port dispatch", &dispatch, error))
                return NULL;
            groups_parse(state, m ? NWF_ETH_VM_IN : NWF_ETH_VM_OUT, dispatch);
        }
        {
            g_autofree char *marks = NULL;
            if (!nwf_nft_run(ctx, "list map bridge " NWF_NFT_TABLE_NAME " mark_to",
                             "list the port marks", &marks, error))
                return NULL;
            marks_parse(state, marks);
        }
        if (have[NWF_NFT_INET]) {
            g_autofree char *maps = NULL;
            if (!nwf_nft_run(ctx, "list maps inet", "list the IP-layer dispatch", &maps, error))
                return NULL;
            ip_groups_parse(state, maps);
        }
        /* absent in tables made before digests existed: then no digests */
        if (nwf_nft_run(ctx, "list set bridge " NWF_NFT_TABLE_NAME " port_digests",
                        "list the port digests", &digests, NULL)) {
            digests_parse(state, digests);
            state->digest_set = TRUE;
        }
    }
    state->tables = have[NWF_NFT_BRIDGE] && have[NWF_NFT_INET];
    if (!state->tables && (have[NWF_NFT_BRIDGE] || have[NWF_NFT_INET])) {
        /* half a skeleton (someone deleted one table): start over */
        g_hash_table_remove_all(state->ports);
        g_hash_table_remove_all(state->groups);
        g_hash_table_remove_all(state->sets);
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
    g_hash_table_iter_init(&iter, state->groups);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        used[((NwfNftGroup *)value)->id] = 1;
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
