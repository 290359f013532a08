/* The rule program: what one port's filter tree compiles to, independent of
 * any firewall tool. compile (src/nwfilter/compile*.c) makes every semantic
 * decision libvirt makes; a backend only translates this structure into its
 * own syntax and must not reorder, drop, add or rewrite rules (apart from
 * the syntax-level mappings noted below).
 *
 * Decisions already taken by compile, so backends never repeat them:
 *   - which chain each rule instance lands in (direction, ICMP-type skips,
 *     connlimit placement, explicit state mode, statematch='false');
 *   - mirrored (swapped) copies: src/dst addresses, masks, ranges, ports,
 *     ARP src/dst fields and ipset flag positions already exchanged, and
 *     srcmacaddr already dropped from iptables-layer swapped copies;
 *   - conntrack state and direction per copy (ct_state / ct_dir);
 *   - at the IP layers, an ipset without ipsetflags gets the flags "src";
 *   - variables expanded (one rule per value combination, duplicates
 *     suppressed) and every value parsed and validated against its
 *     attribute's datatype;
 *   - ordering: priority sort, sub-chain creation and the interleaving of
 *     root-chain rules with sub-chain jumps.
 *
 * Left to the backend (pure syntax):
 *   - chain names (libvirt-I-<if>, FI-<if>, nft chain names ...);
 *   - action mapping: at the ethernet layer reject is DROP (bridges cannot
 *     reject); at the IP layers accept in FROM_VM/TO_HOST is RETURN in
 *     ebiptables syntax, continue is "no verdict";
 *   - making a sub-chain that runs out of rules return to its caller.
 *
 * Direction vocabulary: "VM-out" = frames sent by the guest (libvirt's I/J
 * chains, XML direction 'out'); "VM-in" = frames sent to the guest (O/P
 * chains, XML direction 'in'). */
#pragma once

#include <glib.h>

#include "conf/nwfilter_def.h"

/* Conntrack direction match of one rule copy. */
typedef enum {
    NWF_CT_DIR_NONE,       /* no direction match */
    NWF_CT_DIR_ORIGINAL,   /* packet travels in the connection's original direction */
    NWF_CT_DIR_REPLY,      /* packet travels in the reply direction */
} NwfCtDir;

/* Where a rule instance came from, for trace/stats/fingerprint output. */
typedef struct {
    char *filter;          /* name of the filter holding the <rule> */
    char *chain;           /* that filter's chain attribute: "root", "arp-xyz" */
    int priority;          /* the rule's priority as written (before any
                            * chain-priority adjustment) */
    int line;              /* line of <rule> in the filter's XML, 0 if unknown */
    char *vars;            /* the variable values this instance used, as
                            * "A=1.1.1.1 B=80" in first-use order; "" when the
                            * rule uses no variable. Never NULL. */
} NwfRuleOrigin;

/* One concrete rule in one chain. */
typedef struct {
    NwfProtocol protocol;
    /* The XML action, unmapped (see the header comment for the mappings a
     * backend applies). */
    NwfAction action;
    /* Resolved typed values, read with nwf_rule_field(): every present
     * field has var == NULL and a value already validated with
     * nwf_value_parse() semantics. Fields are already swapped where the
     * chain needs it. NWF_FIELD_STATE is never present: the state to match
     * is ct_state. Negation is per field (negated). Masks and range ends
     * carry their partner's negation.
     * Stored sparsely (a rule sets a handful of the fields and a port has
     * tens of rules): bit F of field_set says values holds field F, at the
     * index of the bits below F. */
    guint64 field_set;
    NwfValue *values;
    /* Bit F set: field F's value came from a variable (a per-port value
     * such as $IP or $MAC), so a backend may keep it out of the rule text
     * (e.g. in a set) and change it without rebuilding the rule. Follows
     * the fields when a copy is mirrored. */
    guint64 var_fields;
    /* NWF_STATE_* bits to match with conntrack; 0 = no state match.
     * Never contains NWF_STATE_NONE (compile turns NONE into 0). Only used
     * at the IP layers. */
    guint ct_state;
    NwfCtDir ct_dir;       /* only at the IP layers */
    /* TRUE for a mirrored copy (src/dst exchanged by compile). Informational:
     * the fields are already swapped. */
    gboolean swapped;
    /* Global emission order within the program (libvirt's command order).
     * Strictly increasing in the order compile produced the copies across
     * ALL chains of the program, including sub-chain creation (see
     * NwfEthSubChain.seq). Only needed to reproduce libvirt's exact dry-run
     * command order; a backend that installs whole chains may ignore it. */
    guint seq;
    NwfRuleOrigin origin;
} NwfRuleInst;

/* Ethernet-layer directions (index into NwfRuleProgram.eth). */
typedef enum {
    NWF_ETH_VM_OUT = 0,    /* libvirt-I-<if> / I-<if>-<chain>; hooked on -i <if> */
    NWF_ETH_VM_IN = 1,     /* libvirt-O-<if> / O-<if>-<chain>; hooked on -o <if> */
    NWF_ETH_DIR_LAST
} NwfEthDir;

/* A protocol sub-chain of one ethernet direction (a filter with
 * chain='arp-xyz' etc.). Rules of every filter with the same chain name
 * share one sub-chain. */
typedef struct {
    char *suffix;          /* the chain name as written: "arp", "stp-xyz" */
    /* The protocol prefix of the chain: decides the jump match from the root
     * chain: MAC none (every frame), STP destination 01:80:c2:00:00:00, VLAN
     * ethertype 0x8100, ARP 0x0806, RARP 0x8035, IPV4 0x0800, IPV6 0x86dd.
     * Never NWF_CHAIN_ROOT. */
    NwfChainKind kind;
    int priority;          /* the chain priority it was ordered by */
    guint seq;             /* emission position of its creation and jump */
    GPtrArray *rules;      /* NwfRuleInst*, in chain order */
} NwfEthSubChain;

typedef enum {
    NWF_ETH_ENTRY_RULE,    /* a concrete rule in the root chain */
    NWF_ETH_ENTRY_JUMP,    /* a jump (with the kind's match) to a sub-chain */
} NwfEthEntryKind;

typedef struct {
    NwfEthEntryKind kind;
    NwfRuleInst *rule;           /* RULE: owned by the entry */
    NwfEthSubChain *subchain;    /* JUMP: owned by NwfEthChains.subchains */
} NwfEthEntry;

/* The ethernet layer of one direction. */
typedef struct {
    /* The root chain exists (and is hooked) only when at least one
     * ethernet-layer rule applies to this direction. When FALSE, entries
     * and subchains are empty. */
    gboolean present;
    GPtrArray *entries;    /* NwfEthEntry*, root chain order */
    GPtrArray *subchains;  /* NwfEthSubChain*, creation order (= jump order) */
} NwfEthChains;

/* IP layers (index into NwfRuleProgram.ip). */
typedef enum {
    NWF_IP_V4 = 0,         /* iptables */
    NWF_IP_V6 = 1,         /* ip6tables */
    NWF_IP_FAMILY_LAST
} NwfIpFamily;

/* The three per-port chains of an IP layer (index into NwfIpChains.chains). */
typedef enum {
    NWF_IP_FROM_VM = 0,    /* FI-<if>: bridged traffic from the VM */
    NWF_IP_TO_VM = 1,      /* FO-<if>: bridged traffic to the VM */
    NWF_IP_TO_HOST = 2,    /* HI-<if>: traffic from the VM to the host */
    NWF_IP_CHAIN_LAST
} NwfIpChain;

typedef struct {
    /* The tree has at least one rule of this IP version: all three chains
     * exist and are hooked even when some are empty. */
    gboolean present;
    GPtrArray *chains[NWF_IP_CHAIN_LAST];   /* NwfRuleInst*, chain order */
} NwfIpChains;

typedef struct {
    char *ifname;          /* port device (tap/veth), at most 15 characters */
    gboolean have_mac;     /* FALSE only for test compiles without a binding */
    guint8 mac[6];         /* the binding's MAC */
    NwfEthChains eth[NWF_ETH_DIR_LAST];
    NwfIpChains ip[NWF_IP_FAMILY_LAST];
    /* Names (char*) of every filter the tree reached, top-level first, each
     * once, in first-reached order. */
    GPtrArray *filters;
    guint next_seq;        /* next NwfRuleInst/NwfEthSubChain seq to hand out */
} NwfRuleProgram;

/* An empty program for IFNAME: no layer present, no rules. */
NwfRuleProgram *nwf_rule_program_new(const char *ifname);
void nwf_rule_program_free(NwfRuleProgram *program);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfRuleProgram, nwf_rule_program_free)

/* A rule with no field present, no state match, origin strings empty. */
NwfRuleInst *nwf_rule_inst_new(NwfProtocol protocol, NwfAction action);

/* An unset value (present FALSE), what nwf_rule_field() gives for a field
 * the rule does not hold. */
extern const NwfValue nwf_value_unset;

/* FIELD of sparse VALUES (bit F of SET: VALUES holds field F, at the
 * index of the bits below F), never NULL: &nwf_value_unset when SET lacks
 * it. FIELD may be NWF_FIELD_LAST (no such field). */
static inline const NwfValue *
nwf_fields_get(guint64 set, const NwfValue *values, NwfField field)
{
    guint64 bit;

    if ((guint)field >= NWF_FIELD_LAST)
        return &nwf_value_unset;
    bit = G_GUINT64_CONSTANT(1) << field;
    if (!(set & bit))
        return &nwf_value_unset;
    return &values[__builtin_popcountll(set & (bit - 1))];
}

/* FIELD of RULE (see nwf_fields_get()). */
static inline const NwfValue *
nwf_rule_field(const NwfRuleInst *rule, NwfField field)
{
    return nwf_fields_get(rule->field_set, rule->values, field);
}

/* The slot of FIELD in RULE for writing, added unset when missing. Valid
 * until the next nwf_rule_field_put() or nwf_rule_field_drop() on RULE. */
NwfValue *nwf_rule_field_put(NwfRuleInst *rule, NwfField field);
/* Clear FIELD and remove its slot. */
void nwf_rule_field_drop(NwfRuleInst *rule, NwfField field);
NwfRuleInst *nwf_rule_inst_copy(const NwfRuleInst *rule);
void nwf_rule_inst_free(NwfRuleInst *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfRuleInst, nwf_rule_inst_free)

/* Builders (used by compile and by tests that construct programs by hand).
 * Each call hands out the next seq and marks the layer present. */

/* The sub-chain SUFFIX of direction DIR, or NULL when not created yet. */
NwfEthSubChain *nwf_rule_program_eth_find_subchain(NwfRuleProgram *program, NwfEthDir dir,
                                                   const char *suffix);
/* Create sub-chain SUFFIX and append its jump to the root chain. */
NwfEthSubChain *nwf_rule_program_eth_add_subchain(NwfRuleProgram *program, NwfEthDir dir,
                                                  const char *suffix, NwfChainKind kind,
                                                  int priority);
/* Append RULE (ownership taken) to SUBCHAIN, or to DIR's root chain when
 * SUBCHAIN is NULL. */
void nwf_rule_program_eth_add_rule(NwfRuleProgram *program, NwfEthDir dir,
                                   NwfEthSubChain *subchain, NwfRuleInst *rule);
/* Mark an IP layer present (its chains exist even when left empty). */
void nwf_rule_program_ip_enable(NwfRuleProgram *program, NwfIpFamily family);
/* Append RULE (ownership taken) to CHAIN of FAMILY. */
void nwf_rule_program_ip_add_rule(NwfRuleProgram *program, NwfIpFamily family,
                                  NwfIpChain chain, NwfRuleInst *rule);
/* Record FILTER as reached (no-op when already listed). */
void nwf_rule_program_note_filter(NwfRuleProgram *program, const char *filter);

/* Number of concrete rules in the whole program (all layers and chains). */
guint nwf_rule_program_count_rules(const NwfRuleProgram *program);
