/* The frame decoder on the vectors of tests/learn/frames (built by scapy in
 * gen_frames.py): one test case per frame, the decoder's findings printed
 * in the vector's line format and compared with NAME.expected. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "nwfilter/learn_frame.h"

static char *
fmt_mac(const guint8 *m)
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *
fmt_ip(int family, gconstpointer addr, char *buf)
{
    return inet_ntop(family, addr, buf, INET6_ADDRSTRLEN);
}

static char *
describe(const NwfLearnFrame *f)
{
    GString *out = g_string_new(NULL);
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];
    g_autofree char *src = fmt_mac(f->src_mac);
    g_autofree char *dst = fmt_mac(f->dst_mac);

    g_string_append_printf(out, "eth src=%s dst=%s type=0x%04x%s\n", src, dst, f->ethertype,
                           f->vlan ? " vlan" : "");
    if (f->ipv4)
        g_string_append_printf(out, "ipv4 src=%s dst=%s\n", fmt_ip(AF_INET, &f->ip4_src, a),
                               fmt_ip(AF_INET, &f->ip4_dst, b));
    if (f->ipv6)
        g_string_append_printf(out, "ipv6 src=%s dst=%s\n", fmt_ip(AF_INET6, &f->ip6_src, a),
                               fmt_ip(AF_INET6, &f->ip6_dst, b));
    if (f->arp)
        g_string_append_printf(out, "arp op=%u sender=%s target=%s\n", f->arp_op,
                               fmt_ip(AF_INET, &f->arp_sender_ip, a),
                               fmt_ip(AF_INET, &f->arp_target_ip, b));
    if (f->dhcp) {
        const NwfDhcpMsg *m = &f->dhcp_msg;
        g_autofree char *chaddr = fmt_mac(m->chaddr);

        g_string_append_printf(out, "dhcp op=%u type=%u xid=0x%08x ciaddr=%s yiaddr=%s siaddr=%s chaddr=%s",
                               m->op, m->type, m->xid, fmt_ip(AF_INET, &m->ciaddr, a),
                               fmt_ip(AF_INET, &m->yiaddr, b), fmt_ip(AF_INET, &m->siaddr, c),
                               chaddr);
        if (m->has_lease)
            g_string_append_printf(out, " lease=%u", m->lease_secs);
        if (m->has_requested)
            g_string_append_printf(out, " requested=%s", fmt_ip(AF_INET, &m->requested, a));
        if (m->has_server_id)
            g_string_append_printf(out, " server_id=%s", fmt_ip(AF_INET, &m->server_id, a));
        g_string_append_c(out, '\n');
    }
    if (f->dhcp6) {
        g_string_append_printf(out, "dhcp6 type=%u xid=0x%06x", f->dhcp6_msg.type, f->dhcp6_msg.xid);
        for (guint i = 0; i < f->dhcp6_msg.n_addrs; i++)
            g_string_append_printf(out, " addr=%s/%u",
                                   fmt_ip(AF_INET6, &f->dhcp6_msg.addrs[i].addr, a),
                                   f->dhcp6_msg.addrs[i].valid_secs);
        g_string_append_c(out, '\n');
    }
    if (f->nd)
        g_string_append_printf(out, "nd type=%u target=%s\n", f->nd_msg.type,
                               fmt_ip(AF_INET6, &f->nd_msg.target, a));
    return g_string_free(out, FALSE);
}

static void
test_frame(gconstpointer data)
{
    const char *base = data;
    g_autofree char *hex_path = g_strconcat(base, ".hex", NULL);
    g_autofree char *exp_path = g_strconcat(base, ".expected", NULL);
    g_autofree char *hex = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *actual = NULL;
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    g_autoptr(GError) error = NULL;
    NwfLearnFrame frame;

    g_file_get_contents(hex_path, &hex, NULL, &error);
    g_assert_no_error(error);
    g_file_get_contents(exp_path, &expected, NULL, &error);
    g_assert_no_error(error);
    g_strstrip(hex);
    for (gsize i = 0; hex[i] && hex[i + 1]; i += 2) {
        guint8 byte = (guint8)(g_ascii_xdigit_value(hex[i]) << 4 | g_ascii_xdigit_value(hex[i + 1]));
        g_byte_array_append(bytes, &byte, 1);
    }
    if (nwf_learn_frame_decode(bytes->data, bytes->len, &frame))
        actual = describe(&frame);
    else
        actual = g_strdup("short\n");
    g_assert_cmpstr(actual, ==, expected);

    /* Every prefix of the frame must decode without reading past its end
     * (ASan watches the heap copy). */
    for (guint cut = 0; cut < bytes->len; cut++) {
        g_autofree guint8 *copy = g_memdup2(bytes->data, cut);
        nwf_learn_frame_decode(copy, cut, &frame);
    }
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
main(int argc, char **argv)
{
    const char *src = g_getenv("NWF_SOURCE_ROOT");
    g_autofree char *dir = g_build_filename(src ? src : ".", "tests", "learn", "frames", NULL);
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_test_init(&argc, &argv, NULL);
    d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".hex"))
            g_ptr_array_add(names, g_strndup(name, strlen(name) - 4));
    }
    g_ptr_array_sort(names, compare_names);
    g_assert_cmpuint(names->len, >, 0);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *path = g_strconcat("/learn/frame/", n, NULL);

        g_test_add_data_func_full(path, g_build_filename(dir, n, NULL), test_frame, g_free);
    }
    return g_test_run();
}
