/*
 * renkeictl.c — the admin command line for municipal IT.
 *
 *   renkeictl [--hub URL] [--json] tenant list
 *
 * It talks to a running hub's admin API (default http://127.0.0.1:8080, or RENKEI_HUB) with
 * the bootstrap token from RENKEI_ADMIN_TOKEN. --json prints exactly one JSON object (the
 * hub's answer, or {"error","message"}) so that scripts can parse it; otherwise a table.
 * Exit status: 0 done, 1 the hub refused or failed, 2 usage.
 */
#include "ctl/http_client.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ctl {
    const char *hub;
    int json;
    const char *token;
} ctl_t;

static int usage(void)
{
    fprintf(stderr, "usage: renkeictl [--hub URL] [--json] tenant list\n"
                    "  --hub URL   the hub (default $RENKEI_HUB or http://127.0.0.1:8080)\n"
                    "  --json      print one JSON object\n"
                    "  the admin token is read from RENKEI_ADMIN_TOKEN\n");
    return 2;
}

static int fail(const ctl_t *ctl, const char *code, const char *message)
{
    if (ctl->json) {
        json_t *obj = json_pack("{s:s, s:s}", "error", code, "message", message);
        json_dumpf(obj, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(obj);
    } else {
        fprintf(stderr, "renkeictl: %s\n", message);
    }
    return 1;
}

/* Calls the admin API; on success returns the parsed body, else reports and returns NULL. */
static json_t *admin_get(const ctl_t *ctl, const char *path, int *rc)
{
    if (!ctl->token || !*ctl->token) {
        *rc = fail(ctl, "no_token",
                   "RENKEI_ADMIN_TOKEN is not set (the quickstart writes it "
                   "to var/admin-token)");
        return NULL;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", ctl->hub, path);
    rk_http_response_t res;
    if (rk_http_request("GET", url, ctl->token, NULL, 10000, &res) != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s: %s", ctl->hub, res.error);
        *rc = fail(ctl, "unreachable", msg);
        return NULL;
    }
    json_error_t jerr;
    json_t *body = json_loadb(res.body, res.body_len, 0, &jerr);
    free(res.body);
    if (res.status != 200) {
        const char *message = json_string_value(json_object_get(body, "message"));
        char msg[512];
        snprintf(msg, sizeof(msg), "the hub answered %d: %s", res.status,
                 message ? message : "(no message)");
        const char *code = json_string_value(json_object_get(body, "error"));
        *rc = fail(ctl, code ? code : "http_error", msg);
        json_decref(body);
        return NULL;
    }
    if (!body)
        *rc = fail(ctl, "bad_response", "the hub's answer is not JSON");
    return body;
}

static int tenant_list(const ctl_t *ctl)
{
    int rc = 0;
    json_t *body = admin_get(ctl, "/admin/v1/tenants", &rc);
    if (!body)
        return rc;
    if (ctl->json) {
        json_dumpf(body, stdout, JSON_COMPACT);
        fputc('\n', stdout);
    } else {
        printf("%-7s %-16s %-12s %-28s %s\n", "CODE", "SLUG", "NAME", "ENGLISH", "AGREEMENTS");
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(body, "tenants"), i, t)
        {
            json_t *name = json_object_get(t, "name");
            printf("%-7s %-16s %-12s %-28s %zu\n", json_string_value(json_object_get(t, "code")),
                   json_string_value(json_object_get(t, "slug")),
                   json_string_value(json_object_get(name, "ja")),
                   json_string_value(json_object_get(name, "en")),
                   json_array_size(json_object_get(t, "agreements")));
        }
    }
    json_decref(body);
    return 0;
}

int main(int argc, char **argv)
{
    ctl_t ctl = {.hub = getenv("RENKEI_HUB"), .token = getenv("RENKEI_ADMIN_TOKEN")};
    if (!ctl.hub || !*ctl.hub)
        ctl.hub = "http://127.0.0.1:8080";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--hub") == 0 && i + 1 < argc)
            ctl.hub = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            ctl.json = 1;
        else
            return usage();
    }
    if (argc - i == 2 && strcmp(argv[i], "tenant") == 0 && strcmp(argv[i + 1], "list") == 0)
        return tenant_list(&ctl);
    return usage();
}
