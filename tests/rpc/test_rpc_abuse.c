/* Hostile and heavy input: broken length words, truncated frames, garbage
 * payloads, thousands of idle connections, a client that never reads, and
 * many busy clients at once. After each, the server must still answer a
 * well-behaved client promptly. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpc_harness.h"

/* A fresh client gets through the whole handshake and a driver call. */
static void
assert_served(Harness *h)
{
    int fd = client_connect(h->rw_path);
    guint32 s = client_handshake(fd, "nwfilter:///system", 0);
    NwfRpcInt num;

    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_NUM_OF_NWFILTERS, s, &nwf_rpc_codec_void,
                                 NULL, &nwf_rpc_codec_int, &num, NULL), ==, 0);
    close(fd);
}

static guint
count_fds(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    guint n = 0;

    g_assert_nonnull(d);
    while (g_dir_read_name(d))
        n++;
    return n;
}

static void
test_bad_length(gconstpointer data)
{
    guint32 len = GPOINTER_TO_UINT(data);
    Harness *h = harness_start(NULL);
    int fd = client_connect(h->rw_path);
    guint8 msg[64] = { len >> 24, len >> 16, len >> 8, len };

    /* The header of an AUTH_LIST call after the bad word. */
    msg[7] = 0x86;
    client_send_bytes(fd, msg, sizeof(msg));
    g_assert_true(client_wait_eof(fd));
    close(fd);
    assert_served(h);
    harness_stop(h);
}

/* Frames that stop half-way: one left hanging, one cut by a hang-up. */
static void
test_truncated(void)
{
    Harness *h = harness_start(NULL);
    NwfRpcHeader hdr = { NWF_RPC_PROGRAM_REMOTE, 1, NWF_PROC_AUTH_LIST, 0, 0, 0 };
    g_autoptr(GBytes) msg = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_void, NULL);
    const guint8 *bytes = g_bytes_get_data(msg, NULL);
    static const guint8 big[] = { 0x02, 0x00, 0x00, 0x04, 0x20, 0x00, 0x80, 0x86 };
    int hanging = client_connect(h->rw_path);
    int cut = client_connect(h->rw_path);
    int huge = client_connect(h->rw_path);

    for (guint n = 1; n < g_bytes_get_size(msg); n++) {
        int fd = client_connect(h->rw_path);

        client_send_bytes(fd, bytes, n);
        close(fd);
    }
    client_send_bytes(hanging, bytes, 10);
    client_send_bytes(cut, bytes, 20);
    close(cut);
    /* The largest frame libvirt allows, announced but never sent. */
    client_send_bytes(huge, big, sizeof(big));
    assert_served(h);
    /* The hanging frame completes later and is answered then. */
    client_send_bytes(hanging, bytes + 10, g_bytes_get_size(msg) - 10);
    g_autoptr(GBytes) reply = client_recv(hanging);
    g_assert_nonnull(reply);
    close(hanging);
    close(huge);
    harness_stop(h);
}

/* Random payloads behind valid headers of every known procedure. */
static void
test_garbage_payloads(void)
{
    Harness *h = harness_start(NULL);
    int fd = client_connect(h->rw_path);
    guint32 serial = client_handshake(fd, "nwfilter:///system", 0);
    GRand *rand = g_rand_new_with_seed(4242);
    static const gint32 procs[] = {
        1, 60, 66, 175, 176, 177, 178, 179, 180, 181, 286, 397, 398, 399, 400, 401, 419, 431,
    };

    for (guint round = 0; round < 400; round++) {
        guint len = g_rand_int_range(rand, 0, 200);
        g_autoptr(GByteArray) msg = g_byte_array_new();
        NwfRpcHeader hdr = { NWF_RPC_PROGRAM_REMOTE, 1,
                             procs[g_rand_int_range(rand, 0, G_N_ELEMENTS(procs))],
                             NWF_RPC_TYPE_CALL, serial++, 0 };
        g_autoptr(GBytes) head = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_void, NULL);
        g_autoptr(GBytes) reply = NULL;
        NwfRpcHeader rh;
        guint32 total;

        g_byte_array_append(msg, g_bytes_get_data(head, NULL), NWF_RPC_HEADER_SIZE);
        for (guint i = 0; i < len; i++) {
            /* Small numbers make lengths and counts that nearly fit. */
            guint8 b = g_rand_boolean(rand) ? 0 : g_rand_int_range(rand, 0, 256);

            g_byte_array_append(msg, &b, 1);
        }
        total = msg->len;
        msg->data[0] = total >> 24;
        msg->data[1] = total >> 16;
        msg->data[2] = total >> 8;
        msg->data[3] = total;
        client_send_bytes(fd, msg->data, msg->len);
        reply = client_recv(fd);
        g_assert_nonnull(reply);
        nwf_rpc_header_decode(g_bytes_get_data(reply, NULL), &rh);
        g_assert_cmpuint(rh.serial, ==, hdr.serial);
        g_assert_cmpint(rh.proc, ==, hdr.proc);
        /* An OPEN that happened to decode ends the handshake state. */
        if (hdr.proc == NWF_PROC_CONNECT_OPEN && rh.status == 0)
            break;
    }
    g_rand_free(rand);
    close(fd);
    assert_served(h);
    harness_stop(h);
}

/* Child side of the idle test: open COUNT connections to PATH, report on
 * REPORT how many, then hold them until STOP closes. Raw calls only:
 * this runs in a forked copy of a threaded process. */
static void G_GNUC_NORETURN
idle_child(const char *path, guint count, int report, int stop)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    guint opened = 0;
    char byte;

    strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
    for (; opened < count; opened++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
            break;
    }
    if (write(report, &opened, sizeof(opened)) != sizeof(opened))
        _exit(1);
    while (read(stop, &byte, 1) < 0 && errno == EINTR)
        ;
    _exit(0);
}

static void
test_idle_connections(void)
{
    struct rlimit rl;
    Harness *h;
    guint want = 10000;
    guint opened = 0;
    int report[2], stop[2];
    pid_t child;
    int status;

    /* The server end of every connection lives in this process, the
     * client end in a child, so each needs one descriptor per connection. */
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    if (rl.rlim_cur < want + 100)
        want = rl.rlim_cur - 100;
    g_test_message("%u idle connections (fd limit %lu)", want, (unsigned long)rl.rlim_cur);
    g_assert_cmpuint(want, >=, 1000);

    h = harness_start(NULL);
    g_assert_cmpint(pipe(report), ==, 0);
    g_assert_cmpint(pipe(stop), ==, 0);
    child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        close(report[0]);
        close(stop[1]);
        idle_child(h->rw_path, want, report[1], stop[0]);
    }
    close(report[1]);
    close(stop[0]);
    g_assert_cmpint(read(report[0], &opened, sizeof(opened)), ==, sizeof(opened));
    g_assert_cmpuint(opened, ==, want);
    /* Accepting is asynchronous: wait until the server holds them all. */
    for (int tries = 0; tries < 400 && harness_client_count(h) < want; tries++)
        g_usleep(50000);
    g_assert_cmpuint(harness_client_count(h), ==, want);
    {
        gint64 start = g_get_monotonic_time();

        assert_served(h);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
    }
    close(stop[1]);
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(report[0]);
    for (int tries = 0; tries < 400 && harness_client_count(h) > 0; tries++)
        g_usleep(50000);
    g_assert_cmpuint(harness_client_count(h), ==, 0);
    harness_stop(h);
}

/* A client pipelines calls with big answers and never reads them: the
 * server stops taking its calls once the replies pile up, and everyone
 * else is still served. */
static void
test_never_reads(void)
{
    NwfRpcServerConfig cfg;
    Harness *h;
    int fd, setup;
    guint32 serial;
    NwfRpcListAllArgs all = { 1, 0 };
    NwfRpcHeader hdr = { NWF_RPC_PROGRAM_REMOTE, 1, NWF_PROC_CONNECT_LIST_ALL_NWFILTERS,
                         NWF_RPC_TYPE_CALL, 0, 0 };
    guint sent = 0;
    guint before;

    nwf_rpc_server_config_init(&cfg);
    cfg.max_client_output = 256 * 1024;
    h = harness_start(&cfg);
    setup = client_connect(h->rw_path);
    serial = client_handshake(setup, "nwfilter:///system", 0);
    for (guint i = 0; i < 300; i++) {
        g_autofree char *xml = g_strdup_printf("<filter name='flood-%03u-%0100u'/>", i, 0);
        NwfRpcString arg = { xml };
        NwfRpcNwfilter f;

        g_assert_cmpuint(client_call(setup, NWF_PROC_NWFILTER_DEFINE_XML, serial++,
                                     &nwf_rpc_codec_string, &arg, &nwf_rpc_codec_nwfilter, &f,
                                     NULL), ==, 0);
        nwf_xdr_free(&nwf_rpc_codec_nwfilter, &f);
    }
    close(setup);

    fd = client_connect(h->rw_path);
    serial = client_handshake(fd, "nwfilter:///system", 0);
    before = fake_driver_calls(h->fake);
    /* Each reply is ~40 KiB; send until the socket refuses more. */
    for (;;) {
        g_autoptr(GBytes) msg = NULL;
        gsize len;
        const void *data;
        ssize_t n;

        hdr.serial = serial++;
        msg = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_list_all_args, &all);
        data = g_bytes_get_data(msg, &len);
        n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            g_usleep(100000);
            n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0)
                break;
        }
        g_assert_cmpint(n, ==, (ssize_t)len);
        sent++;
        g_assert_cmpuint(sent, <, 1000000);
    }
    g_test_message("%u calls sent, %u run", sent, fake_driver_calls(h->fake) - before);
    /* Calls run are bounded by the output limit plus socket buffers, far
     * fewer than were sent. */
    g_assert_cmpuint(fake_driver_calls(h->fake) - before, <, sent / 2);
    g_assert_cmpuint(fake_driver_calls(h->fake) - before, <, 200);
    assert_served(h);
    close(fd);
    assert_served(h);
    harness_stop(h);
}

/* Past max_clients a connection is accepted and closed at once; the
 * clients already in are not disturbed and a freed slot is usable. */
static void
test_max_clients(void)
{
    NwfRpcServerConfig cfg;
    Harness *h;
    int fds[3];
    int extra;

    nwf_rpc_server_config_init(&cfg);
    cfg.max_clients = 3;
    h = harness_start(&cfg);
    for (guint i = 0; i < G_N_ELEMENTS(fds); i++)
        fds[i] = client_connect(h->rw_path);
    for (int tries = 0; tries < 100 && harness_client_count(h) < 3; tries++)
        g_usleep(10000);
    g_assert_cmpuint(harness_client_count(h), ==, 3);
    g_test_expect_message("nwfilter", G_LOG_LEVEL_WARNING, "refusing connection: 3 clients*");
    extra = client_connect(h->rw_path);
    g_assert_true(client_wait_eof(extra));
    g_test_assert_expected_messages();
    close(extra);
    client_handshake(fds[0], "nwfilter:///system", 0);
    close(fds[1]);
    for (int tries = 0; tries < 100 && harness_client_count(h) > 2; tries++)
        g_usleep(10000);
    assert_served(h);
    close(fds[0]);
    close(fds[2]);
    harness_stop(h);
}

typedef struct {
    Harness *h;
    guint id;
    guint failures;
} LoadClient;

static gpointer
load_client(gpointer data)
{
    LoadClient *lc = data;
    int fd = client_connect(lc->h->rw_path);
    guint32 s = client_handshake(fd, "nwfilter:///system", 0);

    for (guint i = 0; i < 100; i++) {
        /* Every fourth call defines the filter the next three look at. */
        g_autofree char *name = g_strdup_printf("load-%u-%u", lc->id, (i / 4) % 10);
        g_autofree char *xml = g_strdup_printf("<filter name='%s'/>", name);
        NwfRpcString arg = { xml };
        NwfRpcString by_name = { name };
        NwfRpcListAllArgs all = { 1, 0 };
        NwfRpcNwfilter f;
        NwfRpcNwfilterList list;
        NwfRpcError err;
        guint32 st;

        switch (i % 4) {
        case 0:
            st = client_call(fd, NWF_PROC_NWFILTER_DEFINE_XML, s++, &nwf_rpc_codec_string, &arg,
                             &nwf_rpc_codec_nwfilter, &f, &err);
            break;
        case 1:
            st = client_call(fd, NWF_PROC_NWFILTER_LOOKUP_BY_NAME, s++, &nwf_rpc_codec_string,
                             &by_name, &nwf_rpc_codec_nwfilter, &f, &err);
            break;
        case 2:
            st = client_call(fd, NWF_PROC_CONNECT_LIST_ALL_NWFILTERS, s++,
                             &nwf_rpc_codec_list_all_args, &all, &nwf_rpc_codec_nwfilter_list,
                             &list, &err);
            if (st == 0)
                nwf_xdr_free(&nwf_rpc_codec_nwfilter_list, &list);
            continue;
        default: {
            NwfRpcUuid by_uuid;

            st = client_call(fd, NWF_PROC_NWFILTER_LOOKUP_BY_NAME, s++, &nwf_rpc_codec_string,
                             &by_name, &nwf_rpc_codec_nwfilter, &f, &err);
            if (st != 0)
                break;
            memcpy(by_uuid.uuid, f.uuid, 16);
            nwf_xdr_free(&nwf_rpc_codec_nwfilter, &f);
            st = client_call(fd, NWF_PROC_NWFILTER_LOOKUP_BY_UUID, s++, &nwf_rpc_codec_uuid,
                             &by_uuid, &nwf_rpc_codec_nwfilter, &f, &err);
            break;
        }
        }
        if (st == 0)
            nwf_xdr_free(&nwf_rpc_codec_nwfilter, &f);
        else {
            lc->failures++;
            nwf_xdr_free(&nwf_rpc_codec_error, &err);
        }
    }
    client_call(fd, NWF_PROC_CONNECT_CLOSE, s++, &nwf_rpc_codec_void, NULL, &nwf_rpc_codec_void,
                NULL, NULL);
    close(fd);
    return NULL;
}

static void
test_load(void)
{
    Harness *h = harness_start(NULL);
    LoadClient clients[50];
    GThread *threads[50];
    guint fds_before;

    assert_served(h);
    for (int tries = 0; tries < 100 && harness_client_count(h) > 0; tries++)
        g_usleep(20000);
    fds_before = count_fds();
    for (guint i = 0; i < G_N_ELEMENTS(clients); i++) {
        clients[i] = (LoadClient){ h, i, 0 };
        threads[i] = g_thread_new("load", load_client, &clients[i]);
    }
    for (guint i = 0; i < G_N_ELEMENTS(clients); i++) {
        g_thread_join(threads[i]);
        g_assert_cmpuint(clients[i].failures, ==, 0);
    }
    for (int tries = 0; tries < 100 && harness_client_count(h) > 0; tries++)
        g_usleep(20000);
    g_assert_cmpuint(harness_client_count(h), ==, 0);
    g_assert_cmpuint(count_fds(), ==, fds_before);
    harness_stop(h);
}

int
main(int argc, char **argv)
{
    static const guint32 lengths[] = { 0, 3, 4, 27, 0x02000005u, 0x80000000u, 0xffffffffu };

    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(lengths); i++) {
        g_autofree char *name = g_strdup_printf("/rpc/abuse/length/%u", lengths[i]);

        g_test_add_data_func(name, GUINT_TO_POINTER(lengths[i]), test_bad_length);
    }
    g_test_add_func("/rpc/abuse/truncated", test_truncated);
    g_test_add_func("/rpc/abuse/garbage-payloads", test_garbage_payloads);
    g_test_add_func("/rpc/abuse/idle-connections", test_idle_connections);
    g_test_add_func("/rpc/abuse/never-reads", test_never_reads);
    g_test_add_func("/rpc/abuse/load", test_load);
    g_test_add_func("/rpc/abuse/max-clients", test_max_clients);
    return g_test_run();
}
