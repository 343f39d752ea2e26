/*
 * http_client.h — the small blocking HTTP(S) client renkeictl talks to the hub with.
 *
 * Built on libevent's evhttp client (with bufferevent_openssl for https), run to completion
 * on a private event base: renkeictl is a command-line tool, so blocking is what it wants.
 */
#ifndef RK_CTL_HTTP_CLIENT_H
#define RK_CTL_HTTP_CLIENT_H

#include <stddef.h>

typedef struct rk_http_response {
    int status; /* 0 when no response arrived */
    char *body; /* NUL-terminated; free() it */
    size_t body_len;
    char error[256]; /* why no response arrived */
} rk_http_response_t;

/**
 * Sends method to url (http:// or https://) with an optional bearer token and body (JSON),
 * waits at most timeout_ms. Returns 0 when a response arrived (any status), -1 otherwise.
 */
int rk_http_request(const char *method, const char *url, const char *bearer, const char *body,
                    int timeout_ms, rk_http_response_t *out);

#endif
