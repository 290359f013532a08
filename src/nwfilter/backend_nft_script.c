/* nft command scripts: the skeleton of our two tables (created once), and
 * the commands that take one port from what the kernel holds to what its
 * new rule program needs, all in one atomic batch. A port whose values
 * alone changed gets value elements only. Otherwise its own chains keep
 * their names (flushed and refilled), a shared group of ethernet chains is
 * created by its first user and removed with its last, and a dispatch
 * element is rewritten only when its target changes. */
#include "config.h"

#include <string.h>

#include "nwfilter/backend_nft_private.h"

static const char *const table_family[NWF_NFT_TABLE_LAST] = { "bridge", "inet" };

/* The maps keyed by port id, per IP family and chain. */
static const char *const ip_maps[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST] = {
    { "from4", "to4", "host4" },
    { "from6", "to6", "host6" },
};

void
nwf_nft_script_skeleton(GString *s)
{
    static const char *const comment =
        "comment \"nwfilter: per-port network filters; managed by nwfilterd, do not edit\"";

    g_string_append_printf(s, "add table bridge " NWF_NFT_TABLE_NAME " { %s; }\n", comment);
    g_string_append(s,
        "add map bridge " NWF_NFT_TABLE_NAME " eth_out { type ifname : verdict; }\n"
        "add map bridge " NWF_NFT_TABLE_NAME " eth_in { type ifname : verdict; }\n"
        "add map bridge " NWF_NFT_TABLE_NAME " port_ids { type ifname : mark; }\n"
        "add map bridge " NWF_NFT_TABLE_NAME " mark_to { type ifname : verdict; }\n"
        "add set bridge " NWF_NFT_TABLE_NAME " port_digests { type ifname; }\n"
        "add set bridge " NWF_NFT_TABLE_NAME " arp_same_byte { typeof @nh,112,8 . @nh,192,8; "
        "elements = { ");
    for (guint b = 0; b < 256; b++)
        g_string_append_printf(s, "%s%u . %u", b ? ", " : "", b, b);
    g_string_append(s, " }; }\n"
        "add chain bridge " NWF_NFT_TABLE_NAME " prerouting "
        "{ type filter hook prerouting priority -300; policy accept; }\n"
        "add chain bridge " NWF_NFT_TABLE_NAME " forward "
        "{ type filter hook forward priority -300; policy accept; }\n"
        "add chain bridge " NWF_NFT_TABLE_NAME " postrouting "
        "{ type filter hook postrouting priority 300; policy accept; }\n"
        "add rule bridge " NWF_NFT_TABLE_NAME " prerouting meta mark set iifname map @port_ids\n"
        "add rule bridge " NWF_NFT_TABLE_NAME " prerouting iifname vmap @eth_out\n"
        "add rule bridge " NWF_NFT_TABLE_NAME " forward oifname vmap @mark_to\n"
        "add rule bridge " NWF_NFT_TABLE_NAME " postrouting oifname vmap @eth_in\n");
    g_string_append_printf(s, "add table inet " NWF_NFT_TABLE_NAME " { %s; }\n", comment);
    for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
        for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++)
            g_string_append_printf(s, "add map inet " NWF_NFT_TABLE_NAME
                                   " %s { type mark : verdict; }\n", ip_maps[fam][c]);
    }
    g_string_append(s,
        "add chain inet " NWF_NFT_TABLE_NAME " forward "
        "{ type filter hook forward priority 0; policy accept; }\n"
        "add chain inet " NWF_NFT_TABLE_NAME " input "
        "{ type filter hook input priority 0; policy accept; }\n");
    for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        /* from-VM chains before to-VM ones, as libvirt's FORWARD order */
        static const NwfIpChain order[] = { NWF_IP_FROM_VM, NWF_IP_TO_VM, NWF_IP_TO_HOST };
        NwfIpChain which = order[c];
        for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++)
            g_string_append_printf(s, "add rule inet " NWF_NFT_TABLE_NAME
                                   " %s meta nfproto %s meta mark & 0x%s vmap @%s\n",
                                   which == NWF_IP_TO_HOST ? "input" : "forward",
                                   fam == NWF_IP_V4 ? "ipv4" : "ipv6",
                                   which == NWF_IP_TO_VM ? "ffff0000" : "0000ffff",
                                   ip_maps[fam][which]);
    }
}

/* The key of port ID in the map of CHAIN */
static guint32
ip_map_key(NwfIpChain chain, guint id)
{
    return chain == NWF_IP_TO_VM ? id << 16 : id;
}

/* One dispatch element of a port: MAP's KEY leads to CHAIN (NULL: no
 * element). */
typedef struct {
    NwfNftTable table;
    const char *map;
    char *key;
    char *chain;
    const char *verdict;   /* "jump" or "goto" */
    char *extra;           /* value of the same key in port_ids (mark_to only) */
} Dispatch;

static void
dispatch_clear(Dispatch *d, guint n)
{
    for (guint i = 0; i < n; i++) {
        g_free(d[i].key);
        g_free(d[i].chain);
        g_free(d[i].extra);
    }
}

#define DISPATCH_MAX (NWF_ETH_DIR_LAST + 1 + NWF_IP_FAMILY_LAST * NWF_IP_CHAIN_LAST)

static gboolean
has_chain(GHashTable *chains, const char *name)
{
    return chains && g_hash_table_contains(chains, name);
}

/* The dispatch elements of port IFNAME whose own chains are OWN, whose
 * filter chains are GROUP's (GROUP_CHAINS) or its own, with id ID. HELD,
 * when given, says which elements the kernel has (a chain alone does not).
 * A port in a group has no IP-layer elements of its own: the group's id
 * keys them, and its mark chain is the group's. */
static guint
dispatch_of(Dispatch *d, const char *ifname, GHashTable *const own[NWF_NFT_TABLE_LAST],
            const char *group, GHashTable *const *group_chains, guint id,
            const NwfNftPortState *held)
{
    guint n = 0;
    g_autofree char *mark = nwf_nft_chain_mark(group ? group : ifname);
    gboolean has_mark;

    for (NwfEthDir dir = 0; dir < NWF_ETH_DIR_LAST; dir++) {
        char *chain = nwf_nft_chain_eth(group ? group : ifname, dir);
        gboolean present = held ? held->dispatch[dir]
                         : group ? group_chains && has_chain(group_chains[NWF_NFT_BRIDGE], chain)
                                 : has_chain(own[NWF_NFT_BRIDGE], chain);
        d[n] = (Dispatch){ NWF_NFT_BRIDGE, dir == NWF_ETH_VM_OUT ? "eth_out" : "eth_in",
                           g_strdup_printf("\"%s\"", ifname), present ? chain : NULL, "jump",
                           NULL };
        if (!present)
            g_free(chain);
        n++;
    }
    has_mark = held ? held->mark_dispatch
             : group ? group_chains && has_chain(group_chains[NWF_NFT_BRIDGE], mark)
                     : has_chain(own[NWF_NFT_BRIDGE], mark);
    d[n] = (Dispatch){ NWF_NFT_BRIDGE, "mark_to", g_strdup_printf("\"%s\"", ifname),
                       has_mark ? g_strdup(mark) : NULL, "goto", g_strdup_printf("0x%08x", id) };
    n++;
    for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
        for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            char *chain = nwf_nft_chain_ip(ifname, fam, c);
            gboolean present = !group && (held ? held->ip_dispatch[fam][c]
                                               : has_chain(own[NWF_NFT_INET], chain));
            d[n] = (Dispatch){ NWF_NFT_INET, ip_maps[fam][c],
                               g_strdup_printf("0x%08x", ip_map_key(c, id)),
                               present ? chain : NULL, "jump", NULL };
            if (!present)
                g_free(chain);
            n++;
        }
    }
    return n;
}

static void
dispatch_write(GString *s, const Dispatch *d, gboolean add)
{
    if (add)
        g_string_append_printf(s, "add element %s " NWF_NFT_TABLE_NAME " %s { %s : %s %s }\n",
                               table_family[d->table], d->map, d->key, d->verdict, d->chain);
    else
        g_string_append_printf(s, "delete element %s " NWF_NFT_TABLE_NAME " %s { %s }\n",
                               table_family[d->table], d->map, d->key);
    if (!d->extra)
        return;
    if (add)
        g_string_append_printf(s, "add element bridge " NWF_NFT_TABLE_NAME
                               " port_ids { %s : %s }\n", d->key, d->extra);
    else
        g_string_append_printf(s, "delete element bridge " NWF_NFT_TABLE_NAME
                               " port_ids { %s }\n", d->key);
}

/* Whether dispatch elements A and B are the same element. */
static gboolean
dispatch_same(const Dispatch *a, const Dispatch *b)
{
    return g_strcmp0(a->chain, b->chain) == 0 && strcmp(a->key, b->key) == 0 &&
           g_strcmp0(a->extra, b->extra) == 0;
}

char *
nwf_nft_value_element(const char *ifname, const char *value)
{
    return g_strdup_printf("\"%s\" . %s", ifname, value);
}

/* "<set>\t<element>" for every value of PORT */
static GHashTable *
port_elements(const NwfNftPort *port)
{
    GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; port && i < port->sets->len; i++) {
        const NwfNftSet *set = g_ptr_array_index(port->sets, i);
        for (guint j = 0; j < set->elements->len; j++) {
            g_autofree char *element = nwf_nft_value_element(port->ifname,
                                                             g_ptr_array_index(set->elements, j));
            g_hash_table_add(out, g_strdup_printf("%s\t%s", set->name, element));
        }
    }
    return out;
}

/* Elements of A not in B, as commands CMD ("add" or "delete"). */
static void
elements_write(GString *s, GHashTable *a, GHashTable *b, const char *cmd)
{
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(a), (GCompareFunc)g_strcmp0);

    for (GList *l = keys; l; l = l->next) {
        const char *entry = l->data;
        const char *tab = strchr(entry, '\t');
        if (b && g_hash_table_contains(b, entry))
            continue;
        g_string_append_printf(s, "%s element bridge " NWF_NFT_TABLE_NAME " %.*s { %s }\n", cmd,
                               (int)(tab - entry), entry, tab + 1);
    }
}

static void
digest_write(GString *s, const char *ifname, const char *old_digest, const char *digest)
{
    if (old_digest)
        g_string_append_printf(s, "delete element bridge " NWF_NFT_TABLE_NAME
                               " port_digests { \"%s\" }\n", ifname);
    if (digest)
        g_string_append_printf(s, "add element bridge " NWF_NFT_TABLE_NAME
                               " port_digests { \"%s\" comment \"%s\" }\n", ifname, digest);
}

/* Flush all of CHAINS (jumps between them go first), then delete those not
 * in KEEP. */
static void
chains_remove(GString *s, NwfNftTable table, GHashTable *chains, GHashTable *keep)
{
    g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(chains), (GCompareFunc)g_strcmp0);

    for (GList *l = names; l; l = l->next)
        g_string_append_printf(s, "flush chain %s " NWF_NFT_TABLE_NAME " %s\n",
                               table_family[table], (const char *)l->data);
    for (GList *l = names; l; l = l->next) {
        if (!has_chain(keep, l->data))
            g_string_append_printf(s, "delete chain %s " NWF_NFT_TABLE_NAME " %s\n",
                                   table_family[table], (const char *)l->data);
    }
}

/* Create CHAINS (those not in HAVE) and append all their rules. */
static void
chains_fill(GString *s, const GPtrArray *chains, GHashTable *const have[NWF_NFT_TABLE_LAST])
{
    for (guint i = 0; i < chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(chains, i);
        if (!have || !has_chain(have[chain->table], chain->name))
            g_string_append_printf(s, "add chain %s " NWF_NFT_TABLE_NAME " %s\n",
                                   table_family[chain->table], chain->name);
    }
    for (guint i = 0; i < chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(chains, i);
        for (guint j = 0; j < chain->rules->len; j++)
            g_string_append_printf(s, "add rule %s " NWF_NFT_TABLE_NAME " %s %s\n",
                                   table_family[chain->table], chain->name,
                                   (const char *)g_ptr_array_index(chain->rules, j));
    }
}

/* Whether every chain of WANT is in HAVE. */
static gboolean
chains_cover(GHashTable *const have[NWF_NFT_TABLE_LAST], GHashTable *const want[NWF_NFT_TABLE_LAST])
{
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++) {
        GHashTableIter iter;
        gpointer name;
        g_hash_table_iter_init(&iter, want[t]);
        while (g_hash_table_iter_next(&iter, &name, NULL)) {
            if (!g_hash_table_contains(have[t], name))
                return FALSE;
        }
    }
    return TRUE;
}

/* The inet map elements keyed by (group or port) id ID into the IP-layer
 * chains NAMED[family][chain] (NULL: absent). */
static void
ip_elements_write(GString *s, guint id, char *const named[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST],
                  gboolean add)
{
    for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
        for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            if (!named[fam][c])
                continue;
            if (add)
                g_string_append_printf(s, "add element inet " NWF_NFT_TABLE_NAME
                                       " %s { 0x%08x : jump %s }\n", ip_maps[fam][c],
                                       ip_map_key(c, id), named[fam][c]);
            else
                g_string_append_printf(s, "delete element inet " NWF_NFT_TABLE_NAME
                                       " %s { 0x%08x }\n", ip_maps[fam][c], ip_map_key(c, id));
        }
    }
}

/* The IP-layer chains of OWNER present in CHAINS (inet), by family and
 * chain; freed with ip_named_clear(). */
static void
ip_named(char *named[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST], const char *owner,
         GHashTable *chains)
{
    for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
        for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            named[fam][c] = nwf_nft_chain_ip(owner, fam, c);
            if (!has_chain(chains, named[fam][c]))
                g_clear_pointer(&named[fam][c], g_free);
        }
    }
}

static void
ip_named_clear(char *named[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST])
{
    for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
        for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++)
            g_clear_pointer(&named[fam][c], g_free);
    }
}

/* The mark chain of OWNER (a group or a port) writing the receiving id ID. */
static void
mark_chain_write(GString *s, const char *owner, guint id, gboolean create)
{
    g_autofree char *mark = nwf_nft_chain_mark(owner);

    if (create)
        g_string_append_printf(s, "add chain bridge " NWF_NFT_TABLE_NAME " %s\n", mark);
    g_string_append_printf(s, "add rule bridge " NWF_NFT_TABLE_NAME
                           " %s meta mark set meta mark & 0x0000ffff | 0x%08x\n", mark, id << 16);
}

static void
group_free(gpointer data)
{
    NwfNftGroup *group = data;

    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++)
        g_hash_table_unref(group->chains[t]);
    g_free(group);
}

NwfNftGroup *
nwf_nft_state_group(NwfNftState *state, const char *name)
{
    NwfNftGroup *group = g_hash_table_lookup(state->groups, name);

    if (!group) {
        group = g_new0(NwfNftGroup, 1);
        for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++)
            group->chains[t] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(state->groups, g_strdup(name), group);
    }
    return group;
}

void
nwf_nft_state_init_groups(NwfNftState *state)
{
    state->groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, group_free);
}

/* The value sets PORT's rules look up that STATE lacks: made (they are
 * shared by all ports and kept). */
static void
sets_ensure(GString *s, NwfNftState *state, const NwfNftPort *port)
{
    for (guint i = 0; i < port->sets->len; i++) {
        const NwfNftSet *set = g_ptr_array_index(port->sets, i);
        if (g_hash_table_contains(state->sets, set->name))
            continue;
        g_string_append_printf(s, "add set bridge " NWF_NFT_TABLE_NAME " %s { typeof %s; }\n",
                               set->name, set->type);
        g_hash_table_add(state->sets, g_strdup(set->name));
    }
}

/* Whether ports A and B have the same dispatch elements. */
static gboolean
dispatch_same_flags(const NwfNftPortState *a, const NwfNftPortState *b)
{
    return memcmp(a->dispatch, b->dispatch, sizeof(a->dispatch)) == 0 &&
           memcmp(a->ip_dispatch, b->ip_dispatch, sizeof(a->ip_dispatch)) == 0 &&
           a->mark_dispatch == b->mark_dispatch;
}

/* The port state NEW_PORT leaves behind with id ID. */
static NwfNftPortState *
port_state_of(const NwfNftPort *port, guint id)
{
    NwfNftPortState *state = nwf_nft_port_state_new();
    g_autoptr(GHashTable) elements = port_elements(port);
    GHashTableIter iter;
    gpointer key;

    for (guint i = 0; i < port->chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(port->chains, i);
        g_hash_table_add(state->chains[chain->table], g_strdup(chain->name));
    }
    if (port->ip[NWF_IP_V4] || port->ip[NWF_IP_V6]) {
        if (!port->group)
            g_hash_table_add(state->chains[NWF_NFT_BRIDGE], nwf_nft_chain_mark(port->ifname));
        state->id = id;
    }
    g_hash_table_iter_init(&iter, elements);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_hash_table_add(state->elements, g_strdup(key));
    for (NwfEthDir dir = 0; dir < NWF_ETH_DIR_LAST; dir++)
        state->dispatch[dir] = port->eth[dir];
    for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
        for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++)
            state->ip_dispatch[fam][c] = port->ip[fam] && !port->group;
    }
    state->mark_dispatch = port->ip[NWF_IP_V4] || port->ip[NWF_IP_V6];
    state->group = g_strdup(port->group);
    state->digest = g_strdup(port->digest);
    return state;
}

void
nwf_nft_script_port(GString *s, NwfNftState *state, const char *ifname,
                    const NwfNftPort *new_port, guint id)
{
    g_autoptr(NwfNftPortState) old = NULL;
    g_autoptr(NwfNftPortState) next = NULL;
    g_autoptr(GHashTable) new_elements = port_elements(new_port);
    NwfNftGroup *old_group = NULL, *new_group = NULL;
    Dispatch before[DISPATCH_MAX], after[DISPATCH_MAX];
    guint nbefore, nafter;
    gboolean digest_changed;
    gpointer key = NULL, value = NULL;

    if (g_hash_table_steal_extended(state->ports, ifname, &key, &value)) {
        g_free(key);
        old = value;
    }
    if (!old)
        old = nwf_nft_port_state_new();
    next = new_port ? port_state_of(new_port, id) : nwf_nft_port_state_new();
    if (old->group)
        old_group = g_hash_table_lookup(state->groups, old->group);
    if (new_port && new_port->group)
        new_group = g_hash_table_lookup(state->groups, new_port->group);

    /* 0. value sets the port needs and the table lacks (shared, kept) */
    if (new_port)
        sets_ensure(s, state, new_port);
    /* a change of values alone: value elements and the digest, nothing else */
    if (new_port && nwf_nft_digest_same_shape(old->digest, new_port->digest) &&
        g_strcmp0(old->group, new_port->group) == 0 && (old_group || !old->group) &&
        old->id == next->id && chains_cover(old->chains, next->chains) &&
        dispatch_same_flags(old, next)) {
        elements_write(s, old->elements, new_elements, "delete");
        elements_write(s, new_elements, old->elements, "add");
        if (g_strcmp0(old->digest, new_port->digest) != 0)
            digest_write(s, ifname, old->digest, new_port->digest);
        g_hash_table_insert(state->ports, g_strdup(ifname), g_steal_pointer(&next));
        return;
    }

    /* 1. dispatch elements that change or go, the digest */
    nbefore = dispatch_of(before, ifname, old->chains, old->group,
                          old_group ? old_group->chains : NULL, old->id, old);
    /* 2. the new group's chains, unless another port made them */
    if (new_port && new_port->group && !new_group) {
        new_group = nwf_nft_state_group(state, new_port->group);
        chains_fill(s, new_port->group_chains, NULL);
        for (guint i = 0; i < new_port->group_chains->len; i++) {
            const NwfNftChain *chain = g_ptr_array_index(new_port->group_chains, i);
            g_hash_table_add(new_group->chains[chain->table], g_strdup(chain->name));
        }
        if (next->id) {
            char *named[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST];
            mark_chain_write(s, new_port->group, next->id, TRUE);
            g_hash_table_add(new_group->chains[NWF_NFT_BRIDGE],
                             nwf_nft_chain_mark(new_port->group));
            new_group->id = next->id;
            ip_named(named, new_port->group, new_group->chains[NWF_NFT_INET]);
            ip_elements_write(s, next->id, named, TRUE);
            ip_named_clear(named);
        }
    }
    nafter = dispatch_of(after, ifname, next->chains, next->group,
                         new_group ? new_group->chains : NULL, id, NULL);
    for (guint i = 0; i < nbefore; i++) {
        if (before[i].chain && !dispatch_same(&before[i], &after[i]))
            dispatch_write(s, &before[i], FALSE);
    }
    digest_changed = !new_port || g_strcmp0(old->digest, new_port->digest) != 0;
    if (digest_changed)
        digest_write(s, ifname, old->digest, NULL);
    /* 3. the old own chains: emptied, those not needed any more deleted */
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++)
        chains_remove(s, t, old->chains[t], next->chains[t]);
    /* 4. the old group, when this port was its last user */
    if (old->group && g_strcmp0(old->group, next->group) != 0 && old_group &&
        --old_group->users == 0) {
        if (old_group->id) {
            char *named[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST];
            ip_named(named, old->group, old_group->chains[NWF_NFT_INET]);
            ip_elements_write(s, old_group->id, named, FALSE);
            ip_named_clear(named);
        }
        for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++)
            chains_remove(s, t, old_group->chains[t], NULL);
        g_hash_table_remove(state->groups, old->group);
    }
    if (new_port && new_port->group && g_strcmp0(old->group, next->group) != 0)
        new_group->users++;
    /* 5. values, own chains and rules, mark, dispatch, digest */
    elements_write(s, old->elements, new_elements, "delete");
    elements_write(s, new_elements, old->elements, "add");
    if (new_port) {
        chains_fill(s, new_port->chains, old->chains);
        if (!new_port->group && (new_port->ip[NWF_IP_V4] || new_port->ip[NWF_IP_V6])) {
            g_autofree char *mark = nwf_nft_chain_mark(ifname);
            mark_chain_write(s, ifname, id, !has_chain(old->chains[NWF_NFT_BRIDGE], mark));
        }
    }
    for (guint i = 0; i < nafter; i++) {
        if (after[i].chain && !dispatch_same(&before[i], &after[i]))
            dispatch_write(s, &after[i], TRUE);
    }
    dispatch_clear(before, nbefore);
    dispatch_clear(after, nafter);
    if (new_port) {
        if (digest_changed)
            digest_write(s, ifname, NULL, new_port->digest);
        g_hash_table_insert(state->ports, g_strdup(ifname), g_steal_pointer(&next));
    }
}

/* --- groups rewritten in place ------------------------------------------- */

/* Where an old group's users go: "" when not all to one new group, or
 * when one of them does not hold exactly the elements the group's chains
 * call for (its own commands could then name a renamed chain, which nft
 * only knows under its old name until the batch ends). */
typedef struct {
    char *target;
    guint moving;          /* users of the group in the transaction */
} Move;

/* Whether port OLD, a user of group NAME (G), holds the dispatch elements
 * of G's chains, and its id. */
static gboolean
move_user_consistent(const NwfNftPortState *old, const char *name, const NwfNftGroup *g)
{
    g_autofree char *mark = nwf_nft_chain_mark(name);

    for (NwfEthDir dir = 0; dir < NWF_ETH_DIR_LAST; dir++) {
        g_autofree char *root = nwf_nft_chain_eth(name, dir);
        if (old->dispatch[dir] != has_chain(g->chains[NWF_NFT_BRIDGE], root))
            return FALSE;
    }
    return old->mark_dispatch == has_chain(g->chains[NWF_NFT_BRIDGE], mark) &&
           (!g->id || old->id == g->id);
}

static void
move_free(gpointer data)
{
    Move *m = data;

    g_free(m->target);
    g_free(m);
}

/* RULE with every jump or goto to a chain of group TO that KEEP (chain
 * names of group FROM) holds under FROM's name turned to that name:
 * renamed chains are known to nft under their old name until the batch
 * ends. Only our own text is looked at, not a user comment. */
static char *
rule_retarget(const char *rule, const char *from, const char *to, GHashTable *keep)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const char *comment = strstr(rule, " comment \"");
    gsize own = comment ? (gsize)(comment - rule) : strlen(rule);
    gsize to_len = strlen(to);
    gsize i = 0;

    while (i < own) {
        const char *verb = NULL;
        if (strncmp(rule + i, "jump ", 5) == 0 || strncmp(rule + i, "goto ", 5) == 0)
            verb = rule + i;
        if (verb && strncmp(verb + 5, to, to_len) == 0 && verb[5 + to_len] == '/') {
            gsize len = strcspn(verb + 5 + to_len, " ");
            g_autofree char *old = g_strdup_printf("%s%.*s", from, (int)len, verb + 5 + to_len);
            g_string_append_len(out, verb, 5);
            g_string_append(out, g_hash_table_contains(keep, old) ? old : "");
            if (!g_hash_table_contains(keep, old))
                g_string_append_len(out, verb + 5, to_len + len);
            i += 5 + to_len + len;
            continue;
        }
        g_string_append_c(out, rule[i++]);
    }
    g_string_append(out, rule + own);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The name chain NAME of group TO has while the batch runs: FROM's chain
 * of the same suffix when it is kept (renamed at the end), else NAME. */
static char *
move_chain_name(const char *name, const char *from, const char *to, GHashTable *keep)
{
    g_autofree char *old = g_strdup_printf("%s%s", from, name + strlen(to));

    return g_strdup(g_hash_table_contains(keep, old) ? old : name);
}

/* Whether group FROM (G) can become PORT's group in place: every port
 * element pointing into it (ethernet dispatch, mark) still finds its chain,
 * and an id is at hand when the new group has an IP layer. *ID: the id. */
static gboolean
move_possible(const NwfNftState *state, const char *from, const NwfNftGroup *g,
              const NwfNftPort *port, guint *id)
{
    gboolean ip = port->ip[NWF_IP_V4] || port->ip[NWF_IP_V6];

    for (NwfEthDir dir = 0; dir < NWF_ETH_DIR_LAST; dir++) {
        g_autofree char *old = nwf_nft_chain_eth(from, dir);
        if (has_chain(g->chains[NWF_NFT_BRIDGE], old) && !port->eth[dir])
            return FALSE;
    }
    if (g->id && !ip)
        return FALSE;
    *id = !ip ? 0 : g->id ? g->id : nwf_nft_state_free_id(state);
    return !ip || *id;
}

/* Rewrite group FROM in place into PORT's group (named PORT->group) with id
 * ID, and update STATE. */
static void
group_move(GString *s, NwfNftState *state, const char *from, const NwfNftPort *port, guint id)
{
    NwfNftGroup *g = g_hash_table_lookup(state->groups, from);
    const char *to = port->group;
    g_autofree char *old_mark = nwf_nft_chain_mark(from);
    g_autofree char *new_mark = nwf_nft_chain_mark(to);
    GHashTable *keep[NWF_NFT_TABLE_LAST];
    GHashTable *want[NWF_NFT_TABLE_LAST];
    char *named[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST];
    NwfNftGroup *moved;

    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++) {
        keep[t] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        want[t] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    for (guint i = 0; i < port->group_chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(port->group_chains, i);
        g_autofree char *old = g_strdup_printf("%s%s", from, chain->name + strlen(to));
        g_hash_table_add(want[chain->table], g_strdup(chain->name));
        if (has_chain(g->chains[chain->table], old))
            g_hash_table_add(keep[chain->table], g_steal_pointer(&old));
    }
    if (id) {
        g_hash_table_add(want[NWF_NFT_BRIDGE], g_strdup(new_mark));
        if (g->id)
            g_hash_table_add(keep[NWF_NFT_BRIDGE], g_strdup(old_mark));
    }

    /* 1. IP-layer elements into chains that go */
    if (g->id) {
        ip_named(named, from, g->chains[NWF_NFT_INET]);
        for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
            for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
                if (named[fam][c] && has_chain(keep[NWF_NFT_INET], named[fam][c]))
                    g_clear_pointer(&named[fam][c], g_free);
            }
        }
        ip_elements_write(s, g->id, named, FALSE);
        ip_named_clear(named);
    }
    /* 2. the old chains emptied (but the mark chain, which stays as it is),
     * those without a counterpart deleted; the new ones made */
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++) {
        g_autoptr(GHashTable) flush = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer name;
        g_hash_table_iter_init(&iter, g->chains[t]);
        while (g_hash_table_iter_next(&iter, &name, NULL)) {
            if (strcmp(name, old_mark) != 0 || !g_hash_table_contains(keep[t], name))
                g_hash_table_add(flush, name);
        }
        chains_remove(s, t, flush, keep[t]);
    }
    for (guint i = 0; i < port->group_chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(port->group_chains, i);
        g_autofree char *name = move_chain_name(chain->name, from, to, keep[chain->table]);
        if (strcmp(name, chain->name) == 0)
            g_string_append_printf(s, "add chain %s " NWF_NFT_TABLE_NAME " %s\n",
                                   table_family[chain->table], chain->name);
    }
    if (id && !g->id)
        g_string_append_printf(s, "add chain bridge " NWF_NFT_TABLE_NAME " %s\n", new_mark);
    /* 3. the new rules, then the mark and the IP-layer elements */
    for (guint i = 0; i < port->group_chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(port->group_chains, i);
        g_autofree char *name = move_chain_name(chain->name, from, to, keep[chain->table]);
        for (guint j = 0; j < chain->rules->len; j++) {
            g_autofree char *rule = rule_retarget(g_ptr_array_index(chain->rules, j), from, to,
                                                  keep[chain->table]);
            g_string_append_printf(s, "add rule %s " NWF_NFT_TABLE_NAME " %s %s\n",
                                   table_family[chain->table], name, rule);
        }
    }
    if (id && !g->id)
        mark_chain_write(s, to, id, FALSE);
    if (id) {
        ip_named(named, to, want[NWF_NFT_INET]);
        for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
            for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
                g_autofree char *old = NULL;
                if (!named[fam][c])
                    continue;
                old = nwf_nft_chain_ip(from, fam, c);
                if (g->id && has_chain(keep[NWF_NFT_INET], old)) {
                    g_clear_pointer(&named[fam][c], g_free);
                } else if (has_chain(keep[NWF_NFT_INET], old)) {
                    g_free(named[fam][c]);
                    named[fam][c] = g_steal_pointer(&old);
                }
            }
        }
        ip_elements_write(s, id, named, TRUE);
        ip_named_clear(named);
    }
    /* 4. the kept chains take the new names */
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++) {
        g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(keep[t]),
                                             (GCompareFunc)g_strcmp0);
        for (GList *l = names; l; l = l->next)
            g_string_append_printf(s, "rename chain %s " NWF_NFT_TABLE_NAME " %s %s%s\n",
                                   table_family[t], (const char *)l->data, to,
                                   (const char *)l->data + strlen(from));
    }

    moved = nwf_nft_state_group(state, to);
    moved->users = g->users;
    moved->id = id;
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++) {
        g_hash_table_unref(moved->chains[t]);
        moved->chains[t] = want[t];
        g_hash_table_unref(keep[t]);
    }
    g_hash_table_remove(state->groups, from);
}

void
nwf_nft_script_moves(GString *s, NwfNftState *state, GHashTable *final)
{
    g_autoptr(GHashTable) moves = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                        move_free);
    g_autoptr(GHashTable) rendering = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) joining = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GList) froms = NULL;
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init(&iter, final);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const NwfNftPortState *old = g_hash_table_lookup(state->ports, key);
        const NwfNftPort *port = value;
        const char *to = port && port->group ? port->group : "";
        const NwfNftGroup *g;
        Move *m;
        if (*to)
            g_hash_table_insert(joining, (gpointer)to, GUINT_TO_POINTER(
                GPOINTER_TO_UINT(g_hash_table_lookup(joining, to)) + 1));
        if (!old || !old->group)
            continue;
        g = g_hash_table_lookup(state->groups, old->group);
        if (!g || !move_user_consistent(old, old->group, g))
            to = "";
        m = g_hash_table_lookup(moves, old->group);
        if (!m) {
            m = g_new0(Move, 1);
            m->target = g_strdup(to);
            g_hash_table_insert(moves, g_strdup(old->group), m);
        } else if (strcmp(m->target, to) != 0) {
            g_free(m->target);
            m->target = g_strdup("");
        }
        m->moving++;
        if (*to)
            g_hash_table_insert(rendering, port->group, (gpointer)port);
    }
    /* in a fixed order, so that the same change writes the same script */
    froms = g_list_sort(g_hash_table_get_keys(moves), (GCompareFunc)g_strcmp0);
    for (GList *l = froms; l; l = l->next) {
        const char *from = l->data;
        const Move *m = g_hash_table_lookup(moves, from);
        const NwfNftGroup *g = g_hash_table_lookup(state->groups, from);
        const NwfNftPort *port = g_hash_table_lookup(rendering, m->target);
        guint id = 0;
        if (!*m->target || !g || m->moving != g->users || strcmp(m->target, from) == 0 ||
            g_hash_table_contains(state->groups, m->target) ||
            GPOINTER_TO_UINT(g_hash_table_lookup(joining, m->target)) != m->moving ||
            !move_possible(state, from, g, port, &id))
            continue;
        /* value sets the new rules look up */
        sets_ensure(s, state, port);
        group_move(s, state, from, port, id);
        g_hash_table_iter_init(&iter, final);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
            NwfNftPortState *old = g_hash_table_lookup(state->ports, key);
            if (old && g_strcmp0(old->group, from) == 0) {
                g_free(old->group);
                old->group = g_strdup(m->target);
            }
        }
    }
}

/* --- element commands merged ---------------------------------------------- */

/* The element commands of one verb on one map or set. */
typedef struct {
    char *head;            /* "add element bridge nwfilter mark_to" */
    GString *elements;     /* "e1, e2, ..." */
} ElementBatch;

static void
element_batch_free(gpointer data)
{
    ElementBatch *batch = data;

    g_free(batch->head);
    g_string_free(batch->elements, TRUE);
    g_free(batch);
}

/* The key of ELEMENT (what a later delete names): before " : " in a map,
 * before " comment " otherwise. */
static char *
element_key(const char *element, gsize len)
{
    const char *end = g_strstr_len(element, (gssize)len, " : ");

    if (!end)
        end = g_strstr_len(element, (gssize)len, " comment ");
    return g_strndup(element, end ? (gsize)(end - element) : len);
}

static void
element_batch_add(GPtrArray *batches, GHashTable *index, const char *head, gsize head_len,
                  const char *element, gsize len)
{
    g_autofree char *name = g_strndup(head, head_len);
    ElementBatch *batch = g_hash_table_lookup(index, name);

    if (!batch) {
        batch = g_new0(ElementBatch, 1);
        batch->head = g_steal_pointer(&name);
        batch->elements = g_string_new(NULL);
        g_ptr_array_add(batches, batch);
        g_hash_table_insert(index, batch->head, batch);
    } else {
        g_string_append(batch->elements, ", ");
    }
    g_string_append_len(batch->elements, element, (gssize)len);
}

static void
element_batches_write(GString *s, GPtrArray *batches)
{
    for (guint i = 0; i < batches->len; i++) {
        const ElementBatch *batch = g_ptr_array_index(batches, i);
        g_string_append_printf(s, "%s { %s }\n", batch->head, batch->elements->str);
    }
}

void
nwf_nft_script_merge_elements(GString *script, const char *text)
{
    g_autoptr(GPtrArray) deletes = g_ptr_array_new_with_free_func(element_batch_free);
    g_autoptr(GPtrArray) adds = g_ptr_array_new_with_free_func(element_batch_free);
    g_autoptr(GHashTable) delete_index = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) add_index = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) added = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GString) rest = g_string_new(NULL);

    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        gsize len = end ? (gsize)(end - line) : strlen(line);
        gboolean add = g_str_has_prefix(line, "add element ");
        const char *open = (add || g_str_has_prefix(line, "delete element "))
            ? memchr(line, '{', len) : NULL;

        if (open && len >= 2 && line[len - 1] == '}' && open > line && open[-1] == ' ') {
            /* "<head> { <element> }": our own commands, one element each */
            const char *element = open + 2;
            gsize element_len = (gsize)(line + len - 2 - element);
            g_autofree char *head = g_strndup(line, (gsize)(open - 1 - line));
            g_autofree char *key = element_key(element, element_len);
            const char *set = head + strlen(add ? "add element " : "delete element ");
            char *full = g_strdup_printf("%s\t%s", set, key);

            if (add) {
                g_hash_table_add(added, full);
                element_batch_add(adds, add_index, head, strlen(head), element, element_len);
            } else {
                gboolean after_add = g_hash_table_contains(added, full);
                g_free(full);
                if (after_add) {
                    g_string_append(script, text);
                    return;
                }
                element_batch_add(deletes, delete_index, head, strlen(head), element,
                                  element_len);
            }
        } else {
            g_string_append_len(rest, line, (gssize)len);
            g_string_append_c(rest, '\n');
        }
        line += len + (end ? 1 : 0);
    }
    element_batches_write(script, deletes);
    g_string_append_len(script, rest->str, (gssize)rest->len);
    element_batches_write(script, adds);
}
