/*
 * throttle.h — slowing down password guessing: failed logins counted in memory, per hub.
 *
 * Pure logic: no I/O, no clock (the caller passes now_ms), no threads (use one table from
 * one thread, the loop). The caller asks rk_identity_throttle_wait() before verifying a
 * password and answers "try again in N seconds" when it is not 0, then reports the outcome
 * with rk_identity_throttle_failed() or rk_identity_throttle_succeeded().
 *
 * The rules:
 *   - Three kinds of counter: per account (the username as typed), per peer (the client's
 *     address), and per (account, device), where device is the id of a browser that has
 *     logged into that account before (a trusted-device cookie the caller has verified).
 *   - Account and (account, device): the first 5 failures are free; after the 6th the next
 *     attempt must wait 1 s after the last failure, after the 7th 2 s, then 4 s, … doubling,
 *     capped at 5 minutes. Peer: the first 20 are free, then 1 s doubling, capped at 15
 *     minutes. A wait is the largest of the counters that apply.
 *   - Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): an
 *     attempt that presents a device id is counted and checked against its (account, device)
 *     counter instead of the account counter, so someone hammering a victim's username
 *     cannot lock the victim out of their own browser. The peer counter applies to everyone.
 *   - Every wait is capped, so nobody is locked out for good.
 *   - Decay: a counter with no failure for 1 hour is forgotten (counts as zero).
 *   - Success resets the account counter and, given a device, the (account, device) counter;
 *     the peer's counter is kept (one address may guess many accounts and know one).
 *
 * Bounds: keys are digested with SHA-256 under a random per-table key (so nobody can choose
 * names that collide in the hash table), and the table holds at most max_entries counters;
 * when it is full the least recently touched one is forgotten. A flood of distinct peers
 * therefore costs bounded memory, but it also pushes old counters out: size max_entries
 * well above the number of distinct keys that fail within an hour.
 *
 * Used by the login handler of the authorization code flow.
 */
#ifndef RK_IDENTITY_THROTTLE_H
#define RK_IDENTITY_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define RK_IDENTITY_THROTTLE_ACCOUNT_FREE 5
#define RK_IDENTITY_THROTTLE_ACCOUNT_CAP_MS (5 * 60 * 1000)
#define RK_IDENTITY_THROTTLE_PEER_FREE 20
#define RK_IDENTITY_THROTTLE_PEER_CAP_MS (15 * 60 * 1000)
#define RK_IDENTITY_THROTTLE_FIRST_WAIT_MS 1000
#define RK_IDENTITY_THROTTLE_DECAY_MS (60 * 60 * 1000)

typedef struct rk_identity_throttle rk_identity_throttle_t;

/**
 * An empty table of at most max_entries (at least 1) counters; free it with
 * rk_identity_throttle_free(). NULL when max_entries is 0 or no random key can be drawn.
 */
rk_identity_throttle_t *rk_identity_throttle_new(size_t max_entries);

/** Frees the table. NULL is allowed. */
void rk_identity_throttle_free(rk_identity_throttle_t *t);

/**
 * 0 when a login attempt for account from peer may be made at now_ms, else how many
 * milliseconds to wait. account and peer are NUL-terminated; device is a verified
 * trusted-device id for this account, or NULL. Counts as a touch of the counters it reads.
 */
uint64_t rk_identity_throttle_wait(rk_identity_throttle_t *t, const char *account, const char *peer,
                                   const char *device, uint64_t now_ms);

/** Counts a failed attempt (wrong password, or unknown account) against the counters. */
void rk_identity_throttle_failed(rk_identity_throttle_t *t, const char *account, const char *peer,
                                 const char *device, uint64_t now_ms);

/** A successful login: resets the account's counter and the (account, device) one. */
void rk_identity_throttle_succeeded(rk_identity_throttle_t *t, const char *account,
                                    const char *peer, const char *device, uint64_t now_ms);

/** Counters held now (at most max_entries): for metrics and tests. */
size_t rk_identity_throttle_size(const rk_identity_throttle_t *t);

#endif
