/*
 * webhook_url.c — checking and splitting a partner's webhook URL (see webhook_url.h).
 *
 * libevent's URI parser (RFC 3986, strict) does the splitting; this adds the rules.
 */
#include "exchange/webhook_url.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_loopback(const char *host)
{
    return strcasecmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "::1") == 0;
}

static int is_ip(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

static int fail(const char **why, const char *message)
{
    *why = message;
    return RK_EINVAL;
}

int rk_exchange_webhook_url_parse(const char *url, rk_exchange_webhook_url_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (!url || !*url)
        return fail(why, "webhook_url: required (empty turns the webhook off)");
    if (strlen(url) > RK_EXCHANGE_WEBHOOK_URL_MAX)
        return fail(why, "webhook_url: at most 2048 bytes");
    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(url, 0);
    if (!uri)
        return fail(why, "webhook_url: not a URL (https://host[:port]/path)");
    int rc = RK_EINVAL;
    const char *scheme = evhttp_uri_get_scheme(uri);
    const char *bracketed = evhttp_uri_get_host(uri);
    char host_text[sizeof(out->host)] = "";
    const char *host = bracketed;
    size_t host_len = bracketed ? strlen(bracketed) : 0;
    /* An IPv6 literal comes as "[2001:db8::1]": the brackets are the URL's, not the address's. */
    if (host_len > 2 && host_len < sizeof(host_text) + 2 && bracketed[0] == '[' &&
        bracketed[host_len - 1] == ']') {
        snprintf(host_text, sizeof(host_text), "%.*s", (int)(host_len - 2), bracketed + 1);
        host = host_text;
    }
    const char *path = evhttp_uri_get_path(uri);
    const char *query = evhttp_uri_get_query(uri);
    int port = evhttp_uri_get_port(uri);
    if (!scheme || !host || !*host) {
        *why = "webhook_url: must be an absolute URL (https://host[:port]/path)";
    } else if (evhttp_uri_get_userinfo(uri)) {
        *why = "webhook_url: must not hold a user name or password";
    } else if (evhttp_uri_get_fragment(uri)) {
        *why = "webhook_url: must not have a fragment (#…)";
    } else if (strlen(host) >= sizeof(out->host)) {
        *why = "webhook_url: the host name is too long";
    } else if (strcasecmp(scheme, "https") != 0 &&
               !(strcasecmp(scheme, "http") == 0 && is_loopback(host))) {
        *why = "webhook_url: must be https (http only to 127.0.0.1, ::1 or localhost)";
    } else if (port == 0) {
        *why = "webhook_url: port 0 is not a port";
    } else {
        out->https = strcasecmp(scheme, "https") == 0;
        snprintf(out->host, sizeof(out->host), "%s", host);
        out->host_is_ip = is_ip(host);
        out->port = port > 0 ? port : out->https ? 443 : 80;
        const char *open = strchr(host, ':') ? "[" : "", *close = *open ? "]" : "";
        if (port > 0)
            snprintf(out->host_header, sizeof(out->host_header), "%s%s%s:%d", open, host, close,
                     port);
        else
            snprintf(out->host_header, sizeof(out->host_header), "%s%s%s", open, host, close);
        snprintf(out->target, sizeof(out->target), "%s%s%s", path && *path ? path : "/",
                 query ? "?" : "", query ? query : "");
        rc = RK_OK;
    }
    evhttp_uri_free(uri);
    return rc;
}
