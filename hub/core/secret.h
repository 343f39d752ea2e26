/*
 * secret.h — handling of secrets: constant-time comparison and wiping.
 */
#ifndef RK_CORE_SECRET_H
#define RK_CORE_SECRET_H

#include <stddef.h>

/**
 * 1 if the two strings are equal. Takes the same time whatever the contents and lengths
 * (both are hashed with SHA-256 first, then compared with CRYPTO_memcmp), so a client
 * cannot learn a secret byte by byte from response times. NULL never equals anything.
 */
int rk_secret_equal(const char *a, const char *b);

#endif
