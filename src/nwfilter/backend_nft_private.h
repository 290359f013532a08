/* Internals of the nftables backend, shared by its files:
 *   backend_nft_render.c   rule program -> per-port chains and rule text
 *   backend_nft_script.c   the owned tables' skeleton and per-port scripts
 *   backend_nft_state.c    what our tables hold now (read back once, cached)
 *   backend_nft_probe.c    kernel feature detection
 *   backend_nft.c          context, transactions, the backend vtable */
#pragma once

#include <nftables/libnftables.h>

#include "nwfilter/backend.h"
#include "nwfilter/backend_nft.h"

/* The two tables we own. */
typedef enum {
    NWF_NFT_BRIDGE,        /* table bridge nwfilter: ethernet layer, port marks */
    NWF_NFT_INET,          /* table inet nwfilter: IPv4/IPv6 layers */
    NWF_NFT_TABLE_LAST
} NwfNftTable;

#define NWF_NFT_TABLE_NAME "nwfilter"

/* Ids live in the packet mark: the sending port's id in the low half, the
 * receiving port's id in the high half. A port in a group carries the
 * group's id (the IP-layer dispatch is per group); a port with chains of
 * its own (counters) has an id of its own. Both come from one space. */
#define NWF_NFT_PORT_ID_MAX 0xffff

/* A port's values in one of the bridge table's value sets. The sets are
 * shared by all ports and keyed by port: "v/<dir>/<fields>/<slot>", typeof
 * "iifname . <fields>" (VM-out) or "oifname . <fields>" (VM-in). */
typedef struct {
    char *name;
    char *type;            /* "iifname . ip saddr" */
    GPtrArray *elements;   /* char*, the port's values without the port key, each once */
} NwfNftSet;

typedef struct {
    NwfNftTable table;
    char *name;
    GPtrArray *rules;      /* char*, rule text without "add rule T C" */
    /* while rendering: the set of the chain's last rule, the chain length
     * after that rule and its shape, to merge a list's next value */
    NwfNftSet *last_set;
    guint last_len;
    char *last_shape;
} NwfNftChain;

/* Everything one port's rule program puts into our tables, except what
 * depends on the port's id (its mark chain and the id-keyed elements).
 * The chains are shared by every port with the same rendering (a group,
 * "shared-<hash>/..."), unless counters are on: then each port has its own
 * ("<if>/..."), so that counts stay per port. */
typedef struct {
    char *ifname;
    GPtrArray *chains;     /* NwfNftChain*, the port's own chains */
    char *group;           /* shared chains' group; NULL: none */
    GPtrArray *group_chains;   /* NwfNftChain*, the group's chains (empty without) */
    gboolean eth[NWF_ETH_DIR_LAST];    /* root chain present: dispatch element */
    gboolean ip[NWF_IP_FAMILY_LAST];   /* IP layer present: three chains + elements */
    GPtrArray *sets;       /* NwfNftSet*, the port's values */
    char *digest;          /* "<shape>/<values>" digests of the above, kept in the kernel */
} NwfNftPort;

/* Hex digits kept of the values digest (a rule comment holds 128 bytes). */
#define NWF_NFT_VALUES_DIGEST_LEN 32

/* Whether digests A and B have the same shape part (then only set elements
 * differ). */
gboolean nwf_nft_digest_same_shape(const char *a, const char *b);

void nwf_nft_port_free(NwfNftPort *port);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfNftPort, nwf_nft_port_free)

/* Whether IFNAME can name our chains (nft identifiers: a letter, '_' or '.'
 * first, then letters, digits, '_', '.', '-'). Sets an error otherwise. */
gboolean nwf_nft_ifname_check(const char *ifname, GError **error);

/* Chain names. Interface names cannot contain '/', so "<if>/..." never
 * collides between ports; a group's prefix is longer than any interface
 * name, so group chains never collide with a port's. */
#define NWF_NFT_GROUP_PREFIX "shared-"
char *nwf_nft_chain_eth(const char *ifname, NwfEthDir dir);
char *nwf_nft_chain_eth_sub(const char *ifname, NwfEthDir dir, const char *suffix);
char *nwf_nft_chain_ip(const char *ifname, NwfIpFamily family, NwfIpChain chain);
char *nwf_nft_chain_mark(const char *ifname);

/* Render PROGRAM. COUNTERS adds a counter to every rule. */
NwfNftPort *nwf_nft_port_render(const NwfRuleProgram *program, gboolean counters,
                                GError **error);

/* Provenance comment of a rule: "<filter> <priority>[ <user comment>]". */
char *nwf_nft_rule_comment(const NwfRuleInst *rule);

/* --- kernel state (cache) --- */

/* What one port holds in our tables. */
typedef struct {
    GHashTable *chains[NWF_NFT_TABLE_LAST];   /* the port's own chain names */
    char *group;                              /* group its ethernet dispatch uses */
    /* dispatch elements present: eth_out / eth_in, mark_to, the IP maps */
    gboolean dispatch[NWF_ETH_DIR_LAST];
    gboolean mark_dispatch;
    gboolean ip_dispatch[NWF_IP_FAMILY_LAST][NWF_IP_CHAIN_LAST];
    GHashTable *elements;                     /* "<set>\t<element>" value elements */
    guint id;                                 /* 0: no id (no IP layer) */
    char *digest;                             /* of the port's rendering; NULL: none */
} NwfNftPortState;

/* Shared chains. */
typedef struct {
    GHashTable *chains[NWF_NFT_TABLE_LAST];   /* chain names */
    guint users;           /* ports whose dispatch points into the group */
    guint id;              /* IP-layer id (its mark chain, inet map keys); 0: none */
} NwfNftGroup;

typedef struct {
    gboolean tables;       /* both tables and their skeleton exist */
    gboolean digest_set;   /* the port_digests set exists (older tables lack it) */
    GHashTable *ports;     /* ifname -> NwfNftPortState* */
    GHashTable *groups;    /* group name -> NwfNftGroup* */
    GHashTable *sets;      /* value set names that exist */
} NwfNftState;

NwfNftPortState *nwf_nft_port_state_new(void);
void nwf_nft_port_state_free(NwfNftPortState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfNftPortState, nwf_nft_port_state_free)

NwfNftState *nwf_nft_state_new(void);
void nwf_nft_state_free(NwfNftState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfNftState, nwf_nft_state_free)

/* The group NAME of STATE, made (empty, no user) when missing. */
NwfNftGroup *nwf_nft_state_group(NwfNftState *state, const char *name);

/* Give a new STATE its (empty) group table. */
void nwf_nft_state_init_groups(NwfNftState *state);

/* Read our tables' chains and port ids from the kernel. */
NwfNftState *nwf_nft_state_load(struct nft_ctx *ctx, GError **error);

/* The lowest id no port or group in STATE uses; 0 when all are taken. */
guint nwf_nft_state_free_id(const NwfNftState *state);

/* Run CMDS in CTX; on failure set an error quoting nft's message. WHAT says
 * what was being done ("apply", "read"). Output (if any) goes to *OUTPUT. */
gboolean nwf_nft_run(struct nft_ctx *ctx, const char *cmds, const char *what, char **output,
                     GError **error);

/* Append to OUT (NwfNftRuleStats*) the rules of a "list chain CHAIN" output
 * that carry a counter and our provenance comment. */
void nwf_nft_stats_parse(GPtrArray *out, const char *chain, const char *listing);

/* --- scripts --- */

/* Commands creating both tables, their maps, base chains and dispatch. */
void nwf_nft_script_skeleton(GString *script);

/* Append the commands turning port IFNAME from what STATE holds into
 * NEW_PORT (NULL: nothing) with id ID (when NEW_PORT has an IP layer), and
 * update STATE (groups, sets, the port) to what the kernel holds after. */
void nwf_nft_script_port(GString *script, NwfNftState *state, const char *ifname,
                         const NwfNftPort *new_port, guint id);

/* Before the ports' own commands: every group all of whose users move to
 * one new rendering that no group has yet is rewritten in place (its
 * chains flushed, refilled and renamed), so the ports' dispatch elements,
 * which point to the chains themselves, stay as they are. FINAL maps each
 * port of the transaction to its new rendering (NULL: removed). Updates
 * STATE (the group's name, its users' group). */
void nwf_nft_script_moves(GString *script, NwfNftState *state, GHashTable *final);

/* Append the per-port commands TEXT (what nwf_nft_script_port() wrote for
 * a batch) to SCRIPT with their element commands merged: every "delete
 * element" first, one command per map or set, then the other commands in
 * their order, then every "add element", one command per map or set. The
 * same changes, but nft parses and the kernel takes a few commands instead
 * of several per port. Deletions reference no chain and additions come
 * after every chain exists, so moving them is safe; TEXT goes unchanged
 * when an element is deleted after being added in it (the order would
 * then matter). */
void nwf_nft_script_merge_elements(GString *script, const char *text);

/* Element text of a port's value: "\"<if>\" . <value>". */
char *nwf_nft_value_element(const char *ifname, const char *value);

/* --- probe --- */

/* Check the kernel accepts what the layout needs; fills FEATURES but the
 * bridge extras. */
gboolean nwf_nft_probe_kernel(struct nft_ctx *ctx, NwfNftFeatures *features, GError **error);

/* Fill the bridge_* features (reported only, not used by the layout). */
void nwf_nft_probe_bridge_extras(struct nft_ctx *ctx, NwfNftFeatures *features);
