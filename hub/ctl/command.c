/*
 * command.c — the admin API call and the reporting every renkeictl command shares (see
 * command.h).
 */
#include "ctl/command.h"

#include "ctl/http_client.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long enough for argon2id hashing of a new account's password under load. */
#define ADMIN_TIMEOUT_MS 30000

void rk_ctl_print_json(const json_t *value)
{
    json_dumpf(value, stdout, JSON_COMPACT);
    fputc('\n', stdout);
}

int rk_ctl_fail(const rk_ctl_t *ctl, const char *code, const char *message)
{
    if (ctl->json) {
        json_t *obj = json_pack("{s:s, s:s}", "error", code, "message", message);
        rk_ctl_print_json(obj);
        json_decref(obj);
    }
    fprintf(stderr, "renkeictl: %s\n", message);
    return 1;
}

int rk_ctl_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "renkeictl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", usage);
    va_end(ap);
    return 2;
}

/* The hub answered status with body (a JSON object or NULL): report it; returns 1. */
static int hub_refused(const rk_ctl_t *ctl, int status, json_t *body)
{
    const char *code = json_string_value(json_object_get(body, "error"));
    const char *message = json_string_value(json_object_get(body, "message"));
    fprintf(stderr, "renkeictl: the hub answered %d: %s\n", status,
            message ? message : "(no message)");
    if (ctl->json) {
        json_t *out = json_is_object(body) && code ? json_deep_copy(body) : json_object();
        if (!code) {
            json_object_set_new(out, "error", json_string("http_error"));
            json_object_set_new(out, "message",
                                json_string("the hub's answer carries no error object"));
        }
        json_object_set_new(out, "status", json_integer(status));
        rk_ctl_print_json(out);
        json_decref(out);
    }
    return 1;
}

/*
 * Sends body (JSON, or NULL) with the admin token to the hub's path, then wipes and frees body.
 * 0 with *res filled when the hub answered; otherwise reports why (no token, a URL too long,
 * no answer), sets *rc and returns -1.
 */
static int send_admin(const rk_ctl_t *ctl, const char *method, const char *path, char *body,
                      rk_http_response_t *res, int *rc)
{
    char url[2048];
    int sent = -1;
    if (!ctl->token || !*ctl->token) {
        *rc = rk_ctl_fail(ctl, "no_token",
                          "RENKEI_ADMIN_TOKEN is not set (the quickstart writes it "
                          "to var/admin-token)");
    } else if ((size_t)snprintf(url, sizeof(url), "%s%s", ctl->hub, path) >= sizeof(url)) {
        *rc = rk_ctl_fail(ctl, "bad_request", "--hub: the URL is too long");
    } else if ((sent = rk_http_request(method, url, ctl->token, body, ADMIN_TIMEOUT_MS, res)) !=
               0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s: %s", ctl->hub, res->error);
        *rc = rk_ctl_fail(ctl, "unreachable", msg);
    }
    if (body) {
        OPENSSL_cleanse(body, strlen(body));
        free(body);
    }
    return sent == 0 ? 0 : -1;
}

json_t *rk_ctl_admin_call(const rk_ctl_t *ctl, const char *method, const char *path,
                          const json_t *request, int *rc)
{
    rk_http_response_t res;
    if (send_admin(ctl, method, path, request ? json_dumps(request, JSON_COMPACT) : NULL, &res,
                   rc) != 0)
        return NULL;
    json_t *answer = json_loadb(res.body, res.body_len, 0, NULL);
    free(res.body);
    if (res.status < 200 || res.status > 299) {
        *rc = hub_refused(ctl, res.status, answer);
        json_decref(answer);
        return NULL;
    }
    if (!json_is_object(answer)) {
        json_decref(answer);
        *rc = rk_ctl_fail(ctl, "bad_response", "the hub's answer is not a JSON object");
        return NULL;
    }
    return answer;
}

json_t *rk_ctl_rpc(const rk_ctl_t *ctl, const char *service, const char *method, json_t *request,
                   int *rc)
{
    char *body = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    char path[256];
    snprintf(path, sizeof(path), "/%s/%s", service, method);
    rk_http_response_t res;
    if (send_admin(ctl, "POST", path, body, &res, rc) != 0)
        return NULL;
    json_t *answer = json_loadb(res.body, res.body_len, 0, NULL);
    free(res.body);
    if (res.status == 200 && json_is_object(answer))
        return answer;
    const char *code = json_string_value(json_object_get(answer, "code"));
    const char *message = json_string_value(json_object_get(answer, "message"));
    if (!code) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the hub answered HTTP %d without a Connect error", res.status);
        json_decref(answer);
        *rc = rk_ctl_fail(ctl, "bad_response", msg);
        return NULL;
    }
    if (ctl->json)
        rk_ctl_print_json(answer);
    fprintf(stderr, "renkeictl: %s: %s\n", code, message ? message : "");
    json_decref(answer);
    *rc = 1;
    return NULL;
}
