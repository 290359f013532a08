/* The lease table (add, renew without take-backs, several leases, release,
 * expiry), the per-port rate limiter and the lease file round trip. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <glib/gstdio.h>

#include "nwfilter/learn_lease.h"
#include "nwfilter/learn_lease_file.h"
#include "nwfilter/learn_ratelimit.h"

static NwfLease
lease4(const char *addr, const char *server, gint64 expiry)
{
    NwfLease lease = { .family = AF_INET, .expiry = expiry };

    g_assert_cmpint(inet_pton(AF_INET, addr, &lease.addr.v4), ==, 1);
    if (server) {
        lease.has_server = TRUE;
        g_assert_cmpint(inet_pton(AF_INET, server, &lease.server.v4), ==, 1);
    }
    return lease;
}

static NwfLease
lease6(const char *addr, gint64 expiry)
{
    NwfLease lease = { .family = AF_INET6, .expiry = expiry };

    g_assert_cmpint(inet_pton(AF_INET6, addr, &lease.addr.v6), ==, 1);
    return lease;
}

static char *
joined(const NwfLeaseTable *table, int family)
{
    g_autoptr(GPtrArray) addrs = nwf_lease_table_addresses(table, family);

    g_ptr_array_add(addrs, NULL);
    return g_strjoinv(",", (char **)addrs->pdata);
}

#define assert_addrs(table, family, want) \
    do { \
        g_autofree char *got_ = joined(table, family); \
        g_assert_cmpstr(got_, ==, want); \
    } while (0)

static void
test_add_renew(void)
{
    g_autoptr(NwfLeaseTable) t = nwf_lease_table_new();
    NwfLease a = lease4("10.0.0.5", "10.0.0.1", 1000);
    NwfLease shorter = lease4("10.0.0.5", "10.0.0.2", 500);
    NwfLease longer = lease4("10.0.0.5", "10.0.0.1", 2000);
    struct in_addr addr;

    g_assert_true(nwf_lease_table_add(t, &a));
    /* A renewal is not a new address. */
    g_assert_false(nwf_lease_table_add(t, &shorter));
    inet_pton(AF_INET, "10.0.0.5", &addr);
    /* No take-backs: the shorter lease did not cut the expiry. */
    g_assert_cmpint(nwf_lease_table_find(t, AF_INET, &addr)->expiry, ==, 1000);
    g_assert_false(nwf_lease_table_add(t, &longer));
    g_assert_cmpint(nwf_lease_table_find(t, AF_INET, &addr)->expiry, ==, 2000);
    g_assert_cmpuint(nwf_lease_table_count(t, 0), ==, 1);
    assert_addrs(t, AF_INET, "10.0.0.5");
}

static void
test_several_and_release(void)
{
    g_autoptr(NwfLeaseTable) t = nwf_lease_table_new();
    NwfLease a = lease4("10.0.0.5", "10.0.0.1", 1000);
    NwfLease b = lease4("10.0.0.6", "10.0.0.1", 1000);
    NwfLease c = lease6("2001:db8::5", NWF_LEASE_NEVER);
    struct in_addr addr;

    g_assert_true(nwf_lease_table_add(t, &a));
    g_assert_true(nwf_lease_table_add(t, &b));
    g_assert_true(nwf_lease_table_add(t, &c));
    assert_addrs(t, AF_INET, "10.0.0.5,10.0.0.6");
    assert_addrs(t, AF_INET6, "2001:db8::5");
    g_assert_cmpuint(nwf_lease_table_count(t, AF_INET), ==, 2);
    g_assert_cmpuint(nwf_lease_table_count(t, AF_INET6), ==, 1);

    /* Release (or decline) of one lease keeps the other. */
    inet_pton(AF_INET, "10.0.0.5", &addr);
    g_assert_true(nwf_lease_table_remove(t, AF_INET, &addr));
    g_assert_false(nwf_lease_table_remove(t, AF_INET, &addr));
    assert_addrs(t, AF_INET, "10.0.0.6");
}

static void
test_expiry(void)
{
    g_autoptr(NwfLeaseTable) t = nwf_lease_table_new();
    NwfLease a = lease4("10.0.0.5", "10.0.0.1", 100);
    NwfLease b = lease4("10.0.0.6", "10.0.0.1", 200);
    NwfLease c = lease6("fe80::1", NWF_LEASE_NEVER);

    nwf_lease_table_add(t, &a);
    nwf_lease_table_add(t, &b);
    nwf_lease_table_add(t, &c);
    g_assert_cmpint(nwf_lease_table_next_expiry(t), ==, 100);
    g_assert_false(nwf_lease_table_expire(t, 99));
    g_assert_true(nwf_lease_table_expire(t, 100));
    assert_addrs(t, AF_INET, "10.0.0.6");
    g_assert_cmpint(nwf_lease_table_next_expiry(t), ==, 200);
    g_assert_true(nwf_lease_table_expire(t, 10000));
    assert_addrs(t, AF_INET, "");
    g_assert_cmpint(nwf_lease_table_next_expiry(t), ==, NWF_LEASE_NEVER);
    assert_addrs(t, AF_INET6, "fe80::1");
}

static void
test_rate_limit(void)
{
    NwfRateLimit rl;
    gint64 t = 5 * G_USEC_PER_SEC;
    guint passed = 0;

    nwf_rate_limit_init(&rl, 100, 20, t);
    /* A burst drains the bucket, then only the refill rate passes. */
    for (guint i = 0; i < 50; i++)
        passed += nwf_rate_limit_take(&rl, t);
    g_assert_cmpuint(passed, ==, 20);
    g_assert_cmpuint(rl.dropped, ==, 30);

    /* One simulated second of a 10,000 frames/s flood: about rate frames. */
    passed = 0;
    for (guint i = 0; i < 10000; i++) {
        t += 100;
        passed += nwf_rate_limit_take(&rl, t);
    }
    g_assert_cmpuint(passed, >=, 99);
    g_assert_cmpuint(passed, <=, 101);

    /* An idle period refills no more than the burst. */
    t += 60 * G_USEC_PER_SEC;
    passed = 0;
    for (guint i = 0; i < 100; i++)
        passed += nwf_rate_limit_take(&rl, t);
    g_assert_cmpuint(passed, ==, 20);

    /* A clock going back refills nothing. */
    g_assert_false(nwf_rate_limit_take(&rl, t - G_USEC_PER_SEC));
}

#define KEY_A "aaaaaaaa-0000-4000-8000-000000000001-52:54:00:12:34:56"
#define KEY_B "aaaaaaaa-0000-4000-8000-000000000002-52:54:00:12:34:57"

static void
test_file_round_trip(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("nwf-learn-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "sub", "nwfilter.leases", NULL);
    g_autoptr(GHashTable) tables = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify)nwf_lease_table_free);
    g_autoptr(GHashTable) loaded = NULL;
    g_autofree char *text = NULL;
    g_autofree char *again = NULL;
    NwfLeaseTable *a = nwf_lease_table_new();
    NwfLeaseTable *b = nwf_lease_table_new();
    NwfLease l1 = lease4("10.0.0.5", "10.0.0.1", 5000);
    NwfLease l2 = lease4("10.0.0.6", NULL, NWF_LEASE_NEVER);
    NwfLease l3 = lease6("2001:db8::5", 900);
    NwfLease l4 = lease4("10.0.0.9", "10.0.0.1", 1500);

    g_assert_no_error(error);
    nwf_lease_table_add(a, &l1);
    nwf_lease_table_add(a, &l2);
    nwf_lease_table_add(a, &l3);
    nwf_lease_table_add(b, &l4);
    g_hash_table_insert(tables, g_strdup(KEY_B), b);
    g_hash_table_insert(tables, g_strdup(KEY_A), a);

    text = nwf_lease_file_format(tables);
    g_assert_cmpstr(text, ==,
                    "5000 " KEY_A " 10.0.0.5 10.0.0.1\n"
                    "9223372036854775807 " KEY_A " 10.0.0.6 0.0.0.0\n"
                    "900 " KEY_A " 2001:db8::5 ::\n"
                    "1500 " KEY_B " 10.0.0.9 10.0.0.1\n");
    g_assert_true(nwf_lease_file_save(path, tables, &error));
    g_assert_no_error(error);

    /* At 1000 the IPv6 lease (900) has expired and is dropped on load. */
    loaded = nwf_lease_file_load(path, 1000, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(loaded), ==, 2);
    assert_addrs(g_hash_table_lookup(loaded, KEY_A), AF_INET, "10.0.0.5,10.0.0.6");
    assert_addrs(g_hash_table_lookup(loaded, KEY_A), AF_INET6, "");
    g_assert_false(nwf_lease_table_get(g_hash_table_lookup(loaded, KEY_A), 1)->has_server);
    again = nwf_lease_file_format(loaded);
    g_assert_cmpstr(again, ==,
                    "5000 " KEY_A " 10.0.0.5 10.0.0.1\n"
                    "9223372036854775807 " KEY_A " 10.0.0.6 0.0.0.0\n"
                    "1500 " KEY_B " 10.0.0.9 10.0.0.1\n");
    g_clear_pointer(&loaded, g_hash_table_unref);

    /* At 2000 B's only lease is gone, and so is B. */
    loaded = nwf_lease_file_load(path, 2000, &error);
    g_assert_cmpuint(g_hash_table_size(loaded), ==, 1);
    g_assert_false(g_hash_table_contains(loaded, KEY_B));

    g_unlink(path);
    g_clear_pointer(&loaded, g_hash_table_unref);
    loaded = nwf_lease_file_load(path, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(loaded), ==, 0);
    g_autofree char *sub = g_path_get_dirname(path);
    g_rmdir(sub);
    g_rmdir(dir);
}

/* libvirt's append-log form: later records win, expiry 0 removes; malformed
 * lines are skipped. */
static void
test_file_log_form(void)
{
    g_autoptr(GHashTable) t = NULL;

    for (guint line = 4; line <= 7; line++) {
        g_autofree char *pattern = g_strdup_printf("*malformed line %u:*", line);
        g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, pattern);
    }
    t = nwf_lease_file_parse(
        "3000 " KEY_A " 10.0.0.5 10.0.0.1\n"
        "3000 " KEY_A " 10.0.0.7 10.0.0.1\n"
        "0 " KEY_A " 10.0.0.5 10.0.0.1\n"
        "garbage line\n"
        "3000 " KEY_A " 10.0.0.300 10.0.0.1\n"
        "3000 " KEY_A " 2001:db8::1 10.0.0.1\n"
        "x " KEY_A " 10.0.0.8 10.0.0.1\n"
        "\n"
        "0 " KEY_B " 10.0.0.9 10.0.0.1\n", 100);
    g_test_assert_expected_messages();

    g_assert_cmpuint(g_hash_table_size(t), ==, 1);
    assert_addrs(g_hash_table_lookup(t, KEY_A), AF_INET, "10.0.0.7");
    assert_addrs(g_hash_table_lookup(t, KEY_A), AF_INET6, "");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/learn/lease/add-renew-no-take-backs", test_add_renew);
    g_test_add_func("/learn/lease/several-and-release", test_several_and_release);
    g_test_add_func("/learn/lease/expiry", test_expiry);
    g_test_add_func("/learn/ratelimit/token-bucket", test_rate_limit);
    g_test_add_func("/learn/lease-file/round-trip", test_file_round_trip);
    g_test_add_func("/learn/lease-file/log-form", test_file_log_form);
    return g_test_run();
}
