/* nft command scripts: the skeleton of our two tables (created once), and
 * the commands that take one port from what the kernel holds to what its
 * new rule program needs. A port's chains keep their names across updates,
 * so an update flushes and refills them and touches a dispatch element only
 * when a chain appears or goes; everything lands in one atomic batch. */
#include "config.h"

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

/* Dispatch elements follow their chains: an element exists exactly when its
 * chain does, so the chain sets say which elements to add and delete. */
typedef struct {
    NwfNftTable table;
    const char *map;
    char *chain;          /* the chain the element points to */
    char *key;            /* element key text */
    const char *verdict;  /* "jump" or "goto" */
    char *extra;          /* a second map with the same key, value text (port_ids) */
    gboolean by_id;       /* keyed by (or carrying) the port id */
} Element;

static void
elements_clear(GPtrArray *elements)
{
    for (guint i = 0; i < elements->len; i++) {
        Element *e = g_ptr_array_index(elements, i);
        g_free(e->chain);
        g_free(e->key);
        g_free(e->extra);
        g_free(e);
    }
    g_ptr_array_set_size(elements, 0);
}

static void
element_add(GPtrArray *elements, NwfNftTable table, const char *map, char *chain, char *key,
            const char *verdict)
{
    Element *e = g_new0(Element, 1);

    e->table = table;
    e->map = map;
    e->chain = chain;
    e->key = key;
    e->verdict = verdict;
    g_ptr_array_add(elements, e);
}

/* Every element a port with id ID can have. */
static void
elements_all(GPtrArray *elements, const char *ifname, guint id)
{
    g_autofree char *quoted = g_strdup_printf("\"%s\"", ifname);

    for (NwfEthDir dir = 0; dir < NWF_ETH_DIR_LAST; dir++)
        element_add(elements, NWF_NFT_BRIDGE, dir == NWF_ETH_VM_OUT ? "eth_out" : "eth_in",
                    nwf_nft_chain_eth(ifname, dir), g_strdup(quoted), "jump");
    element_add(elements, NWF_NFT_BRIDGE, "mark_to", nwf_nft_chain_mark(ifname),
                g_strdup(quoted), "goto");
    ((Element *)g_ptr_array_index(elements, elements->len - 1))->extra =
        g_strdup_printf("0x%08x", id);
    ((Element *)g_ptr_array_index(elements, elements->len - 1))->by_id = TRUE;
    for (NwfIpFamily fam = 0; fam < NWF_IP_FAMILY_LAST; fam++) {
        for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            element_add(elements, NWF_NFT_INET, ip_maps[fam][c],
                        nwf_nft_chain_ip(ifname, fam, c),
                        g_strdup_printf("0x%08x", ip_map_key(c, id)), "jump");
            ((Element *)g_ptr_array_index(elements, elements->len - 1))->by_id = TRUE;
        }
    }
}

static gboolean
state_has(const NwfNftPortState *state, NwfNftTable table, const char *chain)
{
    return state && g_hash_table_contains(state->chains[table], chain);
}

static void
element_write(GString *s, const Element *e, gboolean add)
{
    const char *cmd = add ? "add" : "delete";

    if (add)
        g_string_append_printf(s, "%s element %s " NWF_NFT_TABLE_NAME " %s { %s : %s %s }\n",
                               cmd, table_family[e->table], e->map, e->key, e->verdict, e->chain);
    else
        g_string_append_printf(s, "%s element %s " NWF_NFT_TABLE_NAME " %s { %s }\n",
                               cmd, table_family[e->table], e->map, e->key);
    if (!e->extra)
        return;
    if (add)
        g_string_append_printf(s, "add element bridge " NWF_NFT_TABLE_NAME
                               " port_ids { %s : %s }\n", e->key, e->extra);
    else
        g_string_append_printf(s, "delete element bridge " NWF_NFT_TABLE_NAME
                               " port_ids { %s }\n", e->key);
}

NwfNftPortState *
nwf_nft_port_state_of(const NwfNftPort *port, guint id)
{
    NwfNftPortState *state = nwf_nft_port_state_new();

    for (guint i = 0; i < port->chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(port->chains, i);
        g_hash_table_add(state->chains[chain->table], g_strdup(chain->name));
    }
    for (guint i = 0; i < port->sets->len; i++)
        g_hash_table_add(state->sets, g_strdup(((NwfNftSet *)g_ptr_array_index(port->sets, i))->name));
    if (port->ip[NWF_IP_V4] || port->ip[NWF_IP_V6]) {
        g_hash_table_add(state->chains[NWF_NFT_BRIDGE], nwf_nft_chain_mark(port->ifname));
        state->id = id;
    }
    state->digest = g_strdup(port->digest);
    return state;
}

static void
set_elements_write(GString *s, const NwfNftSet *set)
{
    if (set->elements->len == 0)
        return;
    g_string_append_printf(s, "add element bridge " NWF_NFT_TABLE_NAME " %s { ", set->name);
    for (guint i = 0; i < set->elements->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", (const char *)g_ptr_array_index(set->elements, i));
    g_string_append(s, " }\n");
}

static void
digest_write(GString *s, const char *ifname, const NwfNftPortState *old, const char *digest)
{
    if (old && old->digest)
        g_string_append_printf(s, "delete element bridge " NWF_NFT_TABLE_NAME
                               " port_digests { \"%s\" }\n", ifname);
    if (digest)
        g_string_append_printf(s, "add element bridge " NWF_NFT_TABLE_NAME
                               " port_digests { \"%s\" comment \"%s\" }\n", ifname, digest);
}

/* NEW_PORT differs from what OLD holds only in set elements: same shape
 * digest, every chain and set already there, the same id. */
static gboolean
port_same_shape(const NwfNftPortState *old, const NwfNftPort *new_port, guint id)
{
    if (!old || !new_port || !nwf_nft_digest_same_shape(old->digest, new_port->digest))
        return FALSE;
    if ((new_port->ip[NWF_IP_V4] || new_port->ip[NWF_IP_V6]) && old->id != id)
        return FALSE;
    for (guint i = 0; i < new_port->chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(new_port->chains, i);
        if (!state_has(old, chain->table, chain->name))
            return FALSE;
    }
    for (guint i = 0; i < new_port->sets->len; i++) {
        if (!g_hash_table_contains(old->sets,
                                   ((NwfNftSet *)g_ptr_array_index(new_port->sets, i))->name))
            return FALSE;
    }
    return TRUE;
}

void
nwf_nft_script_port(GString *s, const char *ifname, const NwfNftPortState *old,
                    const NwfNftPort *new_port, guint id)
{
    g_autoptr(NwfNftPortState) new_state = NULL;
    g_autoptr(GPtrArray) elements = g_ptr_array_new();
    gboolean has_ip = new_port && (new_port->ip[NWF_IP_V4] || new_port->ip[NWF_IP_V6]);

    /* an address change: new set elements, chains untouched */
    if (port_same_shape(old, new_port, id)) {
        for (guint i = 0; i < new_port->sets->len; i++) {
            const NwfNftSet *set = g_ptr_array_index(new_port->sets, i);
            g_string_append_printf(s, "flush set bridge " NWF_NFT_TABLE_NAME " %s\n", set->name);
            set_elements_write(s, set);
        }
        digest_write(s, ifname, old, new_port->digest);
        return;
    }
    new_state = new_port ? nwf_nft_port_state_of(new_port, id) : nwf_nft_port_state_new();

    /* 1. dispatch elements whose chain goes away (under the old id) */
    if (old) {
        elements_all(elements, ifname, old->id);
        for (guint i = 0; i < elements->len; i++) {
            Element *e = g_ptr_array_index(elements, i);
            if (state_has(old, e->table, e->chain) &&
                (!state_has(new_state, e->table, e->chain) || (e->by_id && old->id != id)))
                element_write(s, e, FALSE);
        }
        elements_clear(elements);
    }
    digest_write(s, ifname, old, NULL);
    /* 2. empty every old chain (jumps between them go first), 3. delete
     * those the new program does not have */
    for (NwfNftTable t = 0; old && t < NWF_NFT_TABLE_LAST; t++) {
        GHashTableIter iter;
        gpointer name;
        g_hash_table_iter_init(&iter, old->chains[t]);
        while (g_hash_table_iter_next(&iter, &name, NULL))
            g_string_append_printf(s, "flush chain %s " NWF_NFT_TABLE_NAME " %s\n",
                                   table_family[t], (const char *)name);
    }
    for (NwfNftTable t = 0; old && t < NWF_NFT_TABLE_LAST; t++) {
        GHashTableIter iter;
        gpointer name;
        g_hash_table_iter_init(&iter, old->chains[t]);
        while (g_hash_table_iter_next(&iter, &name, NULL)) {
            if (!state_has(new_state, t, name))
                g_string_append_printf(s, "delete chain %s " NWF_NFT_TABLE_NAME " %s\n",
                                       table_family[t], (const char *)name);
        }
    }
    /* 3b. the old sets, no rule refers to them any more */
    if (old) {
        GHashTableIter iter;
        gpointer name;
        g_hash_table_iter_init(&iter, old->sets);
        while (g_hash_table_iter_next(&iter, &name, NULL))
            g_string_append_printf(s, "delete set bridge " NWF_NFT_TABLE_NAME " %s\n",
                                   (const char *)name);
    }
    if (!new_port)
        return;
    /* 4. the sets with their elements, new chains, 5. every rule */
    for (guint i = 0; i < new_port->sets->len; i++) {
        const NwfNftSet *set = g_ptr_array_index(new_port->sets, i);
        g_string_append_printf(s, "add set bridge " NWF_NFT_TABLE_NAME " %s { typeof %s; }\n",
                               set->name, set->type);
        set_elements_write(s, set);
    }
    for (guint i = 0; i < new_port->chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(new_port->chains, i);
        if (!state_has(old, chain->table, chain->name))
            g_string_append_printf(s, "add chain %s " NWF_NFT_TABLE_NAME " %s\n",
                                   table_family[chain->table], chain->name);
    }
    if (has_ip) {
        g_autofree char *mark = nwf_nft_chain_mark(ifname);
        if (!state_has(old, NWF_NFT_BRIDGE, mark))
            g_string_append_printf(s, "add chain bridge " NWF_NFT_TABLE_NAME " %s\n", mark);
        g_string_append_printf(s, "add rule bridge " NWF_NFT_TABLE_NAME
                               " %s meta mark set meta mark & 0x0000ffff | 0x%08x\n",
                               mark, id << 16);
    }
    for (guint i = 0; i < new_port->chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(new_port->chains, i);
        for (guint j = 0; j < chain->rules->len; j++)
            g_string_append_printf(s, "add rule %s " NWF_NFT_TABLE_NAME " %s %s\n",
                                   table_family[chain->table], chain->name,
                                   (const char *)g_ptr_array_index(chain->rules, j));
    }
    /* 6. dispatch elements for chains that are new (or whose id changed) */
    elements_all(elements, ifname, id);
    for (guint i = 0; i < elements->len; i++) {
        Element *e = g_ptr_array_index(elements, i);
        if (state_has(new_state, e->table, e->chain) &&
            (!state_has(old, e->table, e->chain) || (e->by_id && old->id != id)))
            element_write(s, e, TRUE);
    }
    elements_clear(elements);
    digest_write(s, ifname, NULL, new_port->digest);
}
