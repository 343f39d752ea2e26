/*
 * throttle_test.c — hub/identity/throttle.c, rule by rule: free failures, doubling waits and
 * their caps per account and per peer, the (account, device) counter used instead of the
 * account's, resets on success, decay after an hour, and the table's bound under a flood of
 * distinct peers with least-recently-touched eviction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "identity/throttle.h"

#include <stdio.h>

#define HOUR (60 * 60 * 1000)

/* A peer that has never failed: keeps the peer counter out of account tests. */
static const char *fresh_peer(void)
{
    static char peer[32];
    static unsigned n;
    snprintf(peer, sizeof(peer), "198.51.100.%u:%u", n % 250, n / 250);
    n++;
    return peer;
}

/* A fresh account: keeps the account counter out of peer tests. */
static const char *fresh_account(void)
{
    static char account[32];
    static unsigned n;
    snprintf(account, sizeof(account), "user%u", n++);
    return account;
}

static void account_waits_double_after_five_up_to_five_minutes(void **state)
{
    (void)state;
    rk_identity_throttle_t *t = rk_identity_throttle_new(1000);
    uint64_t now = 1000000;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now), 0);
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, now);
    }
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now), 0);
    uint64_t expected = 1000;
    for (int failure = 6; failure <= 30; failure++) {
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, now);
        uint64_t wait = rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now);
        assert_int_equal(wait, expected);
        assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now + wait - 1),
                         1);
        assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now + wait), 0);
        now += wait;
        expected = expected * 2 > 300000 ? 300000 : expected * 2;
    }
    /* The cap holds however long the attack goes on. */
    for (int i = 0; i < 1000; i++)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, now);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now), 300000);
    /* Other accounts are not affected. */
    assert_int_equal(rk_identity_throttle_wait(t, "bob", fresh_peer(), NULL, now), 0);
    rk_identity_throttle_free(t);
}

static void peer_waits_double_after_twenty_up_to_fifteen_minutes(void **state)
{
    (void)state;
    rk_identity_throttle_t *t = rk_identity_throttle_new(1000);
    const char *peer = "203.0.113.7";
    uint64_t now = 5;
    for (int i = 0; i < 20; i++)
        rk_identity_throttle_failed(t, fresh_account(), peer, NULL, now);
    assert_int_equal(rk_identity_throttle_wait(t, fresh_account(), peer, NULL, now), 0);
    uint64_t expected = 1000;
    for (int failure = 21; failure <= 40; failure++) {
        rk_identity_throttle_failed(t, fresh_account(), peer, NULL, now);
        assert_int_equal(rk_identity_throttle_wait(t, fresh_account(), peer, NULL, now), expected);
        expected = expected * 2 > 900000 ? 900000 : expected * 2;
    }
    assert_int_equal(rk_identity_throttle_wait(t, fresh_account(), peer, NULL, now), 900000);
    assert_int_equal(rk_identity_throttle_wait(t, fresh_account(), peer, NULL, now + 900000), 0);
    /* Other peers are not affected. */
    assert_int_equal(rk_identity_throttle_wait(t, fresh_account(), "203.0.113.8", NULL, now), 0);
    rk_identity_throttle_free(t);
}

static void the_longer_wait_applies(void **state)
{
    (void)state;
    rk_identity_throttle_t *t = rk_identity_throttle_new(1000);
    const char *peer = "203.0.113.9";
    /* 25 failures from peer (5 beyond free: 16 s), 8 of them on alice (3 beyond: 4 s). */
    for (int i = 0; i < 17; i++)
        rk_identity_throttle_failed(t, fresh_account(), peer, NULL, 0);
    for (int i = 0; i < 8; i++)
        rk_identity_throttle_failed(t, "alice", peer, NULL, 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", peer, NULL, 0), 16000);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, 0), 4000);
    assert_int_equal(rk_identity_throttle_wait(t, "bob", peer, NULL, 0), 16000);
    rk_identity_throttle_free(t);
}

static void trusted_device_is_counted_apart(void **state)
{
    (void)state;
    rk_identity_throttle_t *t = rk_identity_throttle_new(1000);
    /* An attacker hammers alice's username: her account counter is at its cap. */
    for (int i = 0; i < 100; i++)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, 0), 300000);
    /* Alice's own browser is checked against its own counter: she gets in. */
    assert_int_equal(rk_identity_throttle_wait(t, "alice", "192.0.2.1", "device-1", 0), 0);
    /* Her typos count against that counter (the same rule as the account's) ... */
    for (int i = 0; i < 5; i++)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), "device-1", 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), "device-1", 0), 0);
    rk_identity_throttle_failed(t, "alice", fresh_peer(), "device-1", 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), "device-1", 0), 1000);
    /* ... and not against the account's, nor another device's or account's. */
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, 1000), 299000);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), "device-2", 0), 0);
    assert_int_equal(rk_identity_throttle_wait(t, "bob", fresh_peer(), "device-1", 0), 0);
    /* A device id does not escape the peer counter. */
    const char *peer = "203.0.113.10";
    for (int i = 0; i < 21; i++)
        rk_identity_throttle_failed(t, fresh_account(), peer, NULL, 0);
    assert_int_equal(rk_identity_throttle_wait(t, "carol", peer, "device-3", 0), 1000);
    rk_identity_throttle_free(t);
}

static void success_resets_account_and_device_not_peer(void **state)
{
    (void)state;
    rk_identity_throttle_t *t = rk_identity_throttle_new(1000);
    const char *peer = "203.0.113.11";
    for (int i = 0; i < 21; i++)
        rk_identity_throttle_failed(t, "alice", peer, NULL, 0);
    for (int i = 0; i < 6; i++)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), "device-1", 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, 0), 300000);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), "device-1", 0), 1000);
    rk_identity_throttle_succeeded(t, "alice", peer, "device-1", 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, 0), 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), "device-1", 0), 0);
    assert_int_equal(rk_identity_throttle_wait(t, "bob", peer, NULL, 0), 1000);
    /* After the reset the five free failures are free again. */
    for (int i = 0; i < 5; i++)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, 10);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, 10), 0);
    /* Success without a device resets the account counter only. */
    for (int i = 0; i < 6; i++)
        rk_identity_throttle_failed(t, "dave", fresh_peer(), "device-9", 0);
    rk_identity_throttle_succeeded(t, "dave", fresh_peer(), NULL, 0);
    assert_int_equal(rk_identity_throttle_wait(t, "dave", fresh_peer(), "device-9", 0), 1000);
    rk_identity_throttle_free(t);
}

static void counters_decay_after_an_hour(void **state)
{
    (void)state;
    rk_identity_throttle_t *t = rk_identity_throttle_new(1000);
    /* Failures spread over less than an hour apart keep counting. */
    uint64_t now = 0;
    for (int i = 0; i < 6; i++, now += HOUR - 1)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, now);
    now -= HOUR - 1;
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now), 1000);
    /* An hour after the last failure, the counter is gone. */
    rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, now); /* 7th: 2 s */
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now + HOUR - 1), 0);
    size_t before = rk_identity_throttle_size(t);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now + HOUR), 0);
    assert_int_equal(rk_identity_throttle_size(t), before - 1); /* and forgotten */
    now += HOUR;
    for (int i = 0; i < 5; i++)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, now);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now), 0);
    rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, now);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, now), 1000);
    /* A peer counter decays the same way, even at its cap. */
    for (int i = 0; i < 60; i++)
        rk_identity_throttle_failed(t, fresh_account(), "203.0.113.12", NULL, now);
    assert_int_equal(rk_identity_throttle_wait(t, "x", "203.0.113.12", NULL, now), 900000);
    rk_identity_throttle_failed(t, fresh_account(), "203.0.113.12", NULL, now + HOUR);
    assert_int_equal(rk_identity_throttle_wait(t, "x", "203.0.113.12", NULL, now + HOUR), 0);
    rk_identity_throttle_free(t);
}

static void a_clock_stepping_back_never_waits_longer_than_the_rule(void **state)
{
    (void)state;
    rk_identity_throttle_t *t = rk_identity_throttle_new(10);
    for (int i = 0; i < 6; i++)
        rk_identity_throttle_failed(t, "alice", fresh_peer(), NULL, 10 * HOUR);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", fresh_peer(), NULL, 0), 1000);
    rk_identity_throttle_free(t);
}

static void the_table_stays_bounded_and_forgets_the_least_recent(void **state)
{
    (void)state;
    assert_null(rk_identity_throttle_new(0));
    rk_identity_throttle_t *t = rk_identity_throttle_new(64);
    for (int i = 0; i < 6; i++)
        rk_identity_throttle_failed(t, "alice", "192.0.2.1", NULL, 0);
    /* A flood of distinct peers and accounts; alice is checked now and then, which keeps her
     * counter among the most recently touched. */
    for (int i = 0; i < 20000; i++) {
        rk_identity_throttle_failed(t, fresh_account(), fresh_peer(), NULL, 0);
        assert_true(rk_identity_throttle_size(t) <= 64);
        if (i % 16 == 0)
            assert_int_equal(rk_identity_throttle_wait(t, "alice", "192.0.2.2", NULL, 0), 1000);
    }
    assert_int_equal(rk_identity_throttle_size(t), 64);
    /* Left alone through 32 floods' worth of new counters, it is forgotten. */
    for (int i = 0; i < 32; i++)
        rk_identity_throttle_failed(t, fresh_account(), fresh_peer(), NULL, 0);
    assert_int_equal(rk_identity_throttle_wait(t, "alice", "192.0.2.2", NULL, 0), 0);
    assert_int_equal(rk_identity_throttle_size(t), 64);
    rk_identity_throttle_free(t);

    /* One entry is a valid, if useless, table. */
    t = rk_identity_throttle_new(1);
    for (int i = 0; i < 10; i++)
        rk_identity_throttle_failed(t, "alice", "192.0.2.1", NULL, 0);
    assert_int_equal(rk_identity_throttle_size(t), 1);
    rk_identity_throttle_free(t);
    rk_identity_throttle_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(account_waits_double_after_five_up_to_five_minutes),
        cmocka_unit_test(peer_waits_double_after_twenty_up_to_fifteen_minutes),
        cmocka_unit_test(the_longer_wait_applies),
        cmocka_unit_test(trusted_device_is_counted_apart),
        cmocka_unit_test(success_resets_account_and_device_not_peer),
        cmocka_unit_test(counters_decay_after_an_hour),
        cmocka_unit_test(a_clock_stepping_back_never_waits_longer_than_the_rule),
        cmocka_unit_test(the_table_stays_bounded_and_forgets_the_least_recent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
