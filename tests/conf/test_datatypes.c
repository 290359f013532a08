/* Datatype parsers and formatters: valid and invalid values for each type,
 * each variable form, the parameter rules, uuids, and the error codes and
 * messages libvirt gives. */
#include "config.h"

#include <string.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_def.h"
#include "conf/nwfilter_params.h"
#include "conf/nwfilter_value.h"
#include "util/nwf_error.h"

typedef struct {
    NwfProtocol protocol;
    NwfField field;
    const char *text;
    const char *formatted;     /* NULL: the value must be rejected */
} ValueCase;

#define OK(p, f, in, out) { NWF_PROTO_##p, NWF_FIELD_##f, in, out }
#define BAD(p, f, in) { NWF_PROTO_##p, NWF_FIELD_##f, in, NULL }

static const ValueCase value_cases[] = {
    /* UINT8: decimal first, then hex; ranges; strtoul's leading blanks */
    OK(STP, STP_TYPE, "0", "0"), OK(STP, STP_TYPE, "255", "255"),
    OK(STP, STP_TYPE, "ff", "0xff"), OK(STP, STP_TYPE, "0x12", "0x12"),
    OK(STP, STP_TYPE, "010", "10"), OK(STP, STP_TYPE, " 7", "7"), OK(STP, STP_TYPE, "+7", "7"),
    BAD(STP, STP_TYPE, "256"), BAD(STP, STP_TYPE, "0x100"), BAD(STP, STP_TYPE, "7 "),
    BAD(STP, STP_TYPE, ""), BAD(STP, STP_TYPE, "0x"), BAD(STP, STP_TYPE, "-1"), BAD(STP, STP_TYPE, "g"),
    /* UINT16 */
    OK(TCP, SRCPORTSTART, "65535", "65535"), OK(TCP, SRCPORTSTART, "ffff", "0xffff"),
    OK(TCP, SRCPORTSTART, "0X10", "0x10"), BAD(TCP, SRCPORTSTART, "65536"),
    BAD(TCP, SRCPORTSTART, "0x10000"), BAD(TCP, SRCPORTSTART, "1.5"),
    /* UINT32: a negative value wraps */
    OK(STP, ROOT_COST, "4294967295", "4294967295"), OK(STP, ROOT_COST, "-1", "4294967295"),
    OK(STP, ROOT_COST, "0x11223344", "0x11223344"), BAD(STP, ROOT_COST, "4294967296"),
    BAD(STP, ROOT_COST, "-4294967296"),
    /* decimal-only connlimit-above */
    OK(TCP, CONNLIMIT_ABOVE, "5", "5"), BAD(TCP, CONNLIMIT_ABOVE, "0x5"),
    BAD(TCP, CONNLIMIT_ABOVE, "a"),
    /* attribute validators */
    OK(TCP, DSCP, "63", "63"), OK(TCP, DSCP, "3f", "0x3f"), BAD(TCP, DSCP, "64"),
    BAD(TCP, DSCP, "0x40"), OK(VLAN, VLANID, "4095", "4095"), BAD(VLAN, VLANID, "4096"),
    BAD(VLAN, VLANID, "0xffff"),
    /* named numbers */
    OK(MAC, PROTOCOLID, "ARP", "arp"), OK(MAC, PROTOCOLID, "0x86dd", "ipv6"),
    OK(MAC, PROTOCOLID, "33024", "vlan"), OK(MAC, PROTOCOLID, "0x600", "0x600"),
    OK(MAC, PROTOCOLID, "1536", "1536"), OK(MAC, PROTOCOLID, "dead", "0xdead"),
    BAD(MAC, PROTOCOLID, "1535"), BAD(MAC, PROTOCOLID, "ip"),
    OK(VLAN, ENCAP_PROTOCOL, "60", "60"), OK(VLAN, ENCAP_PROTOCOL, "rarp", "rarp"),
    BAD(VLAN, ENCAP_PROTOCOL, "59"),
    OK(ARP, OPCODE, "request", "Request"), OK(ARP, OPCODE, "ARP_NAK", "ARP_NAK"),
    OK(ARP, OPCODE, "0x2", "Reply"), OK(ARP, OPCODE, "10", "10"), OK(ARP, OPCODE, "0x20", "32"),
    BAD(ARP, OPCODE, "nak"), BAD(ARP, OPCODE, "65536"),
    OK(IP, PROTOCOL, "UDP", "udp"), OK(IP, PROTOCOL, "0x11", "udp"), OK(IP, PROTOCOL, "58", "icmpv6"),
    OK(IP, PROTOCOL, "99", "99"), OK(IP, PROTOCOL, "0x63", "0x63"), BAD(IP, PROTOCOL, "256"),
    BAD(IP, PROTOCOL, "dccp"),
    /* MAC_ADDR */
    OK(MAC, SRCMACADDR, "0:1:2:A:B:C", "00:01:02:0a:0b:0c"),
    OK(MAC, SRCMACADDR, "ff:FF:ff:FF:ff:FF", "ff:ff:ff:ff:ff:ff"),
    OK(MAC, SRCMACADDR, "00:11:22:33:44:55 trailing", "00:11:22:33:44:55"),
    BAD(MAC, SRCMACADDR, "00-11-22-33-44-55"), BAD(MAC, SRCMACADDR, "001122334455"),
    BAD(MAC, SRCMACADDR, "00:11:22:33:44"), BAD(MAC, SRCMACADDR, "00:11:22:33:44:55:66"),
    BAD(MAC, SRCMACADDR, "000:11:22:33:44:55"), BAD(MAC, SRCMACADDR, " 00:11:22:33:44:55"),
    BAD(MAC, SRCMACADDR, "0g:11:22:33:44:55"), BAD(MAC, SRCMACADDR, ""),
    /* MAC_MASK: contiguous ones */
    OK(MAC, SRCMACMASK, "ff:ff:ff:00:00:00", "ff:ff:ff:00:00:00"),
    OK(MAC, SRCMACMASK, "0:0:0:0:0:0", "00:00:00:00:00:00"),
    OK(MAC, SRCMACMASK, "ff:ff:ff:ff:ff:fe", "ff:ff:ff:ff:ff:fe"),
    BAD(MAC, SRCMACMASK, "ff:ff:0:ff:0:0"), BAD(MAC, SRCMACMASK, "01:00:00:00:00:00"),
    /* IPv4 address: inet_aton forms */
    OK(TCP, SRCIPADDR, "10.1.2.3", "10.1.2.3"), OK(TCP, SRCIPADDR, "10.1", "10.0.0.1"),
    OK(TCP, SRCIPADDR, "010.000.000.001", "8.0.0.1"), OK(TCP, SRCIPADDR, "0x0a000001", "10.0.0.1"),
    OK(TCP, SRCIPADDR, "4294967295", "255.255.255.255"),
    BAD(TCP, SRCIPADDR, " 10.0.0.1"), BAD(TCP, SRCIPADDR, "10.0.0.1 "),
    BAD(TCP, SRCIPADDR, "1.2.3.256"), BAD(TCP, SRCIPADDR, "::1"), BAD(TCP, SRCIPADDR, "host"),
    /* IPv4 mask: prefix or contiguous dotted mask */
    OK(TCP, SRCIPMASK, "0", "0"), OK(TCP, SRCIPMASK, "32", "32"), OK(TCP, SRCIPMASK, " 8", "8"),
    OK(TCP, SRCIPMASK, "255.255.255.128", "25"), OK(TCP, SRCIPMASK, "0.0.0.0", "0"),
    BAD(TCP, SRCIPMASK, "33"), BAD(TCP, SRCIPMASK, "255.0.255.0"), BAD(TCP, SRCIPMASK, "8 "),
    BAD(TCP, SRCIPMASK, "-1"),
    /* IPv6 address and mask */
    OK(TCP_IPV6, SRCIPADDR, "FE80::1", "fe80::1"), OK(TCP_IPV6, SRCIPADDR, "::ffff:10.1.2.3", "::ffff:10.1.2.3"),
    OK(TCP_IPV6, SRCIPADDR, "a:b:c:0:0:d:e:f", "a:b:c::d:e:f"),
    /* a scope prints as getnameinfo prints it: link-local by interface name */
    OK(ALL_IPV6, SRCIPADDR, "fe80::1%lo", "fe80::1%lo"), OK(ALL_IPV6, SRCIPADDR, "fe80::1%1", "fe80::1%lo"),
    OK(ALL_IPV6, SRCIPADDR, "2001:db8::1%1", "2001:db8::1%1"), BAD(ALL_IPV6, SRCIPADDR, "fe80::1%"),
    BAD(TCP_IPV6, SRCIPADDR, "1.2.3.4"), BAD(TCP_IPV6, SRCIPADDR, "a:b:c"), BAD(TCP_IPV6, SRCIPADDR, "::g"),
    OK(TCP_IPV6, SRCIPMASK, "128", "128"), OK(TCP_IPV6, SRCIPMASK, "ffff:ffff:ffff:ffff::", "64"),
    OK(TCP_IPV6, SRCIPMASK, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:8000", "113"),
    BAD(TCP_IPV6, SRCIPMASK, "129"), BAD(TCP_IPV6, SRCIPMASK, "ffff:0:ffff::"),
    /* dstipto on -ipv6: IPv4 (as libvirt) and IPv6 (our fix) */
    OK(TCP_IPV6, DSTIPTO, "10.0.0.1", "10.0.0.1"), OK(TCP_IPV6, DSTIPTO, "::3", "::3"),
    OK(TCP, DSTIPTO, "10.0.0.1", "10.0.0.1"), BAD(TCP, DSTIPTO, "::3"),
    /* STATE */
    OK(TCP, STATE, "new,Established", "NEW,ESTABLISHED"), OK(TCP, STATE, "NEW ESTABLISHED", "NEW,ESTABLISHED"),
    OK(TCP, STATE, "NONE,NEW", "NONE"), OK(TCP, STATE, "invalid,related,new", "NEW,RELATED,INVALID"),
    OK(TCP, STATE, "NEWESTABLISHED", "NEW,ESTABLISHED"), BAD(TCP, STATE, "BOGUS"),
    BAD(TCP, STATE, "NEW|ESTABLISHED"),
    /* TCP flags */
    OK(TCP, TCP_FLAGS, "SYN,ACK/SYN", "SYN,ACK/SYN"), OK(TCP, TCP_FLAGS, "syn,fin,rst,psh,ack,urg/syn", "ALL/SYN"),
    OK(TCP, TCP_FLAGS, "ALL/NONE", "ALL/NONE"), OK(TCP, TCP_FLAGS, "URG ACK/FIN", "ACK,URG/FIN"),
    OK(TCP, TCP_FLAGS, "PSH/", "PSH/NONE"), OK(TCP_IPV6, TCP_FLAGS, "SYN/SYN", "SYN/SYN"),
    BAD(TCP, TCP_FLAGS, "SYN"), BAD(TCP, TCP_FLAGS, "SYN/FOO"), BAD(TCP, TCP_FLAGS, "X/SYN"),
    /* ipset name and flags */
    OK(TCP, IPSET, "test:_.-+ x", "test:_.-+ x"), OK(TCP, IPSET, "abcdefghijabcdefghijabcdefghij1", "abcdefghijabcdefghijabcdefghij1"),
    BAD(TCP, IPSET, "abcdefghijabcdefghijabcdefghij12"), BAD(TCP, IPSET, "a/b"), BAD(TCP, IPSET, ""),
    OK(ALL, IPSETFLAGS, "SRC,dSt,SRC", "src,dst,src"), OK(ALL, IPSETFLAGS, "dst,dst,dst,dst,dst,src", "dst,dst,dst,dst,dst,src"),
    BAD(ALL, IPSETFLAGS, "src,src,src,src,src,src,src"), BAD(ALL, IPSETFLAGS, "src,"),
    BAD(ALL, IPSETFLAGS, "srcdst"), BAD(ALL, IPSETFLAGS, "src dst"), BAD(ALL, IPSETFLAGS, ""),
    /* BOOLEAN: only true, yes and 1 are true */
    OK(ARP, GRATUITOUS, "true", "true"), OK(ARP, GRATUITOUS, "yes", "true"), OK(ARP, GRATUITOUS, "1", "true"),
    OK(ARP, GRATUITOUS, "TRUE", "false"), OK(ARP, GRATUITOUS, "maybe", "false"), OK(ARP, GRATUITOUS, "", "false"),
    /* STRING */
    OK(TCP, COMMENT, "a <b> & 'c'", "a <b> & 'c'"), OK(TCP, COMMENT, "", ""),
};

static void
test_value(gconstpointer data)
{
    const ValueCase *c = data;
    g_autoptr(GError) error = NULL;
    NwfValue value = { 0 };
    gboolean ok = nwf_value_parse(c->protocol, c->field, c->text, &value, &error);

    if (!c->formatted) {
        g_autofree char *expected = g_strdup_printf("internal error: %s has illegal value %s",
                                                    nwf_field_name(c->field), c->text);
        g_assert_false(ok);
        g_assert_cmpint(nwf_error_code(error), ==, NWF_ERR_INTERNAL_ERROR);
        g_assert_cmpstr(error->message, ==, expected);
        g_assert_false(value.present);
    } else {
        g_autofree char *text = NULL;
        NwfValue copy;

        g_assert_no_error(error);
        g_assert_true(ok);
        g_assert_true(value.present);
        g_assert_null(value.var);
        text = nwf_value_format(&value, c->field);
        g_assert_cmpstr(text, ==, c->formatted);
        nwf_value_copy(&copy, &value);
        g_clear_pointer(&text, g_free);
        text = nwf_value_format(&copy, c->field);
        g_assert_cmpstr(text, ==, c->formatted);
        nwf_value_clear(&copy);
    }
    nwf_value_clear(&value);
}

static void
test_comment_truncation(void)
{
    g_autofree char *long_text = g_strnfill(300, 'x');
    g_autofree char *utf8 = NULL;
    g_autofree char *text = NULL;
    NwfValue value = { 0 };

    g_assert_true(nwf_value_parse(NWF_PROTO_TCP, NWF_FIELD_COMMENT, long_text, &value, NULL));
    g_assert_cmpuint(strlen(value.u.str), ==, NWF_COMMENT_MAX);
    nwf_value_clear(&value);

    /* 255 ASCII bytes then a 2-byte character: cut before the character */
    utf8 = g_strconcat(long_text + 45, "\xc3\xa9zz", NULL);
    g_assert_true(nwf_value_parse(NWF_PROTO_TCP, NWF_FIELD_COMMENT, utf8, &value, NULL));
    g_assert_cmpuint(strlen(value.u.str), ==, 255);
    g_assert_true(g_utf8_validate(value.u.str, -1, NULL));
    text = nwf_value_format(&value, NWF_FIELD_COMMENT);
    g_assert_cmpstr(text, ==, value.u.str);
    nwf_value_clear(&value);
}

typedef struct {
    const char *text;          /* attribute value as written */
    const char *formatted;     /* NULL: rejected */
    NwfVarRefKind kind;
    guint index;
} VarCase;

static const VarCase var_cases[] = {
    { "$IP", "$IP", NWF_VARREF_ITERATOR, 0 },
    { "$A[@0]", "$A", NWF_VARREF_ITERATOR, 0 },
    { "$IP[ @ 3 ]", "$IP[@3]", NWF_VARREF_ITERATOR, 3 },
    { "$B[  @0 ] ", "$B", NWF_VARREF_ITERATOR, 0 },
    { "$IP[@1000]", "$IP[@1000]", NWF_VARREF_ITERATOR, 1000 },
    { "$A[1]", "$A[1]", NWF_VARREF_INDEX, 1 },
    { "$A[ 7 ]", "$A[7]", NWF_VARREF_INDEX, 7 },
    { "$X_1", "$X_1", NWF_VARREF_ITERATOR, 0 },
    { "$9", "$9", NWF_VARREF_ITERATOR, 0 },
    { "$IP[@1001]", NULL, 0, 0 },
    { "$IP[x]", NULL, 0, 0 },
    { "$IP[@x]", NULL, 0, 0 },
    { "$ IP", NULL, 0, 0 },
    { "$IP-x", NULL, 0, 0 },
    { "$IP[1]x", NULL, 0, 0 },
    { "$IP[1", NULL, 0, 0 },
    { "$", NULL, 0, 0 },
    { "$[1]", NULL, 0, 0 },
};

static void
test_var_ref(gconstpointer data)
{
    const VarCase *c = data;
    g_autoptr(GError) error = NULL;
    NwfValue value = { 0 };
    gboolean ok = nwf_value_parse_attr(NWF_PROTO_TCP, NWF_FIELD_SRCIPADDR, c->text, &value, &error);

    if (!c->formatted) {
        g_autofree char *expected = g_strdup_printf("internal error: srcipaddr has illegal value %s",
                                                    c->text);
        g_assert_false(ok);
        g_assert_cmpstr(error->message, ==, expected);
        return;
    }
    g_assert_no_error(error);
    g_assert_nonnull(value.var);
    g_assert_cmpint(value.var->kind, ==, c->kind);
    g_assert_cmpuint(value.var->index, ==, c->index);
    {
        g_autofree char *text = nwf_value_format(&value, NWF_FIELD_SRCIPADDR);
        g_assert_cmpstr(text, ==, c->formatted);
    }
    nwf_value_clear(&value);
}

static void
test_var_ref_iterator_message(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(nwf_var_ref_parse("IP[@1001]", &error));
    g_assert_cmpstr(error->message, ==, "internal error: Iterator ID exceeds maximum ID of 1000");
}

/* Variables are refused where libvirt would never resolve them. */
static void
test_var_refused_fields(void)
{
    static const NwfField fields[] = { NWF_FIELD_STATE, NWF_FIELD_TCP_FLAGS, NWF_FIELD_COMMENT };

    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autoptr(GError) error = NULL;
        NwfValue value = { 0 };

        g_assert_false(nwf_value_parse_attr(NWF_PROTO_TCP, fields[i], "$V", &value, &error));
        g_assert_cmpint(nwf_error_code(error), ==, NWF_ERR_INTERNAL_ERROR);
    }
}

static void
test_params(void)
{
    g_autoptr(NwfParams) params = nwf_params_new();
    g_autoptr(NwfParams) over = nwf_params_new();
    g_autoptr(NwfParams) merged = NULL;
    g_autoptr(GPtrArray) names = NULL;
    const GPtrArray *ip;

    g_assert_true(nwf_params_add(params, "IP", "1.2.3.4"));
    g_assert_true(nwf_params_add(params, "IP", "1.2.3.5"));
    g_assert_true(nwf_params_add(params, "IP", "1.2.3.4"));
    g_assert_true(nwf_params_add(params, "B", "0x10"));
    g_assert_true(nwf_params_add(params, "a_1", "a:b_c.d"));
    g_assert_false(nwf_params_add(params, "X-Y", "1"));
    g_assert_false(nwf_params_add(params, "Z", "1.2.3.4/24"));
    g_assert_false(nwf_params_add(params, "W", ""));
    g_assert_false(nwf_params_add(params, "", "1"));
    g_assert_false(nwf_params_add(params, NULL, "1"));
    g_assert_false(nwf_params_add(params, "V", NULL));
    g_assert_false(nwf_params_add(params, "V", "a,b"));
    g_assert_cmpuint(nwf_params_size(params), ==, 3);
    ip = nwf_params_get(params, "IP");
    g_assert_cmpuint(ip->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(ip, 2), ==, "1.2.3.4");
    g_assert_null(nwf_params_get(params, "X-Y"));

    names = nwf_params_sorted_names(params);
    g_assert_cmpuint(names->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "B");
    g_assert_cmpstr(g_ptr_array_index(names, 1), ==, "IP");
    g_assert_cmpstr(g_ptr_array_index(names, 2), ==, "a_1");

    g_assert_true(nwf_params_add(over, "B", "7"));
    merged = nwf_params_overlay(params, over);
    g_assert_cmpstr(g_ptr_array_index(nwf_params_get(merged, "B"), 0), ==, "7");
    g_assert_cmpuint(nwf_params_get(merged, "IP")->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(nwf_params_get(params, "B"), 0), ==, "0x10");

    nwf_params_set(merged, "IP", NULL);
    g_assert_false(nwf_params_has(merged, "IP"));
    g_assert_true(nwf_params_has(params, "IP"));
}

static void
test_uuid(void)
{
    guint8 a[16];
    guint8 b[16];
    g_autofree char *text = NULL;

    g_assert_true(nwf_uuid_parse("01a992d2-f8c8-7c27-f69b-ab0a9d377379", a));
    text = nwf_uuid_format(a);
    g_assert_cmpstr(text, ==, "01a992d2-f8c8-7c27-f69b-ab0a9d377379");
    g_assert_true(nwf_uuid_parse(" 01A992D2F8C87C27F69BAB0A9D377379\n", b));
    g_assert_cmpmem(a, 16, b, 16);
    g_assert_true(nwf_uuid_parse("01-a9 92d2f8c87c27f69bab0a9d37-7379", b));
    g_assert_cmpmem(a, 16, b, 16);
    g_assert_false(nwf_uuid_parse("01a992d2-f8c8-7c27-f69b-ab0a9d37737", b));
    g_assert_false(nwf_uuid_parse("01a992d2-f8c8-7c27-f69b-ab0a9d3773790", b));
    g_assert_false(nwf_uuid_parse("0-1a992d2f8c87c27f69bab0a9d377379", b));
    g_assert_false(nwf_uuid_parse("x1a992d2f8c87c27f69bab0a9d377379", b));
    g_assert_false(nwf_uuid_parse("", b));

    nwf_uuid_generate(a);
    nwf_uuid_generate(b);
    g_assert_true(memcmp(a, b, 16) != 0);
    g_assert_cmpint(a[6] >> 4, ==, 4);
}

typedef struct {
    const char *xml;
    NwfErrorCode code;
    const char *message;
} ErrorCase;

#define U "<uuid>01a992d2-f8c8-7c27-f69b-ab0a9d377379</uuid>"
#define RULE(attrs, body) "<filter name='a'>" U "<rule " attrs ">" body "</rule></filter>"

static const ErrorCase error_cases[] = {
    { "<filtre name='a'/>", NWF_ERR_XML_ERROR, "XML error: expecting root element of 'filter', not 'filtre'" },
    { "<filter/>", NWF_ERR_INTERNAL_ERROR, "internal error: filter has no name" },
    { "<filter name=''/>", NWF_ERR_INTERNAL_ERROR, "internal error: filter has no name" },
    { "<filter name='a/b'/>", NWF_ERR_XML_ERROR, "XML error: filter name 'a/b' must not contain '/'" },
    { "<filter name='.a'/>", NWF_ERR_XML_ERROR, "XML error: filter name '.a' must not start with '.'" },
    { "<filter name='a' chain='ipv4' priority='abc'/>", NWF_ERR_INVALID_ARG,
      "invalid argument: Could not parse chain priority 'abc'" },
    { "<filter name='a' priority='1001'/>", NWF_ERR_INVALID_ARG,
      "invalid argument: Priority '1001' is outside valid range of [-1000,1000]" },
    { "<filter name='a' chain='mac_1234567890'/>", NWF_ERR_INVALID_ARG,
      "invalid argument: Name of chain is longer than 12 characters" },
    { "<filter name='a' chain='mac!'/>", NWF_ERR_INVALID_ARG,
      "invalid argument: Chain name contains invalid characters" },
    { "<filter name='a' chain='foo'/>", NWF_ERR_INVALID_ARG,
      "invalid argument: Invalid chain name 'foo'. Please use a chain name called 'root' or any of "
      "the following prefixes: mac, vlan, stp, arp, rarp, ipv4, ipv6" },
    { "<filter name='a' chain='rootx'/>", NWF_ERR_INVALID_ARG,
      "invalid argument: Invalid chain name 'rootx'. Please use a chain name called 'root' or any of "
      "the following prefixes: mac, vlan, stp, arp, rarp, ipv4, ipv6" },
    { "<filter name='a'><uuid>bad</uuid></filter>", NWF_ERR_XML_ERROR, "XML error: malformed uuid element" },
    { RULE("direction='in'", ""), NWF_ERR_INTERNAL_ERROR, "internal error: rule node requires action attribute" },
    { RULE("action='Drop' direction='in'", ""), NWF_ERR_CONFIG_UNSUPPORTED,
      "unsupported configuration: unknown rule action attribute value" },
    { RULE("action='drop'", ""), NWF_ERR_INTERNAL_ERROR, "internal error: rule node requires direction attribute" },
    { RULE("action='drop' direction='both'", ""), NWF_ERR_CONFIG_UNSUPPORTED,
      "unsupported configuration: unknown rule direction attribute value" },
    { RULE("action='drop' direction='in'", "<tcp dstportstart='70000'/>"), NWF_ERR_INTERNAL_ERROR,
      "internal error: dstportstart has illegal value 70000" },
    /* every bad attribute is checked; the last one in table order is reported */
    { RULE("action='drop' direction='in'", "<tcp dstportend='x' srcipaddr='y'/>"), NWF_ERR_INTERNAL_ERROR,
      "internal error: dstportend has illegal value x" },
    /* our stricter refusals give way to libvirt's own errors */
    { RULE("action='drop' direction='in'", "<tcp dstportstart='70000' comment='$C'/>"),
      NWF_ERR_INTERNAL_ERROR, "internal error: dstportstart has illegal value 70000" },
    { RULE("action='drop' direction='in'", "<tcp srcipaddr='$IP' state='$S' comment='$C'/>"),
      NWF_ERR_INTERNAL_ERROR, "internal error: state has illegal value $S" },
    { "<filter name='a'><rule action='drop' direction='in'><tcp comment='$C'/></rule>"
      "<rule action='drop' direction='in'><ipv6 srcportstart='1' code='$'/></rule></filter>",
      NWF_ERR_INTERNAL_ERROR,
      "internal error: IPv6 rule with port specification requires protocol specification with protocol "
      "to be either one of tcp(6), udp(17), dccp(33), or sctp(132)" },
    { RULE("action='drop' direction='in'", "<ipv6 srcportstart='$IP[1]x'/>"), NWF_ERR_INTERNAL_ERROR,
      "internal error: IPv6 rule with port specification requires protocol specification with protocol "
      "to be either one of tcp(6), udp(17), dccp(33), or sctp(132)" },
    { RULE("action='drop' direction='in'", "<ipv6 protocol='tcp' srcportstart='$IP[1]x'/>"),
      NWF_ERR_INTERNAL_ERROR, "internal error: srcportstart has illegal value $IP[1]x" },
    { "<filter name='a'><rule action='drop' direction='in'><tcp comment='$C'/></rule>"
      "<rule action='drop'/></filter>",
      NWF_ERR_INTERNAL_ERROR, "internal error: rule node requires direction attribute" },
    { RULE("action='drop' direction='in'", "<ip dstportstart='1'/>"), NWF_ERR_INTERNAL_ERROR,
      "internal error: IP rule with port specification requires protocol specification with protocol "
      "to be either one of tcp(6), udp(17), dccp(33), or sctp(132)" },
    { RULE("action='drop' direction='in'", "<ipv6 protocol='esp' srcportend='1'/>"), NWF_ERR_INTERNAL_ERROR,
      "internal error: IPv6 rule with port specification requires protocol specification with protocol "
      "to be either one of tcp(6), udp(17), dccp(33), or sctp(132)" },
    { "<filter name='a'><filterref/></filter>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filterref node requires filter attribute" },
    { "<filter name='a'>", NWF_ERR_XML_DETAIL, NULL },
    { "", NWF_ERR_XML_DETAIL, NULL },
};

static void
test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(c->xml, -1, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_cmpint(nwf_error_code(error), ==, c->code);
    if (c->message)
        g_assert_cmpstr(error->message, ==, c->message);
    else
        g_assert_true(g_str_has_prefix(error->message, "(nwfilter_definition):"));
}

#define OWNER "<owner><name>vm</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>"
#define PORT "<portdev name='vnet0'/>"
#define MAC "<mac address='52:54:00:7b:35:93'/>"

static const ErrorCase binding_error_cases[] = {
    { "<filterbindin/>", NWF_ERR_XML_ERROR,
      "XML error: expecting root element of 'filterbinding', not 'filterbindin'" },
    { "<filterbinding/>", NWF_ERR_INTERNAL_ERROR, "internal error: filter binding has no port dev name" },
    { "<filterbinding><portdev name=''/></filterbinding>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filter binding has no port dev name" },
    { "<filterbinding>" PORT "<linkdev/></filterbinding>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filter binding has no link dev name" },
    { "<filterbinding>" PORT "</filterbinding>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filter binding has no owner name" },
    { "<filterbinding>" PORT "<owner><name>vm</name></owner></filterbinding>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filter binding has no owner UUID" },
    { "<filterbinding>" PORT "<owner><name>vm</name><uuid>zz</uuid></owner></filterbinding>",
      NWF_ERR_INTERNAL_ERROR, "internal error: Unable to parse UUID 'zz'" },
    { "<filterbinding>" PORT OWNER "</filterbinding>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filter binding has no MAC address" },
    { "<filterbinding>" PORT OWNER "<mac address='52-54-00-7b-35-93'/></filterbinding>",
      NWF_ERR_INTERNAL_ERROR, "internal error: Unable to parse MAC '52-54-00-7b-35-93'" },
    { "<filterbinding>" PORT OWNER MAC "</filterbinding>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filter binding has no filter reference" },
    { "<filterbinding>" PORT OWNER MAC "<filterref filter=''/></filterbinding>", NWF_ERR_INTERNAL_ERROR,
      "internal error: filter binding has no filter reference" },
};

static void
test_binding_error(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_string(c->xml, -1, &error);

    g_assert_null(def);
    g_assert_cmpint(nwf_error_code(error), ==, c->code);
    g_assert_cmpstr(error->message, ==, c->message);
}

/* Multicast MACs pass (only the RNG wants unicast); case is normalized;
 * linkdev and parameters are kept, parameters sorted by name. */
static void
test_binding_normalization(void)
{
    const char *xml = "<filterbinding>" OWNER "<portdev name='macvtap0'/><linkdev name='eth0'/>"
                      "<mac address='01:00:5E:0:0:1'/><filterref filter='clean-traffic'>"
                      "<parameter name='IP' value='10.0.0.2'/><parameter name='CTRL_IP_LEARNING' value='none'/>"
                      "<parameter name='IP' value='10.0.0.1'/><parameter name='bad-name' value='1'/>"
                      "</filterref></filterbinding>";
    const char *expected =
        "<filterbinding>\n"
        "  <owner>\n"
        "    <name>vm</name>\n"
        "    <uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid>\n"
        "  </owner>\n"
        "  <portdev name='macvtap0'/>\n"
        "  <linkdev name='eth0'/>\n"
        "  <mac address='01:00:5e:00:00:01'/>\n"
        "  <filterref filter='clean-traffic'>\n"
        "    <parameter name='CTRL_IP_LEARNING' value='none'/>\n"
        "    <parameter name='IP' value='10.0.0.2'/>\n"
        "    <parameter name='IP' value='10.0.0.1'/>\n"
        "  </filterref>\n"
        "</filterbinding>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_string(xml, -1, &error);
    g_autofree char *text = NULL;
    g_autofree char *mac = NULL;

    g_assert_no_error(error);
    text = nwf_binding_def_format(def);
    g_assert_cmpstr(text, ==, expected);
    mac = nwf_mac_format(def->mac);
    g_assert_cmpstr(mac, ==, "01:00:5e:00:00:01");
    g_assert_cmpstr(def->linkdev, ==, "eth0");
}

static void
test_rule_lines_and_copy(void)
{
    const char *xml = "<filter name='a'>\n" U "\n<rule action='drop' direction='in'/>\n\n"
                      "  <filterref filter='b'><parameter name='P' value='1'/></filterref>\n"
                      "<rule action='accept' direction='out'><tcp srcipaddr='$IP'/></rule>\n</filter>";
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(xml, -1, &error);
    g_autoptr(NwfFilterDef) copy = NULL;
    g_autoptr(GPtrArray) refs = NULL;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    NwfEntry *e;

    g_assert_no_error(error);
    g_assert_cmpuint(def->entries->len, ==, 3);
    e = g_ptr_array_index(def->entries, 0);
    g_assert_cmpint(e->kind, ==, NWF_ENTRY_RULE);
    g_assert_cmpint(e->rule->line, ==, 3);
    e = g_ptr_array_index(def->entries, 2);
    g_assert_cmpint(e->rule->line, ==, 6);
    g_assert_cmpint(e->rule->protocol, ==, NWF_PROTO_TCP);
    g_assert_cmpstr(e->rule->fields[NWF_FIELD_SRCIPADDR].var->name, ==, "IP");

    refs = nwf_filter_def_referenced_names(def);
    g_assert_cmpuint(refs->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(refs, 0), ==, "b");

    copy = nwf_filter_def_copy(def);
    a = nwf_filter_def_format(def);
    b = nwf_filter_def_format(copy);
    g_assert_cmpstr(a, ==, b);
    copy->uuid[0] ^= 1;
    g_assert_true(nwf_filter_def_equal_ignoring_uuid(def, copy));
    copy->chain_priority = 5;
    g_assert_false(nwf_filter_def_equal_ignoring_uuid(def, copy));
}

static void
test_metadata(void)
{
    g_assert_cmpstr(nwf_protocol_name(NWF_PROTO_TCP_IPV6), ==, "tcp-ipv6");
    g_assert_cmpstr(nwf_protocol_name(NWF_PROTO_NONE), ==, "");
    g_assert_cmpint(nwf_protocol_layer(NWF_PROTO_ARP), ==, NWF_LAYER_ETHERNET);
    g_assert_cmpint(nwf_protocol_layer(NWF_PROTO_ALL), ==, NWF_LAYER_IPV4);
    g_assert_cmpint(nwf_protocol_layer(NWF_PROTO_ICMPV6), ==, NWF_LAYER_IPV6);
    g_assert_cmpstr(nwf_field_name(NWF_FIELD_ENCAP_PROTOCOL), ==, "encap-protocol");
    g_assert_cmpstr(nwf_action_name(NWF_ACTION_CONTINUE), ==, "continue");
    g_assert_cmpstr(nwf_direction_name(NWF_DIR_INOUT), ==, "inout");
    g_assert_cmpstr(nwf_chain_kind_prefix(NWF_CHAIN_IPV4), ==, "ipv4");
    g_assert_true(nwf_protocol_has_field(NWF_PROTO_TCP, NWF_FIELD_TCP_FLAGS));
    g_assert_false(nwf_protocol_has_field(NWF_PROTO_UDP, NWF_FIELD_TCP_FLAGS));
    g_assert_false(nwf_protocol_has_field(NWF_PROTO_IP, NWF_FIELD_STATE));
    g_assert_false(nwf_protocol_has_field(NWF_PROTO_IGMP, NWF_FIELD_SRCPORTSTART));
    g_assert_cmpint(nwf_protocol_field_type(NWF_PROTO_TCP_IPV6, NWF_FIELD_SRCIPADDR), ==, NWF_TYPE_IPV6_ADDR);
    g_assert_cmpint(nwf_protocol_field_type(NWF_PROTO_ARP, NWF_FIELD_ARPSRCIPMASK), ==, NWF_TYPE_IPV4_MASK);
    g_assert_cmpint(nwf_protocol_field_type(NWF_PROTO_STP, NWF_FIELD_ROOT_COST), ==, NWF_TYPE_UINT32);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(value_cases); i++) {
        const ValueCase *c = &value_cases[i];
        g_autofree char *name = g_strdup_printf("/conf/value/%s/%s/%zu",
                                                nwf_protocol_name(c->protocol),
                                                nwf_field_name(c->field), i);
        g_test_add_data_func(name, c, test_value);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(var_cases); i++) {
        g_autofree char *name = g_strdup_printf("/conf/varref/%zu", i);
        g_test_add_data_func(name, &var_cases[i], test_var_ref);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *name = g_strdup_printf("/conf/error/%zu", i);
        g_test_add_data_func(name, &error_cases[i], test_error);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(binding_error_cases); i++) {
        g_autofree char *name = g_strdup_printf("/conf/binding-error/%zu", i);
        g_test_add_data_func(name, &binding_error_cases[i], test_binding_error);
    }
    g_test_add_func("/conf/binding/normalization", test_binding_normalization);
    g_test_add_func("/conf/value/comment-truncation", test_comment_truncation);
    g_test_add_func("/conf/varref/iterator-message", test_var_ref_iterator_message);
    g_test_add_func("/conf/varref/refused-fields", test_var_refused_fields);
    g_test_add_func("/conf/params", test_params);
    g_test_add_func("/conf/uuid", test_uuid);
    g_test_add_func("/conf/filter/lines-copy-equal", test_rule_lines_and_copy);
    g_test_add_func("/conf/metadata", test_metadata);
    return g_test_run();
}
