/* Rule program -> nftables chains and rule text.
 *
 * Layout (two tables only this project writes to, so other tools' reloads
 * and flushes leave them alone):
 *
 * table bridge nwfilter   (ethernet layer; runs where ebtables' nat table did)
 *   prerouting  hook prerouting -300   meta mark set iifname map @port_ids
 *                                      iifname vmap @eth_out  -> <if>/out
 *   forward     hook forward -300      oifname vmap @mark_to  -> <if>/mark
 *   postrouting hook postrouting 300   oifname vmap @eth_in   -> <if>/in
 *   <if>/out, <if>/in                  root chains (VM-out, VM-in)
 *   <if>/out/<chain>, <if>/in/<chain>  protocol sub-chains, entered by jump so
 *                                      running out of rules returns to the root
 *   <if>/mark                          puts the port's id in the mark's high half
 *   shared-<hash>/out, shared-<hash>/in, shared-<hash>/out/<chain> ...
 *                                      chains shared by every port with the
 *                                      same rendering (see below); with an IP
 *                                      layer also shared-<hash>/mark
 *   set v/<dir>/<fields>/<slot>        port values, keyed by port
 *
 * table inet nwfilter     (IPv4/IPv6 layers: conntrack and reject work here,
 *                          under br_netfilter, on kernels without bridge
 *                          conntrack or bridge reject)
 *   forward  hook forward 0   meta mark & 0xffff vmap @from4|6     -> <if>/from4|6
 *                             meta mark & 0xffff0000 vmap @to4|6   -> <if>/to4|6
 *   input    hook input 0     meta mark & 0xffff vmap @host4|6     -> <if>/host4|6
 *
 * The inet hooks only see the bridge device, so the bridge table carries the
 * ports into the mark: the sending port's id (low 16 bits) on entry, the
 * receiving port's id (high 16 bits) when the bridge forwards. The ports of
 * a group carry the group's id (so the IP-layer maps hold one element per
 * group, and the mark chain is the group's); a port with chains of its own
 * has its own id. Every dispatch is one map lookup, whatever the number of
 * ports. The mark then plays the part of iptables' physdev match: it stays
 * on a frame the host routes on (so from-VM rules apply in FORWARD, as
 * libvirt's physdev-in does), and it is only written for ports whose
 * filters have IP-layer rules. Costs: those frames lose any mark set before
 * the bridge, and a host using fwmark routing must not rely on the mark of
 * such frames. Ids are numbered by us (map port_ids; at most 65535 groups
 * and ports of their own with IP-layer rules).
 *
 * Port values and shared chains: where an ethernet-layer rule matches an
 * address that came from a variable ($MAC, $IP, a learned address) with
 * plain equality, the rule looks the port and the address up in a value
 * set ("iifname . ip saddr @v/out/ip_saddr/0"); consecutive rules that
 * differ only in such values (a list variable's expansion) become one rule.
 * The ethernet chains then no longer depend on the port, so every port with
 * the same rendering jumps to one group of chains ("shared-<hash>"): a new
 * port of a known shape is a few set elements, a filter change rebuilds
 * each group once, and a change of address (or of the number of addresses)
 * is an element update, the chains untouched. Negated or masked matches
 * stay in the rule text (one set lookup would not mean what the separate
 * rules mean), which makes such ports' groups their own. A group whose
 * ports all change to one new rendering in one transaction (a filter they
 * share was redefined) is rewritten in place and renamed: the ports'
 * dispatch elements point to the chains themselves, so none of them
 * changes, and the per-port work of a redefinition is only what changes per
 * port (values; the mark elements when an IP layer appears). With counters on,
 * each port keeps its own ethernet chains ("<if>/out" ...) so that counts
 * stay per port.
 *
 * Known differences: an accept in our tables does not skip other tables'
 * hooks (nftables has no cross-table accept), ipset matches are refused,
 * connlimit counts per rule rather than per source address, STP config
 * fields are matched whatever the BPDU type, and a negated 'gratuitous' is
 * refused (nft cannot compare two packet fields).
 *
 * Verdicts: ethernet accept/drop/return as written, reject drops (a bridge
 * hook here cannot reject). IP layers: accept in from/host
 * returns (libvirt's RETURN: the frame goes on to the destination port's
 * chain), accept in to-VM accepts, reject is nft's reject (ICMP/ICMPv6 port
 * unreachable, as iptables' REJECT). continue is nft's continue (no verdict;
 * it also keeps rules that match nothing else valid). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend_nft_private.h"
#include "util/nwf_error.h"

#define STP_BGA "01:80:c2:00:00:00"
/* nft keeps at most 128 bytes of rule comment */
#define COMMENT_MAX 120

void
nwf_nft_port_free(NwfNftPort *port)
{
    if (!port)
        return;
    g_free(port->ifname);
    g_ptr_array_unref(port->chains);
    g_ptr_array_unref(port->group_chains);
    g_ptr_array_unref(port->sets);
    g_free(port->group);
    g_free(port->digest);
    g_free(port);
}

static void
chain_free(gpointer data)
{
    NwfNftChain *chain = data;

    g_free(chain->name);
    g_ptr_array_unref(chain->rules);
    g_free(chain->last_shape);
    g_free(chain);
}

static void
set_free(gpointer data)
{
    NwfNftSet *set = data;

    g_free(set->name);
    g_free(set->type);
    g_ptr_array_unref(set->elements);
    g_free(set);
}

/* The key expression naming the port in a value set of direction DIR: the
 * frame's input port for VM-out chains, its output port for VM-in ones. */
static const char *
port_key(NwfEthDir dir)
{
    return dir == NWF_ETH_VM_OUT ? "iifname" : "oifname";
}

/* A value set for FIELDS ("ip saddr", "ether saddr . @nh,64,48") in
 * direction DIR, the next one of that kind for this port: ports of the same
 * shape use the same sets, each with its own key. */
static NwfNftSet *
port_add_set(NwfNftPort *port, NwfEthDir dir, const char *fields)
{
    NwfNftSet *set = g_new0(NwfNftSet, 1);
    GString *name = g_string_new(dir == NWF_ETH_VM_OUT ? "v/out/" : "v/in/");
    guint slot = 0;

    /* "ether saddr . @nh,64,48" -> "ether_saddr.nh_64_48" */
    for (const char *part = fields; part;) {
        const char *sep = strstr(part, " . ");
        const char *end = sep ? sep : part + strlen(part);
        if (name->str[name->len - 1] != '/')
            g_string_append_c(name, '.');
        for (const char *p = part + (*part == '@'); p < end; p++)
            g_string_append_c(name, *p == ' ' || *p == ',' ? '_' : *p);
        part = sep ? sep + strlen(" . ") : NULL;
    }
    g_string_append_c(name, '/');
    for (guint i = 0; i < port->sets->len; i++)
        slot += g_str_has_prefix(((NwfNftSet *)g_ptr_array_index(port->sets, i))->name,
                                 name->str);
    g_string_append_printf(name, "%u", slot);
    set->name = g_string_free(name, FALSE);
    set->type = g_strdup_printf("%s . %s", port_key(dir), fields);
    set->elements = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(port->sets, set);
    return set;
}

static void
set_add_element(NwfNftSet *set, const char *element)
{
    for (guint i = 0; i < set->elements->len; i++) {
        if (strcmp(g_ptr_array_index(set->elements, i), element) == 0)
            return;
    }
    g_ptr_array_add(set->elements, g_strdup(element));
}

static NwfNftChain *
chain_add(GPtrArray *chains, NwfNftTable table, char *name)
{
    NwfNftChain *chain = g_new0(NwfNftChain, 1);

    chain->table = table;
    chain->name = name;
    chain->rules = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(chains, chain);
    return chain;
}

gboolean
nwf_nft_ifname_check(const char *ifname, GError **error)
{
    if (ifname && *ifname && strlen(ifname) < 16 &&
        (g_ascii_isalpha(*ifname) || *ifname == '_' || *ifname == '.')) {
        const char *p = ifname + 1;
        while (*p && (g_ascii_isalnum(*p) || strchr("_.-", *p)))
            p++;
        if (!*p)
            return TRUE;
    }
    nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                  _("interface name '%s' cannot be used by the nftables backend: it must start "
                    "with a letter, '_' or '.' and contain only letters, digits, '_', '.' and '-'"),
                  ifname ? ifname : "");
    return FALSE;
}

char *
nwf_nft_chain_eth(const char *ifname, NwfEthDir dir)
{
    return g_strconcat(ifname, dir == NWF_ETH_VM_OUT ? "/out" : "/in", NULL);
}

/* Filter chain names may hold ':', which nft identifiers cannot; '/' never
 * appears in them, so the mapping stays one to one. */
char *
nwf_nft_chain_eth_sub(const char *ifname, NwfEthDir dir, const char *suffix)
{
    const char *root = dir == NWF_ETH_VM_OUT ? "/out/" : "/in/";
    char *name = g_strconcat(ifname, root, suffix, NULL);

    for (char *p = name + strlen(ifname) + strlen(root); *p; p++) {
        if (*p == ':')
            *p = '/';
    }
    return name;
}

char *
nwf_nft_chain_ip(const char *ifname, NwfIpFamily family, NwfIpChain chain)
{
    static const char *const names[NWF_IP_CHAIN_LAST] = { "from", "to", "host" };

    return g_strdup_printf("%s/%s%c", ifname, names[chain], family == NWF_IP_V4 ? '4' : '6');
}

char *
nwf_nft_chain_mark(const char *ifname)
{
    return g_strdup_printf("%s/mark", ifname);
}

/* --- value text ---------------------------------------------------------- */

/* " LHS VALUE", or negated " LHS & MASK != VALUE" (MASK: all ones of the
 * field) or " LHS != VALUE" (MASK NULL: VALUE must be a range). nft 1.0.6
 * merges adjacent payload comparisons into one, which would turn
 * "a != x and b != y" into "(a, b) != (x, y)"; a mask or a range keeps
 * each negated comparison on its own. */
static void G_GNUC_PRINTF(5, 6)
match(GString *s, const char *lhs, gboolean negated, const char *mask, const char *fmt, ...)
{
    va_list ap;

    if (!negated)
        g_string_append_printf(s, " %s ", lhs);
    else if (mask)
        g_string_append_printf(s, " %s & %s != ", lhs, mask);
    else
        g_string_append_printf(s, " %s != ", lhs);
    va_start(ap, fmt);
    g_string_append_vprintf(s, fmt, ap);
    va_end(ap);
}

/* A number; negated as a one-value range (see match()). */
static void
num_match(GString *s, const char *lhs, gboolean negated, guint value, gboolean hex)
{
    if (!negated)
        g_string_append_printf(s, hex ? " %s 0x%04x" : " %s %u", lhs, value);
    else
        g_string_append_printf(s, hex ? " %s != 0x%04x-0x%04x" : " %s != %u-%u", lhs, value,
                               value);
}

static void
mac_format(char buf[18], const guint8 *mac)
{
    g_snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
               mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static guint64
mac_number(const guint8 *mac)
{
    guint64 n = 0;

    for (int i = 0; i < 6; i++)
        n = (n << 8) | mac[i];
    return n;
}

static gboolean
mac_is_full(const guint8 *mask)
{
    for (int i = 0; i < 6; i++) {
        if (mask[i] != 0xff)
            return FALSE;
    }
    return TRUE;
}

/* ether saddr / ether daddr, with an optional mask */
static void
mac_match(GString *s, const char *lhs, const NwfValue *addr, const NwfValue *mask)
{
    char a[18], m[18];
    guint8 masked[6];

    if (!addr->present)
        return;
    if (!mask || !mask->present || mac_is_full(mask->u.mac)) {
        mac_format(a, addr->u.mac);
        match(s, lhs, addr->negated, "ff:ff:ff:ff:ff:ff", "%s", a);
        return;
    }
    for (int i = 0; i < 6; i++)
        masked[i] = addr->u.mac[i] & mask->u.mac[i];
    mac_format(a, masked);
    mac_format(m, mask->u.mac);
    g_string_append_printf(s, " %s & %s %s %s", lhs, m, addr->negated ? "!=" : "==", a);
}

/* ip saddr A[/len] with the host bits cleared, as nft wants a prefix */
static void
ip_match(GString *s, const char *lhs, const NwfValue *addr, const NwfValue *mask)
{
    char net[INET6_ADDRSTRLEN], bits[INET6_ADDRSTRLEN];
    gboolean v4 = addr->type == NWF_TYPE_IPV4_ADDR;
    guint full = v4 ? 32 : 128;
    guint prefix = mask && mask->present ? MIN(mask->u.num, full) : full;
    guint8 a[16] = { 0 }, m[16] = { 0 };

    if (!addr->present)
        return;
    memcpy(a, v4 ? (const void *)&addr->u.ipv4 : (const void *)&addr->u.ipv6, full / 8);
    for (guint i = 0; i < full / 8; i++) {
        guint keep = prefix > i * 8 ? MIN(prefix - i * 8, 8u) : 0;
        m[i] = (guint8)(0xff00 >> keep);
        a[i] &= m[i];
    }
    inet_ntop(v4 ? AF_INET : AF_INET6, a, net, sizeof(net));
    inet_ntop(v4 ? AF_INET : AF_INET6, m, bits, sizeof(bits));
    if (addr->negated)
        match(s, lhs, TRUE, bits, "%s", net);
    else if (prefix < full)
        match(s, lhs, FALSE, NULL, "%s/%u", net, prefix);
    else
        match(s, lhs, FALSE, NULL, "%s", net);
}

/* ip saddr A-B (an iprange) */
static void
ip_range_match(GString *s, const char *lhs, const NwfValue *from, const NwfValue *to)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int af = from->type == NWF_TYPE_IPV4_ADDR ? AF_INET : AF_INET6;

    inet_ntop(af, af == AF_INET ? (const void *)&from->u.ipv4 : (const void *)&from->u.ipv6,
              a, sizeof(a));
    if (!to->present) {
        match(s, lhs, from->negated,
              af == AF_INET ? "255.255.255.255" : "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
              "%s", a);
        return;
    }
    inet_ntop(af, af == AF_INET ? (const void *)&to->u.ipv4 : (const void *)&to->u.ipv6,
              b, sizeof(b));
    match(s, lhs, from->negated, NULL, "%s-%s", a, b);
}

/* LHS lo[-hi] */
static void
range_match(GString *s, const char *lhs, const NwfValue *lo, const NwfValue *hi)
{
    if (!lo->present)
        return;
    if (hi && hi->present && hi->u.num != lo->u.num)
        match(s, lhs, lo->negated, NULL, "%u-%u", lo->u.num, hi->u.num);
    else
        num_match(s, lhs, lo->negated, lo->u.num, FALSE);
}

/* Raw payload LHS (BITS wide) equal to VALUE under a prefix mask of PREFIX
 * bits (PREFIX >= BITS: exact). */
static void
raw_prefix_match(GString *s, const char *lhs, guint bits, guint64 value, guint prefix,
                 gboolean negated)
{
    guint64 all = bits >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT(1) << bits) - 1;
    guint64 mask;

    if (prefix >= bits) {
        g_autofree char *ones = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", all);
        match(s, lhs, negated, ones, "0x%" G_GINT64_MODIFIER "x", value);
        return;
    }
    mask = prefix ? (all << (bits - prefix)) & all : 0;
    g_string_append_printf(s, " %s & 0x%" G_GINT64_MODIFIER "x %s 0x%" G_GINT64_MODIFIER "x",
                           lhs, mask, negated ? "!=" : "==", value & mask);
}

static void
raw_mac_match(GString *s, const char *lhs, const NwfValue *addr, const NwfValue *mask)
{
    guint64 value, m;

    if (!addr->present)
        return;
    value = mac_number(addr->u.mac);
    if (!mask || !mask->present || mac_is_full(mask->u.mac)) {
        match(s, lhs, addr->negated, "0xffffffffffff", "0x%012" G_GINT64_MODIFIER "x", value);
        return;
    }
    m = mac_number(mask->u.mac);
    g_string_append_printf(s, " %s & 0x%012" G_GINT64_MODIFIER "x %s 0x%012" G_GINT64_MODIFIER "x",
                           lhs, m, addr->negated ? "!=" : "==", value & m);
}

/* A printable, quote-free copy of TEXT for a rule comment that starts at
 * START in S (the comment stays within COMMENT_MAX bytes). */
static void
comment_append_clean(GString *s, gsize start, const char *text)
{
    for (const char *p = text; *p && s->len - start < COMMENT_MAX; p++)
        g_string_append_c(s, (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? *p : '_');
}

/* Append RULE's comment text (what nwf_nft_rule_comment() returns) to S. */
static void
comment_append(GString *s, const NwfRuleInst *rule)
{
    const NwfValue *user = nwf_rule_field(rule, NWF_FIELD_COMMENT);
    gsize start = s->len;

    for (const char *p = rule->origin.filter ? rule->origin.filter : ""; *p; p++)
        g_string_append_c(s, g_ascii_isgraph(*p) && *p != '"' && *p != '\\' ? *p : '_');
    if (s->len == start)
        g_string_append_c(s, '-');
    g_string_truncate(s, MIN(s->len, start + 64));
    g_string_append_printf(s, " %d", rule->origin.priority);
    if (user->present && user->u.str && *user->u.str) {
        g_string_append_c(s, ' ');
        comment_append_clean(s, start, user->u.str);
    }
}

char *
nwf_nft_rule_comment(const NwfRuleInst *rule)
{
    GString *s = g_string_new(NULL);

    comment_append(s, rule);
    return g_string_free(s, FALSE);
}

/* --- per-port values ---------------------------------------------------- */

/* The matches of one rule kept out of its text for a set lookup. */
typedef struct {
    const NwfRuleInst *rule;
    GString *lhs;          /* "ether saddr . @nh,64,48" */
    GString *value;        /* "52:54:00:aa:bb:01 . 0x525400aabb01" */
} PortValues;

/* The text of S from START on is field F's match. When F's value came from
 * a variable and the match is a plain " LHS VALUE" equality, move it into
 * PV: any other form (negated, masked, a prefix or range) stays. */
static void
port_value_take(PortValues *pv, GString *s, gsize start, NwfField f, const char *lhs)
{
    const char *text = s->str + start;
    gsize n = strlen(lhs);
    const char *value;

    if (start >= s->len || !((pv->rule->var_fields >> f) & 1) ||
        nwf_rule_field(pv->rule, f)->negated)
        return;
    if (text[0] != ' ' || strncmp(text + 1, lhs, n) != 0 || text[1 + n] != ' ')
        return;
    value = text + 2 + n;
    if (!*value || strpbrk(value, " /!&"))
        return;
    g_string_append_printf(pv->lhs, "%s%s", pv->lhs->len ? " . " : "", lhs);
    g_string_append_printf(pv->value, "%s%s", pv->value->len ? " . " : "", value);
    g_string_truncate(s, start);
}

/* --- ethernet layer ------------------------------------------------------ */

static void
eth_macs(GString *s, const NwfRuleInst *rule, PortValues *pv)
{
    gsize start = s->len;

    mac_match(s, "ether saddr", nwf_rule_field(rule, NWF_FIELD_SRCMACADDR),
              nwf_rule_field(rule, NWF_FIELD_SRCMACMASK));
    port_value_take(pv, s, start, NWF_FIELD_SRCMACADDR, "ether saddr");
    start = s->len;
    mac_match(s, "ether daddr", nwf_rule_field(rule, NWF_FIELD_DSTMACADDR),
              nwf_rule_field(rule, NWF_FIELD_DSTMACMASK));
    port_value_take(pv, s, start, NWF_FIELD_DSTMACADDR, "ether daddr");
}

/* STP BPDU fields as raw link-layer payload: 802.3 header (14 bytes), LLC
 * 42 42 03 (3 bytes), then the BPDU. Offsets in bits. */
static void
eth_stp(GString *s, const NwfRuleInst *rule)
{
    static const struct {
        NwfField lo, hi;
        guint offset, bits;
        gboolean mac;
    } fields[] = {
        { NWF_FIELD_STP_TYPE, NWF_FIELD_LAST, 160, 8, FALSE },
        { NWF_FIELD_STP_FLAGS, NWF_FIELD_LAST, 168, 8, FALSE },
        { NWF_FIELD_ROOT_PRIORITY, NWF_FIELD_ROOT_PRIORITY_HI, 176, 16, FALSE },
        { NWF_FIELD_ROOT_ADDRESS, NWF_FIELD_ROOT_ADDRESS_MASK, 192, 48, TRUE },
        { NWF_FIELD_ROOT_COST, NWF_FIELD_ROOT_COST_HI, 240, 32, FALSE },
        { NWF_FIELD_SENDER_PRIORITY, NWF_FIELD_SENDER_PRIORITY_HI, 272, 16, FALSE },
        { NWF_FIELD_SENDER_ADDRESS, NWF_FIELD_SENDER_ADDRESS_MASK, 288, 48, TRUE },
        { NWF_FIELD_PORT, NWF_FIELD_PORT_HI, 336, 16, FALSE },
        { NWF_FIELD_AGE, NWF_FIELD_AGE_HI, 352, 16, FALSE },
        { NWF_FIELD_MAX_AGE, NWF_FIELD_MAX_AGE_HI, 368, 16, FALSE },
        { NWF_FIELD_HELLO_TIME, NWF_FIELD_HELLO_TIME_HI, 384, 16, FALSE },
        { NWF_FIELD_FORWARD_DELAY, NWF_FIELD_FORWARD_DELAY_HI, 400, 16, FALSE },
    };
    gboolean llc = FALSE;

    mac_match(s, "ether saddr", nwf_rule_field(rule, NWF_FIELD_SRCMACADDR),
              nwf_rule_field(rule, NWF_FIELD_SRCMACMASK));
    g_string_append(s, " ether daddr " STP_BGA);
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        const NwfValue *lo = nwf_rule_field(rule, fields[i].lo);
        const NwfValue *hi = fields[i].hi < NWF_FIELD_LAST ? nwf_rule_field(rule, fields[i].hi)
                                                            : NULL;
        g_autofree char *lhs = g_strdup_printf("@ll,%u,%u", fields[i].offset, fields[i].bits);
        if (!lo->present)
            continue;
        if (!llc) {
            g_string_append(s, " @ll,112,24 0x424203");
            llc = TRUE;
        }
        if (fields[i].mac)
            raw_mac_match(s, lhs, lo, hi);
        else
            range_match(s, lhs, lo, hi);
    }
}

/* ARP/RARP header fields as raw network-layer payload (RARP shares the
 * layout, and nft's arp expressions would imply ethertype ARP). */
static gboolean
eth_arp(GString *s, const NwfRuleInst *rule, PortValues *pv, GError **error)
{
    const NwfValue *grat = nwf_rule_field(rule, NWF_FIELD_GRATUITOUS);
    const NwfValue *sip = nwf_rule_field(rule, NWF_FIELD_ARPSRCIPADDR);
    const NwfValue *smask = nwf_rule_field(rule, NWF_FIELD_ARPSRCIPMASK);
    const NwfValue *dip = nwf_rule_field(rule, NWF_FIELD_ARPDSTIPADDR);
    const NwfValue *dmask = nwf_rule_field(rule, NWF_FIELD_ARPDSTIPMASK);
    gsize start;

    eth_macs(s, rule, pv);
    g_string_append(s, rule->protocol == NWF_PROTO_RARP ? " ether type 0x8035" : " ether type arp");
    range_match(s, "@nh,0,16", nwf_rule_field(rule, NWF_FIELD_HWTYPE), NULL);
    range_match(s, "@nh,48,16", nwf_rule_field(rule, NWF_FIELD_OPCODE), NULL);
    range_match(s, "@nh,16,16", nwf_rule_field(rule, NWF_FIELD_PROTOCOLTYPE), NULL);
    /* ebt_arp only compares addresses of Ethernet/IPv4 ARP: a frame with
     * another hardware or protocol type (or length) never matches such a
     * rule, whatever its negation. Without these guards a guest could send
     * e.g. htype 6 ARP past an anti-spoofing return/drop pair. */
    if (sip->present || dip->present || (grat->present && grat->u.num))
        g_string_append(s, " @nh,16,16 0x800 @nh,40,8 4");
    if (nwf_rule_field(rule, NWF_FIELD_ARPSRCMACADDR)->present ||
        nwf_rule_field(rule, NWF_FIELD_ARPDSTMACADDR)->present)
        g_string_append(s, " @nh,0,16 1 @nh,32,8 6");
    start = s->len;
    if (sip->present)
        raw_prefix_match(s, "@nh,112,32", 32, ntohl(sip->u.ipv4.s_addr),
                         smask->present ? smask->u.num : 32, sip->negated);
    port_value_take(pv, s, start, NWF_FIELD_ARPSRCIPADDR, "@nh,112,32");
    start = s->len;
    if (dip->present)
        raw_prefix_match(s, "@nh,192,32", 32, ntohl(dip->u.ipv4.s_addr),
                         dmask->present ? dmask->u.num : 32, dip->negated);
    port_value_take(pv, s, start, NWF_FIELD_ARPDSTIPADDR, "@nh,192,32");
    start = s->len;
    raw_mac_match(s, "@nh,64,48", nwf_rule_field(rule, NWF_FIELD_ARPSRCMACADDR), NULL);
    port_value_take(pv, s, start, NWF_FIELD_ARPSRCMACADDR, "@nh,64,48");
    start = s->len;
    raw_mac_match(s, "@nh,144,48", nwf_rule_field(rule, NWF_FIELD_ARPDSTMACADDR), NULL);
    port_value_take(pv, s, start, NWF_FIELD_ARPDSTMACADDR, "@nh,144,48");
    if (grat->present && grat->u.num) {
        if (grat->negated) {
            nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED, "%s",
                          _("the nftables backend cannot match non-gratuitous ARP "
                            "(gratuitous with match='no')"));
            return FALSE;
        }
        /* sender IP == target IP, one byte at a time against the set of
         * equal byte pairs (nft cannot compare two packet fields) */
        for (guint i = 0; i < 4; i++)
            g_string_append_printf(s, " @nh,%u,8 . @nh,%u,8 @arp_same_byte", 112 + 8 * i,
                                   192 + 8 * i);
    }
    return TRUE;
}

/* ICMPv6 type/code ranges of an ebtables-layer ipv6 rule: a missing start
 * is 0, a missing end is the start if given, else 255. */
static void
icmp6_ranges(GString *s, const NwfRuleInst *rule)
{
    const NwfValue *t = nwf_rule_field(rule, NWF_FIELD_ICMP_TYPE);
    const NwfValue *te = nwf_rule_field(rule, NWF_FIELD_ICMP_TYPEEND);
    const NwfValue *c = nwf_rule_field(rule, NWF_FIELD_ICMP_CODE);
    const NwfValue *ce = nwf_rule_field(rule, NWF_FIELD_ICMP_CODEEND);
    guint tlo, thi, clo, chi;

    if (!t->present && !te->present && !c->present && !ce->present)
        return;
    tlo = t->present ? t->u.num : 0;
    thi = te->present ? te->u.num : (t->present ? t->u.num : 255);
    clo = c->present ? c->u.num : 0;
    chi = ce->present ? ce->u.num : (c->present ? c->u.num : 255);
    g_string_append_printf(s, " icmpv6 type . icmpv6 code %s{ ", t->negated ? "!= " : "");
    if (tlo == thi)
        g_string_append_printf(s, "%u", tlo);
    else
        g_string_append_printf(s, "%u-%u", tlo, thi);
    if (clo == chi)
        g_string_append_printf(s, " . %u }", clo);
    else
        g_string_append_printf(s, " . %u-%u }", clo, chi);
}

static void
eth_ip(GString *s, const NwfRuleInst *rule, PortValues *pv)
{
    gboolean v6 = rule->protocol == NWF_PROTO_IPV6;
    gsize start;

    eth_macs(s, rule, pv);
    g_string_append(s, v6 ? " ether type ip6" : " ether type ip");
    start = s->len;
    ip_match(s, v6 ? "ip6 saddr" : "ip saddr", nwf_rule_field(rule, NWF_FIELD_SRCIPADDR),
             nwf_rule_field(rule, NWF_FIELD_SRCIPMASK));
    port_value_take(pv, s, start, NWF_FIELD_SRCIPADDR, v6 ? "ip6 saddr" : "ip saddr");
    start = s->len;
    ip_match(s, v6 ? "ip6 daddr" : "ip daddr", nwf_rule_field(rule, NWF_FIELD_DSTIPADDR),
             nwf_rule_field(rule, NWF_FIELD_DSTIPMASK));
    port_value_take(pv, s, start, NWF_FIELD_DSTIPADDR, v6 ? "ip6 daddr" : "ip daddr");
    /* ebtables' --ip6-protocol skips extension headers, as meta l4proto does */
    range_match(s, v6 ? "meta l4proto" : "ip protocol", nwf_rule_field(rule, NWF_FIELD_PROTOCOL),
                NULL);
    range_match(s, "th sport", nwf_rule_field(rule, NWF_FIELD_SRCPORTSTART),
                nwf_rule_field(rule, NWF_FIELD_SRCPORTEND));
    range_match(s, "th dport", nwf_rule_field(rule, NWF_FIELD_DSTPORTSTART),
                nwf_rule_field(rule, NWF_FIELD_DSTPORTEND));
    if (v6) {
        icmp6_ranges(s, rule);
    } else if (nwf_rule_field(rule, NWF_FIELD_DSCP)->present) {
        /* ebtables compares the whole TOS byte with the unshifted value */
        num_match(s, "@nh,8,8", nwf_rule_field(rule, NWF_FIELD_DSCP)->negated,
                  nwf_rule_field(rule, NWF_FIELD_DSCP)->u.num, FALSE);
    }
}

static const char *
eth_verdict(NwfAction action)
{
    switch (action) {
    case NWF_ACTION_ACCEPT:
        return "accept";
    case NWF_ACTION_RETURN:
        return "return";
    case NWF_ACTION_CONTINUE:
        return "continue";
    case NWF_ACTION_DROP:
    case NWF_ACTION_REJECT:
    default:
        return "drop";
    }
}

/* Append the statements (counter, verdict, comment) to S. */
static void
statements_append(GString *s, const NwfRuleInst *rule, const char *verdict, gboolean counters)
{
    if (counters)
        g_string_append(s, " counter");
    g_string_append_c(s, ' ');
    g_string_append(s, verdict);
    g_string_append(s, " comment \"");
    comment_append(s, rule);
    g_string_append_c(s, '"');
}

static void
rule_store(NwfNftChain *chain, const GString *s)
{
    g_ptr_array_add(chain->rules, s->str[0] == ' ' ? g_strndup(s->str + 1, s->len - 1)
                                                   : g_strndup(s->str, s->len));
}

/* Append the statements and store the rule. */
static void
rule_finish(NwfNftChain *chain, GString *s, const NwfRuleInst *rule, const char *verdict,
            gboolean counters)
{
    statements_append(s, rule, verdict, counters);
    rule_store(chain, s);
}

/* Finish a rule whose per-port values PV go into a set: the rule looks
 * them up; when the chain's previous rule has the same shape (a list
 * variable's previous value), the values join that rule's set instead. */
static void
rule_finish_values(NwfNftPort *port, NwfEthDir dir, NwfNftChain *chain, GString *s,
                   const PortValues *pv, const NwfRuleInst *rule, const char *verdict,
                   gboolean counters)
{
    gsize matches = s->len;
    g_autofree char *lookup = NULL;
    NwfNftSet *set;

    /* the shape: the rule's own matches, which fields the set holds, the
     * statements */
    g_string_append_c(s, '\t');
    g_string_append_len(s, pv->lhs->str, (gssize)pv->lhs->len);
    statements_append(s, rule, verdict, counters);
    if (chain->last_set && chain->last_len == chain->rules->len &&
        strcmp(chain->last_shape, s->str) == 0) {
        set_add_element(chain->last_set, pv->value->str);
        return;
    }
    g_free(chain->last_shape);
    chain->last_shape = g_strndup(s->str, s->len);
    set = port_add_set(port, dir, pv->lhs->str);
    set_add_element(set, pv->value->str);
    lookup = g_strdup_printf(" %s . %s @%s", port_key(dir), pv->lhs->str, set->name);
    g_string_erase(s, (gssize)matches, (gssize)(1 + pv->lhs->len));
    g_string_insert(s, (gssize)matches, lookup);
    rule_store(chain, s);
    chain->last_set = set;
    chain->last_len = chain->rules->len;
}

/* Strings one rendering reuses for every rule. */
typedef struct {
    GString *text;
    GString *lhs;
    GString *value;
} Scratch;

static void
scratch_init(Scratch *scratch)
{
    scratch->text = g_string_sized_new(256);
    scratch->lhs = g_string_sized_new(64);
    scratch->value = g_string_sized_new(64);
}

static void
scratch_clear(Scratch *scratch)
{
    g_string_free(scratch->text, TRUE);
    g_string_free(scratch->lhs, TRUE);
    g_string_free(scratch->value, TRUE);
}

static gboolean
eth_rule(NwfNftPort *port, NwfEthDir dir, NwfNftChain *chain, const NwfRuleInst *rule,
         gboolean counters, Scratch *scratch, GError **error)
{
    GString *s = g_string_truncate(scratch->text, 0);
    GString *lhs = g_string_truncate(scratch->lhs, 0);
    GString *value = g_string_truncate(scratch->value, 0);
    PortValues pv = { rule, lhs, value };

    switch (rule->protocol) {
    case NWF_PROTO_MAC:
        eth_macs(s, rule, &pv);
        if (nwf_rule_field(rule, NWF_FIELD_PROTOCOLID)->present)
            num_match(s, "ether type", nwf_rule_field(rule, NWF_FIELD_PROTOCOLID)->negated,
                      nwf_rule_field(rule, NWF_FIELD_PROTOCOLID)->u.num, TRUE);
        break;
    case NWF_PROTO_VLAN:
        eth_macs(s, rule, &pv);
        g_string_append(s, " ether type 0x8100");
        range_match(s, "vlan id", nwf_rule_field(rule, NWF_FIELD_VLANID), NULL);
        if (nwf_rule_field(rule, NWF_FIELD_ENCAP_PROTOCOL)->present)
            num_match(s, "vlan type", nwf_rule_field(rule, NWF_FIELD_ENCAP_PROTOCOL)->negated,
                      nwf_rule_field(rule, NWF_FIELD_ENCAP_PROTOCOL)->u.num, TRUE);
        break;
    case NWF_PROTO_STP:
        eth_stp(s, rule);
        break;
    case NWF_PROTO_ARP:
    case NWF_PROTO_RARP:
        if (!eth_arp(s, rule, &pv, error))
            return FALSE;
        break;
    case NWF_PROTO_IP:
    case NWF_PROTO_IPV6:
        eth_ip(s, rule, &pv);
        break;
    default:
        break;
    }
    if (lhs->len)
        rule_finish_values(port, dir, chain, s, &pv, rule, eth_verdict(rule->action), counters);
    else
        rule_finish(chain, s, rule, eth_verdict(rule->action), counters);
    return TRUE;
}

static const char *
eth_jump_match(NwfChainKind kind)
{
    switch (kind) {
    case NWF_CHAIN_STP:
        return "ether daddr " STP_BGA " ";
    case NWF_CHAIN_VLAN:
        return "ether type 0x8100 ";
    case NWF_CHAIN_ARP:
        return "ether type arp ";
    case NWF_CHAIN_RARP:
        return "ether type 0x8035 ";
    case NWF_CHAIN_IPV4:
        return "ether type ip ";
    case NWF_CHAIN_IPV6:
        return "ether type ip6 ";
    case NWF_CHAIN_MAC:
    default:
        return "";
    }
}

/* Render DIR's ethernet chains, named "<prefix>/...", into CHAINS. */
static gboolean
eth_render(NwfNftPort *port, const NwfRuleProgram *program, NwfEthDir dir, const char *prefix,
           GPtrArray *chains, gboolean counters, Scratch *scratch, GError **error)
{
    const NwfEthChains *eth = &program->eth[dir];
    NwfNftChain *root;

    if (!eth->present)
        return TRUE;
    port->eth[dir] = TRUE;
    root = chain_add(chains, NWF_NFT_BRIDGE, nwf_nft_chain_eth(prefix, dir));
    for (guint i = 0; i < eth->subchains->len; i++) {
        const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, i);
        NwfNftChain *chain = chain_add(chains, NWF_NFT_BRIDGE,
                                       nwf_nft_chain_eth_sub(prefix, dir, sub->suffix));
        for (guint j = 0; j < sub->rules->len; j++) {
            if (!eth_rule(port, dir, chain, g_ptr_array_index(sub->rules, j), counters, scratch,
                          error))
                return FALSE;
        }
    }
    for (guint i = 0; i < eth->entries->len; i++) {
        const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
        if (entry->kind == NWF_ETH_ENTRY_RULE) {
            if (!eth_rule(port, dir, root, entry->rule, counters, scratch, error))
                return FALSE;
        } else {
            g_autofree char *target = nwf_nft_chain_eth_sub(prefix, dir, entry->subchain->suffix);
            g_ptr_array_add(root->rules, g_strdup_printf("%s%sjump %s",
                                                         eth_jump_match(entry->subchain->kind),
                                                         counters ? "counter " : "", target));
        }
    }
    return TRUE;
}

/* --- IP layers ----------------------------------------------------------- */

/* IP protocol number of an IP-layer element; 0 for all and all-ipv6 */
static const guint8 ip_l4proto[NWF_PROTO_LAST] = {
    [NWF_PROTO_TCP] = 6, [NWF_PROTO_TCP_IPV6] = 6,
    [NWF_PROTO_UDP] = 17, [NWF_PROTO_UDP_IPV6] = 17,
    [NWF_PROTO_UDPLITE] = 136, [NWF_PROTO_UDPLITE_IPV6] = 136,
    [NWF_PROTO_ESP] = 50, [NWF_PROTO_ESP_IPV6] = 50,
    [NWF_PROTO_AH] = 51, [NWF_PROTO_AH_IPV6] = 51,
    [NWF_PROTO_SCTP] = 132, [NWF_PROTO_SCTP_IPV6] = 132,
    [NWF_PROTO_ICMP] = 1, [NWF_PROTO_ICMPV6] = 58, [NWF_PROTO_IGMP] = 2,
};

static void
ct_state_text(GString *s, guint state)
{
    static const struct {
        guint bit;
        const char *name;
    } names[] = {
        { NWF_STATE_NEW, "new" }, { NWF_STATE_ESTABLISHED, "established" },
        { NWF_STATE_RELATED, "related" }, { NWF_STATE_INVALID, "invalid" },
    };
    gboolean first = TRUE;

    g_string_append(s, " ct state ");
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (state & names[i].bit) {
            g_string_append_printf(s, "%s%s", first ? "" : ",", names[i].name);
            first = FALSE;
        }
    }
}

static void
ip_side(GString *s, const NwfRuleInst *rule, gboolean v6, gboolean dst)
{
    const NwfValue *addr = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPADDR : NWF_FIELD_SRCIPADDR);
    const NwfValue *mask = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPMASK : NWF_FIELD_SRCIPMASK);
    const NwfValue *from = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPFROM : NWF_FIELD_SRCIPFROM);
    const NwfValue *to = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPTO : NWF_FIELD_SRCIPTO);
    const char *lhs = v6 ? (dst ? "ip6 daddr" : "ip6 saddr") : (dst ? "ip daddr" : "ip saddr");

    if (addr->present)
        ip_match(s, lhs, addr, mask);
    else if (from->present)
        ip_range_match(s, lhs, from, to);
}

static const char *
ip_verdict(NwfAction action, NwfIpChain which)
{
    switch (action) {
    case NWF_ACTION_ACCEPT:
        /* from-VM traffic goes on to the destination port's chain */
        return which == NWF_IP_TO_VM ? "accept" : "return";
    case NWF_ACTION_DROP:
        return "drop";
    case NWF_ACTION_REJECT:
        return "reject";
    case NWF_ACTION_RETURN:
        return "return";
    case NWF_ACTION_CONTINUE:
    default:
        return "continue";
    }
}

static gboolean
ip_rule(NwfNftChain *chain, const NwfRuleInst *rule, NwfIpFamily family, NwfIpChain which,
        gboolean counters, Scratch *scratch, GError **error)
{
    GString *s = g_string_truncate(scratch->text, 0);
    gboolean v6 = family == NWF_IP_V6;
    guint l4 = ip_l4proto[rule->protocol];
    const NwfValue *dscp = nwf_rule_field(rule, NWF_FIELD_DSCP);
    const NwfValue *option = nwf_rule_field(rule, NWF_FIELD_TCP_OPTION);
    const NwfValue *connlimit = nwf_rule_field(rule, NWF_FIELD_CONNLIMIT_ABOVE);

    if (nwf_rule_field(rule, NWF_FIELD_IPSET)->present) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                      _("ipset '%s' cannot be matched by the nftables backend (nftables has no "
                        "access to ipset sets); use the ebiptables backend for this filter"),
                      nwf_rule_field(rule, NWF_FIELD_IPSET)->u.str);
        return FALSE;
    }
    if (l4)
        g_string_append_printf(s, " meta l4proto %u", l4);
    mac_match(s, "ether saddr", nwf_rule_field(rule, NWF_FIELD_SRCMACADDR), NULL);
    ip_side(s, rule, v6, FALSE);
    ip_side(s, rule, v6, TRUE);
    if (dscp->present)
        num_match(s, v6 ? "ip6 dscp" : "ip dscp", dscp->negated, dscp->u.num, FALSE);
    if (nwf_rule_field(rule, NWF_FIELD_TCP_FLAGS)->present)
        g_string_append_printf(s, " tcp flags & 0x%02x %s 0x%02x",
                               nwf_rule_field(rule, NWF_FIELD_TCP_FLAGS)->u.tcp_flags.mask,
                               nwf_rule_field(rule, NWF_FIELD_TCP_FLAGS)->negated ? "!=" : "==",
                               nwf_rule_field(rule, NWF_FIELD_TCP_FLAGS)->u.tcp_flags.flags &
                                   nwf_rule_field(rule, NWF_FIELD_TCP_FLAGS)->u.tcp_flags.mask);
    range_match(s, "th sport", nwf_rule_field(rule, NWF_FIELD_SRCPORTSTART),
                nwf_rule_field(rule, NWF_FIELD_SRCPORTEND));
    range_match(s, "th dport", nwf_rule_field(rule, NWF_FIELD_DSTPORTSTART),
                nwf_rule_field(rule, NWF_FIELD_DSTPORTEND));
    if (option->present)
        g_string_append_printf(s, " tcp option %u %s", option->u.num,
                               option->negated ? "missing" : "exists");
    if (nwf_rule_field(rule, NWF_FIELD_ICMP_TYPE)->present) {
        const char *icmp = rule->protocol == NWF_PROTO_ICMPV6 ? "icmpv6" : "icmp";
        const NwfValue *type = nwf_rule_field(rule, NWF_FIELD_ICMP_TYPE);
        const NwfValue *code = nwf_rule_field(rule, NWF_FIELD_ICMP_CODE);
        if (code->present)
            g_string_append_printf(s, " %s type . %s code %s{ %u . %u }", icmp, icmp,
                                   type->negated ? "!= " : "", type->u.num, code->u.num);
        else
            num_match(s, rule->protocol == NWF_PROTO_ICMPV6 ? "icmpv6 type" : "icmp type",
                      type->negated, type->u.num, FALSE);
    }
    if (rule->ct_state)
        ct_state_text(s, rule->ct_state);
    if (rule->ct_dir != NWF_CT_DIR_NONE)
        g_string_append_printf(s, " ct direction %s",
                               rule->ct_dir == NWF_CT_DIR_ORIGINAL ? "original" : "reply");
    if (connlimit->present)
        g_string_append_printf(s, " ct count %s%u", connlimit->negated ? "" : "over ",
                               connlimit->u.num);
    rule_finish(chain, s, rule, ip_verdict(rule->action, which), counters);
    return TRUE;
}

static gboolean
ip_render(NwfNftPort *port, const NwfRuleProgram *program, NwfIpFamily family,
          const char *prefix, GPtrArray *chains, gboolean counters, Scratch *scratch,
          GError **error)
{
    const NwfIpChains *ip = &program->ip[family];

    if (!ip->present)
        return TRUE;
    port->ip[family] = TRUE;
    for (NwfIpChain which = 0; which < NWF_IP_CHAIN_LAST; which++) {
        NwfNftChain *chain = chain_add(chains, NWF_NFT_INET,
                                       nwf_nft_chain_ip(prefix, family, which));
        for (guint i = 0; i < ip->chains[which]->len; i++) {
            if (!ip_rule(chain, g_ptr_array_index(ip->chains[which], i), family, which,
                         counters, scratch, error))
                return FALSE;
        }
    }
    return TRUE;
}

/* Every chain of PROGRAM (both ethernet directions, both IP layers) into
 * CHAINS under PREFIX; the port's sets start over. */
static gboolean
layers_render(NwfNftPort *port, const NwfRuleProgram *program, const char *prefix,
              GPtrArray *chains, gboolean counters, GError **error)
{
    Scratch scratch;
    gboolean ok = TRUE;

    scratch_init(&scratch);
    g_ptr_array_set_size(port->sets, 0);
    for (NwfEthDir dir = 0; ok && dir < NWF_ETH_DIR_LAST; dir++)
        ok = eth_render(port, program, dir, prefix, chains, counters, &scratch, error);
    for (NwfIpFamily family = 0; ok && family < NWF_IP_FAMILY_LAST; family++)
        ok = ip_render(port, program, family, prefix, chains, counters, &scratch, error);
    scratch_clear(&scratch);
    return ok;
}

/* Everything the port puts into the kernel, hashed: a restart compares it
 * with the digest stored next to the port's rules to skip unchanged ports.
 * "<shape>/<values>": the port's own chains, rules and set declarations,
 * then (a shorter hash of) the set elements, so that a port whose shape is
 * unchanged can be updated by its set elements alone. A group's chains are
 * not in it: the group's name is the hash of what they hold, and the port's
 * dispatch names the group (so a group rewritten in place leaves its
 * ports' digests as they are). */
/* The text of CHAINS that their digest is taken of */
static void
chains_text(GString *out, const GPtrArray *chains)
{
    for (guint i = 0; i < chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(chains, i);
        g_string_append_c(out, chain->table == NWF_NFT_BRIDGE ? 'B' : 'I');
        g_string_append(out, chain->name);
        for (guint j = 0; j < chain->rules->len; j++) {
            g_string_append_c(out, '\n');
            g_string_append(out, g_ptr_array_index(chain->rules, j));
        }
        g_string_append(out, "\n\n");
    }
}

static void
chains_digest(GChecksum *sum, const GPtrArray *chains)
{
    g_autoptr(GString) text = g_string_new(NULL);

    chains_text(text, chains);
    g_checksum_update(sum, (const guchar *)text->str, (gssize)text->len);
}

/* The name of the group holding CHAINS (rendered under the placeholder
 * prefix): NWF_NFT_GROUP_PREFIX and 16 hex digits of their SHA-256. */
static char *
group_name(const GPtrArray *chains)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_autofree char *sum = NULL;

    chains_text(text, chains);
    sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text->str, text->len);
    return g_strdup_printf(NWF_NFT_GROUP_PREFIX "%.16s", sum);
}

static char *
port_digest(const NwfNftPort *port)
{
    g_autoptr(GChecksum) shape = g_checksum_new(G_CHECKSUM_SHA256);
    g_autoptr(GChecksum) values = g_checksum_new(G_CHECKSUM_SHA256);

    g_autofree char *layers = g_strdup_printf("E%d%dI%d%d\n", port->eth[NWF_ETH_VM_OUT],
                                              port->eth[NWF_ETH_VM_IN], port->ip[NWF_IP_V4],
                                              port->ip[NWF_IP_V6]);

    /* which layers the port is dispatched to: a group's name alone does not
     * say which of its chains this port's elements lead to */
    g_checksum_update(shape, (const guchar *)layers, -1);
    chains_digest(shape, port->chains);
    for (guint i = 0; i < port->sets->len; i++) {
        const NwfNftSet *set = g_ptr_array_index(port->sets, i);
        g_checksum_update(shape, (const guchar *)"S", 1);
        g_checksum_update(shape, (const guchar *)set->name, -1);
        g_checksum_update(shape, (const guchar *)"\n", 1);
        g_checksum_update(shape, (const guchar *)set->type, -1);
        g_checksum_update(shape, (const guchar *)"\n\n", 2);
        for (guint j = 0; j < set->elements->len; j++) {
            g_checksum_update(values, g_ptr_array_index(set->elements, j), -1);
            g_checksum_update(values, (const guchar *)"\n", 1);
        }
        g_checksum_update(values, (const guchar *)"\n", 1);
    }
    return g_strdup_printf("%s/%.*s", g_checksum_get_string(shape), NWF_NFT_VALUES_DIGEST_LEN,
                           g_checksum_get_string(values));
}

gboolean
nwf_nft_digest_same_shape(const char *a, const char *b)
{
    const char *slash = a ? strchr(a, '/') : NULL;

    return slash && b && strncmp(a, b, slash - a + 1) == 0;
}

/* CHAINS, rendered under the placeholder prefix "-", moved under PREFIX:
 * their names and the jumps of the root chains (the only rules naming a
 * chain; they carry no comment). */
static void
chains_prefix_set(GPtrArray *chains, const char *prefix)
{
    for (guint i = 0; i < chains->len; i++) {
        NwfNftChain *chain = g_ptr_array_index(chains, i);
        char *name = g_strconcat(prefix, chain->name + 1, NULL);
        g_free(chain->name);
        chain->name = name;
        for (guint j = 0; j < chain->rules->len; j++) {
            char *rule = g_ptr_array_index(chain->rules, j);
            char *jump = strstr(rule, "jump -/");
            if (!jump || strchr(jump, '"'))
                continue;
            *jump = '\0';
            chain->rules->pdata[j] = g_strconcat(rule, "jump ", prefix, jump + strlen("jump -"),
                                                 NULL);
            g_free(rule);
        }
    }
}

NwfNftPort *
nwf_nft_port_render(const NwfRuleProgram *program, gboolean counters, GError **error)
{
    g_autoptr(NwfNftPort) port = NULL;

    if (!nwf_nft_ifname_check(program->ifname, error))
        return NULL;
    port = g_new0(NwfNftPort, 1);
    port->ifname = g_strdup(program->ifname);
    port->chains = g_ptr_array_new_with_free_func(chain_free);
    port->group_chains = g_ptr_array_new_with_free_func(chain_free);
    port->sets = g_ptr_array_new_with_free_func(set_free);
    if (counters) {
        if (!layers_render(port, program, program->ifname, port->chains, counters, error))
            return NULL;
    } else {
        /* the group is named after what its chains hold, rendered under a
         * placeholder prefix: same rules and sets, same group */
        if (!layers_render(port, program, "-", port->group_chains, counters, error))
            return NULL;
        if (port->group_chains->len > 0) {
            port->group = group_name(port->group_chains);
            chains_prefix_set(port->group_chains, port->group);
        }
    }
    port->digest = port_digest(port);
    return g_steal_pointer(&port);
}
