/*
 * renkeictl.c — the admin command line for municipal IT.
 *
 *   renkeictl [--hub URL] [--json] tenant list
 *   renkeictl [--hub URL] [--json] adapter register --tenant T --name N --endpoint URL
 *             [--ca FILE | --pin SHA256] [--server-name NAME] [--capability C]…
 *             [--idempotency-key K]
 *   renkeictl [--hub URL] [--json] adapter list --tenant T
 *   renkeictl [--hub URL] [--json] adapter disable|enable|remove --tenant T --name N
 *   renkeictl [--hub URL] [--json] adapter sync --tenant T --name N (the facility catalogue)
 *             [--idempotency-key K]
 *   renkeictl [--hub URL] [--json] client create|list, user create|list, keys rotate,
 *             registration-token
 *             (a realm's OAuth clients, accounts and signing keys: identity_commands.c)
 *   renkeictl [--hub URL] [--json] receipt verify FILE [--jwks FILE|URL], log verify --tenant T
 *             (signed receipts offline, the exchange log's chain: exchange_commands.c)
 *   renkeictl [--hub URL] [--json] agreement propose|approve|reject|end|list|show --tenant T
 *             (agreements between tenants as governed objects: agreement_commands.c)
 *   renkeictl cert-login-sign --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]
 *             --challenge TEXT [--alg PS256]   (a resident's certificate login; no hub)
 *
 * It talks to a running hub's admin API (default http://127.0.0.1:8080, or RENKEI_HUB) with
 * the bootstrap token from RENKEI_ADMIN_TOKEN: the tenant list over GET /admin/v1/tenants,
 * the identity commands over /admin/v1/realms/{slug}/…, the adapter commands as AdminService
 * methods in the Connect protocol (POST /renkei.v1.AdminService/RegisterAdapter, proto3 JSON).
 * --hub and --json may come anywhere. --json prints exactly one JSON object — the hub's answer
 * (a Connect error is {"code","message"}, an admin API error {"error","message","status"}), or
 * {"error","message"} when there is no answer — so that scripts can parse it; otherwise a
 * table or a summary. Errors always go to stderr too, with the hub's code or HTTP status.
 * Exit status: 0 done, 1 the hub refused or failed, 2 usage (command.h).
 */
#include "ctl/agreement_commands.h"
#include "ctl/cert_login_sign.h"
#include "ctl/command.h"
#include "ctl/exchange_commands.h"
#include "ctl/partner_commands.h"
#include "ctl/pupil_commands.h"
#include "ctl/http_client.h"
#include "ctl/identity_commands.h"
#include "renkei/v1/adapter.pb-c.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CAPABILITY_PREFIX "ADAPTER_CAPABILITY_"
#define CA_FILE_MAX 65536

static int usage(void)
{
    fprintf(stderr,
            "usage: renkeictl [--hub URL] [--json] COMMAND\n"
            "  tenant list\n"
            "  adapter register --tenant T --name N --endpoint URL [--ca FILE | --pin SHA256]\n"
            "                   [--server-name NAME] [--capability C]... [--idempotency-key K]\n"
            "  adapter list --tenant T\n"
            "  adapter disable|enable|remove --tenant T --name N [--idempotency-key K]\n"
            "  adapter sync --tenant T --name N   sync its facility catalogue now\n"
            "%s"
            "%s"
            "%s"
            "%s"
            "  cert-login-sign --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]\n"
            "                  --challenge TEXT [--alg PS256]   sign a certificate login\n"
            "                  challenge (no hub, no token; see cert-login-sign --help)\n"
            "\n"
            "  --hub URL   the hub (default $RENKEI_HUB or http://127.0.0.1:8080)\n"
            "  --json      print one JSON object\n"
            "  T is a tenant slug (chofu), or for adapters also its code (132080); URL is\n"
            "  https://host:port, or http://127.0.0.1:port for an adapter on the hub's machine;\n"
            "  C is a capability (facility_catalogue, facility_availability, facility_booking,\n"
            "  library_catalogue, library_patrons, library_holds, library_loans, elibrary),\n"
            "  repeated or comma-joined; `renkeictl client|user|keys` alone explains their values\n"
            "  the admin token is read from RENKEI_ADMIN_TOKEN\n",
            rk_ctl_identity_usage, rk_ctl_exchange_usage, rk_ctl_agreement_usage,
            rk_ctl_pupil_usage);
    return 2;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "renkeictl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return usage();
}

static int tenant_list(const rk_ctl_t *ctl)
{
    int rc = 0;
    json_t *body = rk_ctl_admin_call(ctl, "GET", "/admin/v1/tenants", NULL, &rc);
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

/* --- adapters: AdminService over Connect JSON ---------------------------------------------- */

/* Calls AdminService/method (command.h's rk_ctl_rpc). */
static json_t *admin_rpc(const rk_ctl_t *ctl, const char *method, json_t *request, int *rc)
{
    return rk_ctl_rpc(ctl, "renkei.v1.AdminService", method, request, rc);
}

/* "ADAPTER_STATE_ACTIVE" → "active"; into out. */
static const char *short_enum(const char *value, const char *prefix, char *out, size_t len)
{
    if (!value)
        value = "";
    if (strncmp(value, prefix, strlen(prefix)) == 0)
        value += strlen(prefix);
    size_t i = 0;
    for (; value[i] && i + 1 < len; i++)
        out[i] = (char)(value[i] >= 'A' && value[i] <= 'Z' ? value[i] - 'A' + 'a' : value[i]);
    out[i] = '\0';
    return out;
}

/* "facility_catalogue,library_loans" from a JSON array of capability names, into out. */
static const char *capability_text(const json_t *list, char *out, size_t len)
{
    size_t i, used = 0;
    json_t *c;
    out[0] = '\0';
    json_array_foreach(list, i, c)
    {
        char name[64];
        short_enum(json_string_value(c), CAPABILITY_PREFIX, name, sizeof(name));
        int n = snprintf(out + used, len - used, "%s%s", used ? "," : "", name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return *out ? out : "-";
}

static const char *text_or_dash(const json_t *value)
{
    const char *s = json_string_value(value);
    return s && *s ? s : "-";
}

static void print_adapter(const json_t *a)
{
    char state[32], caps[512], expected[512];
    const json_t *tenant = json_object_get(a, "tenant");
    printf("adapter       %s (%s)\n", text_or_dash(json_object_get(a, "name")),
           text_or_dash(json_object_get(tenant, "slug")));
    printf("state         %s\n", short_enum(json_string_value(json_object_get(a, "state")),
                                            "ADAPTER_STATE_", state, sizeof(state)));
    printf("endpoint      %s\n", text_or_dash(json_object_get(a, "endpoint")));
    printf("version       %s\n", text_or_dash(json_object_get(a, "adapterVersion")));
    printf("capabilities  %s\n",
           capability_text(json_object_get(a, "capabilities"), caps, sizeof(caps)));
    printf("expected      %s\n",
           capability_text(json_object_get(a, "expectedCapabilities"), expected, sizeof(expected)));
    if (json_object_get(a, "pinnedCertSha256"))
        printf("pinned        %s\n", text_or_dash(json_object_get(a, "pinnedCertSha256")));
    if (json_object_get(a, "caPemSha256"))
        printf("ca sha256     %s\n", text_or_dash(json_object_get(a, "caPemSha256")));
    printf("last error    %s\n", text_or_dash(json_object_get(a, "lastError")));
}

typedef struct adapter_args {
    const char *tenant, *name, *endpoint, *ca_file, *pin, *server_name, *key;
    json_t *capabilities;
} adapter_args_t;

/* Adds the capabilities of a --capability value ("facility_catalogue,library_loans"). */
static int add_capabilities(json_t *list, const char *value)
{
    char *copy = strdup(value), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        const char *name = tok;
        if (strncasecmp(name, CAPABILITY_PREFIX, strlen(CAPABILITY_PREFIX)) == 0)
            name += strlen(CAPABILITY_PREFIX);
        const ProtobufCEnumDescriptor *d = &renkei__v1__adapter_capability__descriptor;
        const char *full = NULL;
        for (unsigned i = 0; i < d->n_values && !full; i++) {
            if (d->values[i].value > 0 &&
                strcasecmp(d->values[i].name + strlen(CAPABILITY_PREFIX), name) == 0)
                full = d->values[i].name;
        }
        if (!full) {
            rc = usage_error("--capability: unknown capability \"%s\"", tok);
            break;
        }
        json_array_append_new(list, json_string(full));
    }
    free(copy);
    return rc;
}

/* Parses the options after "adapter VERB"; returns 0 or the usage exit status. */
static int parse_adapter_args(int argc, char **argv, adapter_args_t *a)
{
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return usage_error("%s: needs a value", opt);
        const char *value = argv[++i];
        if (strcmp(opt, "--tenant") == 0)
            a->tenant = value;
        else if (strcmp(opt, "--name") == 0)
            a->name = value;
        else if (strcmp(opt, "--endpoint") == 0)
            a->endpoint = value;
        else if (strcmp(opt, "--ca") == 0)
            a->ca_file = value;
        else if (strcmp(opt, "--pin") == 0)
            a->pin = value;
        else if (strcmp(opt, "--server-name") == 0)
            a->server_name = value;
        else if (strcmp(opt, "--idempotency-key") == 0)
            a->key = value;
        else if (strcmp(opt, "--capability") == 0) {
            int rc = add_capabilities(a->capabilities, value);
            if (rc)
                return rc;
        } else
            return usage_error("unknown option %s", opt);
    }
    return 0;
}

/* The PEM text of path (at most 64 KiB), or NULL with why. The caller frees it. */
static char *read_ca_file(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "--ca %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CA_FILE_MAX + 2);
    size_t n = text ? fread(text, 1, CA_FILE_MAX + 1, f) : 0;
    int bad = !text || ferror(f) || n > CA_FILE_MAX;
    fclose(f);
    if (bad) {
        snprintf(why, why_len, "--ca %s: %s", path,
                 n > CA_FILE_MAX ? "larger than 64 KiB" : "cannot be read");
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static json_t *keyed(json_t *request, const char *key)
{
    if (key)
        json_object_set_new(request, "idempotencyKey", json_pack("{s:s}", "key", key));
    return request;
}

static int adapter_answer(const rk_ctl_t *ctl, json_t *answer)
{
    if (ctl->json)
        rk_ctl_print_json(answer);
    else if (json_object_get(answer, "adapter"))
        print_adapter(json_object_get(answer, "adapter"));
    json_decref(answer);
    return 0;
}

static int adapter_register(const rk_ctl_t *ctl, adapter_args_t *a)
{
    if (!a->tenant || !a->name || !a->endpoint)
        return usage_error("%s", "adapter register needs --tenant, --name and --endpoint");
    if (a->ca_file && a->pin)
        return usage_error("%s", "--ca and --pin exclude each other");
    json_t *request = json_pack("{s:s, s:s, s:s, s:O}", "tenant", a->tenant, "name", a->name,
                                "endpoint", a->endpoint, "expectedCapabilities", a->capabilities);
    if (!request)
        return usage_error("%s", "--tenant, --name and --endpoint must be UTF-8 text");
    if (a->ca_file) {
        char why[512];
        char *pem = read_ca_file(a->ca_file, why, sizeof(why));
        json_t *value = pem ? json_string(pem) : NULL;
        free(pem);
        if (!value) {
            json_decref(request);
            return rk_ctl_fail(ctl, "bad_ca_file", pem ? "--ca: the file is not UTF-8 text" : why);
        }
        json_object_set_new(request, "caPem", value);
    }
    if (a->pin)
        json_object_set_new(request, "pinnedCertSha256", json_string(a->pin));
    if (a->server_name)
        json_object_set_new(request, "tlsServerName", json_string(a->server_name));
    int rc = 0;
    json_t *answer = admin_rpc(ctl, "RegisterAdapter", keyed(request, a->key), &rc);
    return answer ? adapter_answer(ctl, answer) : rc;
}

static int adapter_list(const rk_ctl_t *ctl, const adapter_args_t *a)
{
    if (!a->tenant)
        return usage_error("%s", "adapter list needs --tenant");
    /* Follow the pages, so that the one object printed holds every adapter. */
    json_t *all = json_array(), *last = NULL;
    const char *token = "";
    char token_copy[128] = "";
    int rc = 0;
    for (int pages = 0; pages < 1000; pages++) {
        json_t *request = json_pack("{s:s, s:{s:i, s:s}}", "tenant", a->tenant, "page", "pageSize",
                                    100, "pageToken", token);
        json_t *answer = admin_rpc(ctl, "ListAdapters", request, &rc);
        if (!answer) {
            json_decref(all);
            json_decref(last);
            return rc;
        }
        json_array_extend(all, json_object_get(answer, "adapters"));
        json_decref(last);
        last = answer;
        const char *next =
            json_string_value(json_object_get(json_object_get(answer, "page"), "nextPageToken"));
        if (!next || !*next || strlen(next) >= sizeof(token_copy))
            break;
        snprintf(token_copy, sizeof(token_copy), "%s", next);
        token = token_copy;
    }
    json_t *total = json_object_get(json_object_get(last, "page"), "totalSize");
    json_t *out = json_pack("{s:o, s:{s:o}}", "adapters", all, "page", "totalSize",
                            total ? json_incref(total) : json_integer(0));
    json_decref(last);
    if (ctl->json) {
        rk_ctl_print_json(out);
    } else {
        printf("%-20s %-9s %-36s %-10s %s\n", "NAME", "STATE", "ENDPOINT", "VERSION",
               "CAPABILITIES");
        size_t i;
        json_t *ad;
        json_array_foreach(json_object_get(out, "adapters"), i, ad)
        {
            char state[32], caps[512];
            printf("%-20s %-9s %-36s %-10s %s\n", text_or_dash(json_object_get(ad, "name")),
                   short_enum(json_string_value(json_object_get(ad, "state")), "ADAPTER_STATE_",
                              state, sizeof(state)),
                   text_or_dash(json_object_get(ad, "endpoint")),
                   text_or_dash(json_object_get(ad, "adapterVersion")),
                   capability_text(json_object_get(ad, "capabilities"), caps, sizeof(caps)));
            if (json_object_get(ad, "lastError"))
                printf("  last error: %s\n", text_or_dash(json_object_get(ad, "lastError")));
        }
    }
    json_decref(out);
    return 0;
}

/* disable, enable, remove, sync: tenant and name. */
static int adapter_change(const rk_ctl_t *ctl, const char *verb, const adapter_args_t *a)
{
    if (!a->tenant || !a->name)
        return usage_error("adapter %s needs --tenant and --name", verb);
    const char *method = strcmp(verb, "disable") == 0  ? "DisableAdapter"
                         : strcmp(verb, "enable") == 0 ? "EnableAdapter"
                         : strcmp(verb, "sync") == 0   ? "SyncAdapter"
                                                       : "RemoveAdapter";
    json_t *request = json_pack("{s:s, s:s}", "tenant", a->tenant, "name", a->name);
    if (!request)
        return usage_error("%s", "--tenant and --name must be UTF-8 text");
    int rc = 0;
    json_t *answer = admin_rpc(ctl, method, keyed(request, a->key), &rc);
    if (!answer)
        return rc;
    if (!ctl->json && strcmp(verb, "remove") == 0) {
        printf("adapter %s of %s removed\n", a->name, a->tenant);
        json_decref(answer);
        return 0;
    }
    return adapter_answer(ctl, answer);
}

static int adapter_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    const char *verb = argv[0];
    adapter_args_t a = {.capabilities = json_array()};
    int rc = parse_adapter_args(argc - 1, argv + 1, &a);
    if (rc == 0) {
        if (strcmp(verb, "register") == 0)
            rc = adapter_register(ctl, &a);
        else if (strcmp(verb, "list") == 0)
            rc = adapter_list(ctl, &a);
        else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0 ||
                 strcmp(verb, "remove") == 0 || strcmp(verb, "sync") == 0)
            rc = adapter_change(ctl, verb, &a);
        else
            rc = usage_error("unknown adapter command %s", verb);
    }
    json_decref(a.capabilities);
    return rc;
}

int main(int argc, char **argv)
{
    /* It talks to no hub: its options, a challenge among them, pass untouched. */
    if (argc >= 2 && strcmp(argv[1], "cert-login-sign") == 0)
        return rk_ctl_cert_login_sign(argc - 2, argv + 2);
    rk_ctl_t ctl = {.hub = getenv("RENKEI_HUB"), .token = getenv("RENKEI_ADMIN_TOKEN")};
    if (!ctl.hub || !*ctl.hub)
        ctl.hub = "http://127.0.0.1:8080";
    /* --hub and --json may come anywhere; the rest is the command and its options. */
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hub") == 0 && i + 1 < argc)
            ctl.hub = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            ctl.json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            n = -1;
        else if (n >= 0)
            args[n++] = argv[i];
    }
    int rc;
    if (n == 2 && strcmp(args[0], "tenant") == 0 && strcmp(args[1], "list") == 0)
        rc = tenant_list(&ctl);
    else if (n >= 2 && strcmp(args[0], "adapter") == 0)
        rc = adapter_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "client") == 0)
        rc = rk_ctl_client_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "user") == 0)
        rc = rk_ctl_user_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "keys") == 0)
        rc = rk_ctl_keys_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "receipt") == 0)
        rc = rk_ctl_receipt_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "agreement") == 0)
        rc = rk_ctl_agreement_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "log") == 0)
        rc = rk_ctl_log_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "partner") == 0)
        rc = rk_ctl_partner_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "pupil") == 0)
        rc = rk_ctl_pupil_command(&ctl, n - 1, args + 1);
    else if (n >= 1 && strcmp(args[0], "registration-token") == 0)
        rc = rk_ctl_registration_token_command(&ctl, n - 1, args + 1);
    else
        rc = usage();
    free(args);
    return rc;
}
