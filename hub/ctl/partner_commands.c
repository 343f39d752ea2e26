/*
 * partner_commands.c — `renkeictl partner register|grant|revoke|list|webhook` (see
 * partner_commands.h): AdminService's partner methods over Connect (command.h's rk_ctl_rpc).
 */
#include "ctl/partner_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWKS_FILE_MAX (64 * 1024)

static const char partner_usage[] =
    "usage: renkeictl partner register --tenant T --name N --jwks FILE [--rate N]\n"
    "       renkeictl partner grant --tenant T --id ID --method M [--read-only]\n"
    "       renkeictl partner revoke --tenant T --id ID [--method M]\n"
    "       renkeictl partner list --tenant T [--include-revoked]\n"
    "       renkeictl partner webhook --tenant T --id ID (--url URL | --off)\n"
    "(--partner ID is the same as --id; a webhook URL is https, or http to 127.0.0.1/localhost)";

/* Options of one subcommand: each takes a value except the flags named in flags. */
typedef struct options {
    const char *tenant, *name, *jwks, *rate, *id, *method, *url;
    int read_only, include_revoked, off;
} options_t;

static int parse(int argc, char **argv, options_t *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--read-only") == 0) {
            o->read_only = 1;
            continue;
        }
        if (strcmp(opt, "--include-revoked") == 0) {
            o->include_revoked = 1;
            continue;
        }
        if (strcmp(opt, "--off") == 0) {
            o->off = 1;
            continue;
        }
        if (i + 1 >= argc)
            return rk_ctl_usage_error(partner_usage, "partner %s: %s needs a value", argv[0], opt);
        const char *value = argv[++i];
        const char **slot = strcmp(opt, "--tenant") == 0    ? &o->tenant
                            : strcmp(opt, "--name") == 0    ? &o->name
                            : strcmp(opt, "--jwks") == 0    ? &o->jwks
                            : strcmp(opt, "--rate") == 0    ? &o->rate
                            : strcmp(opt, "--id") == 0      ? &o->id
                            : strcmp(opt, "--partner") == 0 ? &o->id
                            : strcmp(opt, "--method") == 0  ? &o->method
                            : strcmp(opt, "--url") == 0     ? &o->url
                                                            : NULL;
        if (!slot)
            return rk_ctl_usage_error(partner_usage, "partner %s: %s: unknown option", argv[0],
                                      opt);
        *slot = value;
    }
    if (!o->tenant)
        return rk_ctl_usage_error(partner_usage, "partner %s: --tenant is required", argv[0]);
    return 0;
}

/* The JWK Set file's text (at most 64 KiB); NULL after reporting. free() it. */
static char *read_jwks(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "renkeictl: --jwks %s: cannot open\n", path);
        return NULL;
    }
    char *text = calloc(JWKS_FILE_MAX + 1, 1);
    size_t n = text ? fread(text, 1, JWKS_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!text || n > JWKS_FILE_MAX) {
        fprintf(stderr, "renkeictl: --jwks %s: larger than 64 KiB\n", path);
        free(text);
        return NULL;
    }
    return text;
}

/* The member's text, or "" when absent. */
static const char *text_of(const json_t *p, const char *member)
{
    const char *text = json_string_value(json_object_get(p, member));
    return text ? text : "";
}

/* The webhook line: URL, cursor, last delivery, and while failing the last error. */
static void print_webhook(const json_t *p)
{
    if (!*text_of(p, "webhookUrl"))
        return;
    const char *delivered = text_of(p, "webhookLastDeliveredAt");
    printf("    webhook %s  cursor %s  last delivered %s\n", text_of(p, "webhookUrl"),
           *text_of(p, "webhookCursor") ? text_of(p, "webhookCursor") : "0",
           *delivered ? delivered : "never");
    json_int_t failed = json_integer_value(json_object_get(p, "webhookFailedAttempts"));
    if (failed > 0)
        printf("    webhook failing: %s (at %s; %" JSON_INTEGER_FORMAT
               " failed attempts; next at %s)\n",
               text_of(p, "webhookLastError"), text_of(p, "webhookLastErrorAt"), failed,
               text_of(p, "webhookNextAttemptAt"));
}

static void print_partner(const json_t *p)
{
    const char *id = json_string_value(json_object_get(p, "id"));
    const char *name = json_string_value(json_object_get(p, "name"));
    const char *client = json_string_value(json_object_get(p, "clientId"));
    printf("%s  %s  client_id %s%s\n", id ? id : "", name ? name : "", client ? client : "",
           json_is_true(json_object_get(p, "revoked")) ? "  REVOKED" : "");
    print_webhook(p);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(p, "grants"), i, g)
    {
        printf("    %s%s\n", json_string_value(json_object_get(g, "method")),
               json_is_true(json_object_get(g, "readOnly")) ? " (read-only)" : "");
    }
}

/* Calls method with request (a reference is taken) and prints the answer. */
static int call(const rk_ctl_t *ctl, const char *method, json_t *request)
{
    int rc = 0;
    json_t *answer = rk_ctl_rpc(ctl, "renkei.v1.AdminService", method, request, &rc);
    if (!answer)
        return rc;
    if (ctl->json) {
        rk_ctl_print_json(answer);
    } else if (json_object_get(answer, "partners")) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(answer, "partners"), i, p)
        {
            print_partner(p);
        }
    } else {
        print_partner(json_object_get(answer, "partner"));
    }
    json_decref(answer);
    return 0;
}

int rk_ctl_partner_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 1)
        return rk_ctl_usage_error(partner_usage, "%s",
                                  "partner: say register, grant, revoke, list or webhook");
    options_t o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    const char *sub = argv[0];
    if (strcmp(sub, "register") == 0) {
        if (!o.name || !o.jwks)
            return rk_ctl_usage_error(partner_usage, "%s",
                                      "partner register: --name and --jwks are required");
        char *end = NULL;
        long rate = o.rate ? strtol(o.rate, &end, 10) : 0;
        if (o.rate && (*end || rate < 0 || rate > 100000))
            return rk_ctl_usage_error(partner_usage, "%s",
                                      "partner register: --rate: 0 to 100000 calls per second");
        char *jwks = read_jwks(o.jwks);
        if (!jwks)
            return 1;
        json_t *request = json_pack("{s:s, s:s, s:s, s:s, s:i}", "tenant", o.tenant, "name", o.name,
                                    "authMethod", "PARTNER_AUTH_METHOD_PRIVATE_KEY_JWT", "jwks",
                                    jwks, "rateLimitPerSecond", (int)rate);
        free(jwks);
        if (!request)
            return rk_ctl_usage_error(partner_usage, "%s",
                                      "partner register: options and the JWK Set must be UTF-8");
        return call(ctl, "RegisterPartner", request);
    }
    if (strcmp(sub, "grant") == 0 || strcmp(sub, "revoke") == 0) {
        int grant = strcmp(sub, "grant") == 0;
        if (!o.id || (grant && !o.method))
            return rk_ctl_usage_error(partner_usage, "partner %s: --id%s required", sub,
                                      grant ? " and --method are" : " is");
        json_t *request = json_pack("{s:s, s:s, s:s}", "tenant", o.tenant, "partnerId", o.id,
                                    "method", o.method ? o.method : "");
        if (!request)
            return rk_ctl_usage_error(partner_usage, "partner %s: options must be UTF-8", sub);
        if (grant)
            json_object_set_new(request, "readOnly", json_boolean(o.read_only));
        return call(ctl, grant ? "GrantPartner" : "RevokePartner", request);
    }
    if (strcmp(sub, "webhook") == 0) {
        if (!o.id || (!o.url) == (!o.off))
            return rk_ctl_usage_error(partner_usage, "%s",
                                      "partner webhook: --id and one of --url or --off are "
                                      "required");
        json_t *request = json_pack("{s:s, s:s, s:s}", "tenant", o.tenant, "partnerId", o.id,
                                    "webhookUrl", o.off ? "" : o.url);
        if (!request)
            return rk_ctl_usage_error(partner_usage, "%s",
                                      "partner webhook: options must be UTF-8");
        return call(ctl, "SetPartnerWebhook", request);
    }
    if (strcmp(sub, "list") == 0) {
        json_t *request =
            json_pack("{s:s, s:b}", "tenant", o.tenant, "includeRevoked", o.include_revoked);
        if (!request)
            return rk_ctl_usage_error(partner_usage, "%s", "partner list: --tenant must be UTF-8");
        return call(ctl, "ListPartners", request);
    }
    return rk_ctl_usage_error(partner_usage,
                              "partner %s: say register, grant, revoke, list or webhook", sub);
}
