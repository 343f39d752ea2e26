/*
 * password.h — resident accounts' passwords: the policy, argon2id hashing and verification.
 *
 * Passwords are stored only as argon2id PHC strings ("$argon2id$v=19$m=19456,t=2,p=1$salt$tag",
 * the OWASP minimum parameters), with a random 16-byte salt and a 32-byte tag. Hashing and
 * verifying are deliberately slow (tens of milliseconds of CPU and 19 MiB of memory), so they
 * block: call them on a worker thread (core/worker.h), never on the loop. Every function here
 * is thread-safe and does no I/O besides OpenSSL's random generator.
 *
 * Verification reads m, t and p from the stored string, so it refuses strings whose cost is
 * out of bounds (a tampered row must not make the hub allocate gigabytes) and any other
 * variant than argon2id. For logins with an unknown username, rk_identity_password_verify_dummy()
 * spends the time of a real verification, so timing does not say whether an account exists.
 *
 * Used by the login and account handlers of the authorization code flow.
 */
#ifndef RK_IDENTITY_PASSWORD_H
#define RK_IDENTITY_PASSWORD_H

#include <stddef.h>

#define RK_IDENTITY_PASSWORD_MIN 8        /* bytes */
#define RK_IDENTITY_PASSWORD_MAX 256      /* bytes; longer is refused before hashing */
#define RK_IDENTITY_PASSWORD_HASH_MAX 160 /* encoded PHC string, NUL included */
#define RK_IDENTITY_ARGON2_M_KIB 19456    /* OWASP minimum: m = 19 MiB, t = 2, p = 1 */
#define RK_IDENTITY_ARGON2_T 2
#define RK_IDENTITY_ARGON2_P 1
#define RK_IDENTITY_ARGON2_VERIFY_M_MAX 1048576 /* KiB (1 GiB): bounds a stored string's cost */
#define RK_IDENTITY_ARGON2_VERIFY_T_MAX 10
#define RK_IDENTITY_ARGON2_VERIFY_P_MAX 4

/**
 * Whether password (len bytes, not NUL-terminated; NULL only with len 0) may be set: from
 * RK_IDENTITY_PASSWORD_MIN to RK_IDENTITY_PASSWORD_MAX bytes of valid UTF-8 without control
 * characters (U+0000–U+001F, U+007F–U+009F). RK_OK, or RK_EINVAL with *why a static message
 * naming the rule: "password: must be at least 8 bytes", "password: must be at most 256
 * bytes", "password: must be valid UTF-8", "password: must not contain control characters".
 */
int rk_identity_password_policy(const char *password, size_t len, const char **why);

/**
 * Hashes password (len bytes) with argon2id at RK_IDENTITY_ARGON2_* and a fresh random salt
 * into out, a NUL-terminated PHC string. Blocking (about 30–60 ms). RK_OK; RK_EINVAL when
 * the policy refuses the password; RK_EIO when the random generator or argon2 fails (out is
 * then the empty string).
 */
int rk_identity_password_hash(const char *password, size_t len,
                              char out[RK_IDENTITY_PASSWORD_HASH_MAX]);

/**
 * Checks password (len bytes) against encoded, in constant time. Blocking. Returns 1 when it
 * matches, 0 when it does not (also for a password longer than RK_IDENTITY_PASSWORD_MAX,
 * without hashing it), RK_EINVAL when encoded is not an argon2id v=19 PHC string shorter than
 * RK_IDENTITY_PASSWORD_HASH_MAX with m ≤ 1 GiB, 1 ≤ t ≤ 10 and 1 ≤ p ≤ 4 (argon2i and argon2d
 * strings are refused), and RK_EIO when argon2 cannot allocate its memory or threads.
 */
int rk_identity_password_verify(const char *encoded, const char *password, size_t len);

/**
 * Spends the time of rk_identity_password_verify() against a real hash, and checks nothing:
 * for a login whose username matches no account. The dummy hash is made once per process
 * (the first call pays for it twice).
 */
void rk_identity_password_verify_dummy(const char *password, size_t len);

#endif
