#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/trace.h"
#include "nwfilter/trace_live.h"
#include "nwfilter_cmds.h"
#include "tool_program.h"
#include "util/nwf_error.h"

#define EXIT_BAD_INPUT 2

static const char summary_text[] =
    N_("Evaluate one frame against the rules the filter tree compiles to, with the\n"
       "kernel's semantics, and print the verdict and the rules that decided.\n"
       "Exit status: 0 accept, 1 drop or reject, 2 bad input.\n"
       "\n"
       "PACKET words (every part optional, in this order):\n"
       "  ether [src MAC] [dst MAC] [type N]\n"
       "  vlan [id N] [prio N]\n"
       "  arp|rarp [request|reply|op N] [htype N] [ptype N] [hwsrc MAC] [hwdst MAC]\n"
       "           [psrc IP] [pdst IP]\n"
       "  ip|ip6 [src A] [dst A] [tos N|dscp N] [proto N] [ttl N]\n"
       "    tcp [sport N] [dport N] [flags SA..] [option N]...\n"
       "    udp|udplite|sctp [sport N] [dport N]\n"
       "    icmp|icmp6 [type N] [code N]    igmp [type N]    esp    ah\n"
       "  stp [type N] [flags N] [root-priority N] [root-address MAC] [root-cost N]\n"
       "      [sender-priority N] [sender-address MAC] [port N] [age N] [max-age N]\n"
       "      [hello-time N] [forward-delay N]\n"
       "  payload HEX\n"
       "The VM's side of the frame defaults to the port's MAC, the other side to\n"
       "02:00:00:00:00:01.\n"
       "\n"
       "--batch FILE: one packet per line (PACKET words or --frame HEX, with optional\n"
       "--direction/--state/--ct-dir/--to-host/--connections); one verdict per line.");

static const guint8 other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* What one packet needs: its options and its words or frame. */
typedef struct {
    NwfTraceOptions opt;
    gboolean have_direction;
    const char *frame_hex;
    GPtrArray *words;            /* char*, borrowed, NULL-terminated at use */
} PacketArgs;

static gboolean
parse_uint_arg(const char *text, guint *out)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT, &v, NULL))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

/* Parse one batch line's ARGV into P. Prints the problem and returns FALSE
 * on bad input. */
static gboolean
parse_packet_args(int argc, char **argv, PacketArgs *p)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        gboolean takes_value = TRUE;

        if (a[0] != '-' || a[1] != '-') {
            g_ptr_array_add(p->words, argv[i]);
            continue;
        }
        if (strcmp(a, "--to-host") == 0) {
            p->opt.to_host = TRUE;
            takes_value = FALSE;
        } else if (!value) {
            fprintf(stderr, _("error: %s needs a value (see nwfilter trace --help)\n"), a);
            return FALSE;
        } else if (strcmp(a, "--direction") == 0) {
            if (strcmp(value, "in") != 0 && strcmp(value, "out") != 0) {
                fprintf(stderr, _("error: --direction must be 'in' or 'out', not '%s'\n"), value);
                return FALSE;
            }
            p->opt.vm_out = strcmp(value, "out") == 0;
            p->have_direction = TRUE;
        } else if (strcmp(a, "--state") == 0) {
            if (!nwf_trace_ct_state_parse(value, &p->opt.ct_state)) {
                fprintf(stderr, _("error: --state must be new, established, related, invalid "
                          "or untracked, not '%s'\n"), value);
                return FALSE;
            }
        } else if (strcmp(a, "--ct-dir") == 0) {
            if (strcmp(value, "original") != 0 && strcmp(value, "reply") != 0) {
                fprintf(stderr, _("error: --ct-dir must be 'original' or 'reply', not '%s'\n"),
                        value);
                return FALSE;
            }
            p->opt.ct_dir = strcmp(value, "reply") == 0 ? NWF_CT_DIR_REPLY
                                                        : NWF_CT_DIR_ORIGINAL;
        } else if (strcmp(a, "--connections") == 0) {
            if (!parse_uint_arg(value, &p->opt.connections)) {
                fprintf(stderr, _("error: --connections needs a number, not '%s'\n"), value);
                return FALSE;
            }
        } else if (strcmp(a, "--frame") == 0) {
            p->frame_hex = value;
        } else {
            fprintf(stderr, _("error: unknown option '%s' in a batch line\n"), a);
            return FALSE;
        }
        if (takes_value)
            i++;
    }
    return TRUE;
}

/* Evaluate one packet. Returns the exit status for it. */
static int
trace_one(const NwfRuleProgram *program, PacketArgs *p, gboolean quiet, gboolean batch)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) frame = NULL;
    g_autoptr(NwfTracePacket) packet = NULL;
    g_autoptr(NwfTraceResult) result = NULL;

    if (!p->have_direction) {
        fprintf(stderr, _("error: give --direction in|out\n"));
        return EXIT_BAD_INPUT;
    }
    if (p->frame_hex && p->words->len > 0) {
        fprintf(stderr, _("error: give either --frame or a packet description, not both\n"));
        return EXIT_BAD_INPUT;
    }
    if (p->frame_hex) {
        frame = nwf_trace_frame_from_hex(p->frame_hex, &error);
    } else {
        NwfTraceFrameDefaults defaults;
        const guint8 *port_mac = program->have_mac ? program->mac : other_mac;
        memcpy(defaults.src, p->opt.vm_out ? port_mac : other_mac, 6);
        memcpy(defaults.dst, p->opt.vm_out ? other_mac : port_mac, 6);
        g_ptr_array_add(p->words, NULL);
        frame = nwf_trace_frame_build((char **)p->words->pdata, &defaults, &error);
        g_ptr_array_set_size(p->words, p->words->len - 1);
    }
    if (frame)
        packet = nwf_trace_packet_decode(frame, &error);
    if (!packet) {
        if (batch)
            printf("error\n");
        fprintf(stderr, _("error: %s\n"), error->message);
        return EXIT_BAD_INPUT;
    }
    result = nwf_trace_run(program, packet, &p->opt);
    if (quiet || batch) {
        printf("%s\n", nwf_trace_verdict_name(result->verdict));
    } else {
        g_autofree char *text = nwf_trace_result_format(result, packet, &p->opt);
        fputs(text, stdout);
    }
    return result->verdict == NWF_TRACE_ACCEPT ? 0 : 1;
}

/* The binding of PORT on the daemon at SOCKET_PATH, compiled with VARS
 * (NAME=VALUE) on top. */
static NwfRuleProgram *
compile_live(const char *socket_path, const char *port, char **vars, NwfCompileInfo *info,
             GError **error)
{
    const char *no_dirs[] = { NULL };
    g_autoptr(NwfTraceFilters) filters = nwf_trace_filters_new(no_dirs);
    g_autoptr(NwfParams) extra = nwf_params_new();
    g_autoptr(NwfBindingDef) binding = NULL;

    if (!nwf_tool_program_parse_vars(vars, extra, error))
        return NULL;
    binding = nwf_trace_live_fetch(socket_path, port, filters, error);
    if (!binding)
        return NULL;
    return nwf_compile_binding(binding, nwf_trace_filters_lookup, filters, extra, info, error);
}

static void
packet_args_init(PacketArgs *p)
{
    memset(p, 0, sizeof(*p));
    p->opt.ct_state = NWF_TRACE_CT_NEW;
    p->opt.ct_dir = NWF_CT_DIR_ORIGINAL;
    p->opt.connections = 1;
    p->words = g_ptr_array_new();
}

/* Each line: per-packet options and words; the command line's options are
 * the defaults. Exit status: 2 when any line was bad, else 0. */
static int
run_batch(const NwfRuleProgram *program, const PacketArgs *base, const char *file)
{
    gsize len = 0;
    g_autofree char *data = nwf_tool_read_input(file, &len);
    const char *end = data + len;
    guint n = 0;
    int rc = 0;

    if (!data)
        return EXIT_BAD_INPUT;
    /* line by line with memchr: batches run to hundreds of thousands of
     * lines, and rescanning the rest of the text per line adds up */
    for (const char *line = data; line < end;) {
        const char *nl = memchr(line, '\n', (gsize)(end - line));
        g_autofree char *text = g_strndup(line, (gsize)((nl ? nl : end) - line));
        g_auto(GStrv) argv = NULL;
        g_autoptr(GError) error = NULL;
        PacketArgs p = *base;
        int argc = 0;

        n++;
        line = nl ? nl + 1 : end;
        if (*g_strstrip(text) == '\0' || text[0] == '#')
            continue;
        p.words = g_ptr_array_new();
        if (!g_shell_parse_argv(text, &argc, &argv, &error) ||
            !parse_packet_args(argc, argv, &p)) {
            if (error)
                fprintf(stderr, _("error: %s line %u: %s\n"), file, n, error->message);
            printf("error\n");
            rc = EXIT_BAD_INPUT;
        } else if (trace_one(program, &p, TRUE, TRUE) == EXIT_BAD_INPUT) {
            fprintf(stderr, _("  (%s line %u)\n"), file, n);
            rc = EXIT_BAD_INPUT;
        }
        g_ptr_array_unref(p.words);
    }
    fflush(stdout);
    return rc;
}

int
nwf_cmd_trace(int argc, char **argv)
{
    NwfToolProgramOptions opts = { 0 };
    g_autofree char *direction = NULL, *state = NULL, *ct_dir = NULL, *frame = NULL;
    g_autofree char *batch = NULL, *backend = NULL, *live_port = NULL, *socket_path = NULL;
    gboolean to_host = FALSE, quiet = FALSE;
    gint connections = 1;
    const GOptionEntry entries[] = {
        { "binding", 'b', 0, G_OPTION_ARG_FILENAME, &opts.binding,
          N_("Binding XML (<filterbinding>) whose filter tree to evaluate"), N_("FILE") },
        { "filter-dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &opts.filter_dirs,
          N_("Directory of filters NAME.xml (repeatable; searched before the stock filters)"),
          N_("DIR") },
        { "var", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &opts.vars,
          N_("Variable value, e.g. a learned IP (repeat a name to make a list)"), N_("NAME=VALUE") },
        { "no-stock-filters", 0, 0, G_OPTION_ARG_NONE, &opts.no_stock,
          N_("Do not fall back to the stock filters"), NULL },
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path,
          N_("a running daemon's socket: trace its binding of --port instead of --binding"),
          N_("PATH") },
        { "port", 0, 0, G_OPTION_ARG_STRING, &live_port,
          N_("with --socket: the port (device) whose binding to trace"), N_("DEV") },
        { "backend", 0, 0, G_OPTION_ARG_STRING, &backend,
          N_("whose rules the kernel runs: nft (default) or ebiptables; they differ for "
             "VLAN encap-protocol and STP fields"), N_("NAME") },
        { "direction", 0, 0, G_OPTION_ARG_STRING, &direction,
          N_("out: a frame the VM sends; in: a frame sent to the VM"), "in|out" },
        { "state", 0, 0, G_OPTION_ARG_STRING, &state,
          N_("conntrack state: new (default), established, related, invalid, untracked"), N_("STATE") },
        { "ct-dir", 0, 0, G_OPTION_ARG_STRING, &ct_dir,
          N_("the packet's conntrack direction (default original)"), "original|reply" },
        { "to-host", 0, 0, G_OPTION_ARG_NONE, &to_host,
          N_("(out) the packet is addressed to the host, not bridged"), NULL },
        { "connections", 0, 0, G_OPTION_ARG_INT, &connections,
          N_("what connlimit counts (default 1: this connection)"), N_("N") },
        { "frame", 0, 0, G_OPTION_ARG_STRING, &frame,
          N_("the whole Ethernet frame as hex digits"), N_("HEX") },
        { "batch", 0, 0, G_OPTION_ARG_FILENAME, &batch,
          N_("one packet per line; prints one verdict per line"), N_("FILE") },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("print only the verdict"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(N_("[PACKET...]"));
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) program = NULL;
    g_autoptr(GPtrArray) line = g_ptr_array_new();
    NwfCompileInfo info = { 0 };
    PacketArgs p;
    int rc = EXIT_BAD_INPUT;

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx, summary_text);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, _("error: %s\n"), error->message);
        nwf_tool_program_options_clear(&opts);
        return EXIT_BAD_INPUT;
    }
    /* the per-packet options go through the same parser as a batch line */
    packet_args_init(&p);
    if (direction) {
        g_ptr_array_add(line, (gpointer)"--direction");
        g_ptr_array_add(line, direction);
    }
    if (state) {
        g_ptr_array_add(line, (gpointer)"--state");
        g_ptr_array_add(line, state);
    }
    if (ct_dir) {
        g_ptr_array_add(line, (gpointer)"--ct-dir");
        g_ptr_array_add(line, ct_dir);
    }
    if (frame) {
        g_ptr_array_add(line, (gpointer)"--frame");
        g_ptr_array_add(line, frame);
    }
    if (to_host)
        g_ptr_array_add(line, (gpointer)"--to-host");
    for (int i = 1; i < argc; i++)
        g_ptr_array_add(line, argv[i]);
    if (connections < 0) {
        fprintf(stderr, _("error: --connections must not be negative\n"));
    } else if (!opts.binding == !socket_path || !socket_path != !live_port) {
        fprintf(stderr, _("error: give --binding FILE, or --socket PATH and --port DEV "
                  "(see nwfilter trace --help)\n"));
    } else if (backend && !nwf_trace_backend_parse(backend, &p.opt.backend)) {
        fprintf(stderr, _("error: --backend must be nft or ebiptables, not '%s'\n"), backend);
    } else if (parse_packet_args((int)line->len, (char **)line->pdata, &p)) {
        p.opt.connections = (guint)connections;
        program = socket_path ? compile_live(socket_path, live_port, opts.vars, &info, &error)
                              : nwf_tool_program_compile(&opts, &info, &error);
        if (!program) {
            fprintf(stderr, _("error: %s\n"), error->message);
            if (info.needs_ip)
                fprintf(stderr,
                        _("hint: the daemon would learn IP; give it with --var IP=ADDRESS\n"));
        } else if (batch && (p.frame_hex || p.words->len)) {
            fprintf(stderr, _("error: --batch takes its packets from the file only\n"));
        } else if (batch) {
            rc = run_batch(program, &p, batch);
        } else {
            rc = trace_one(program, &p, quiet, FALSE);
        }
    }
    g_ptr_array_unref(p.words);
    nwf_tool_program_options_clear(&opts);
    return rc;
}
