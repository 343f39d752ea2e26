/*
 * exchange_commands.c — `renkeictl receipt verify` and `renkeictl log verify` (see
 * exchange_commands.h).
 *
 * A receipt is verified here, not by the hub: the point of a receipt is that a city checks it
 * without trusting anyone's database. Only the key set is fetched (from the hub the operator
 * named, or a file), and the receipt must verify under it with our strict rules
 * (exchange/receipt_verify.h).
 */
#include "ctl/exchange_commands.h"

#include "core/error.h"
#include "ctl/http_client.h"
#include "exchange/receipt_verify.h"
#include "identity/secret_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX (1024 * 1024)
#define FETCH_TIMEOUT_MS 10000

const char rk_ctl_exchange_usage[] =
    "  receipt verify FILE [--jwks FILE|URL]   verify a signed receipt offline (FILE: the JWS,\n"
    "                  or GetReceipt's JSON; keys from --jwks, else the hub's realm JWKS)\n"
    "  log verify --tenant T [--from N] [--to N]   recompute T's exchange-log chain and its\n"
    "                  checkpoints; names the first broken entry\n"
    "  partner register --tenant T --name N --jwks FILE [--rate N]   a partner system: an OIDC\n"
    "                  client of T's realm (private_key_jwt with the keys in FILE)\n"
    "  partner grant --tenant T --id ID --method M [--read-only]   allow it a method\n"
    "                  (renkei.v1.FacilityService/SearchFacilities, renkei.v1.ExchangeService/*)\n"
    "  partner revoke --tenant T --id ID [--method M]   one grant, or the whole partner\n"
    "  partner list --tenant T [--include-revoked]\n";

static const char receipt_usage[] = "usage: renkeictl receipt verify FILE [--jwks FILE|URL]";
static const char log_usage[] = "usage: renkeictl log verify --tenant T [--from N] [--to N]";

/* The whole file (at most FILE_MAX bytes), NUL-terminated; NULL with why. free() it. */
static char *read_file(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "%s: cannot open", path);
        return NULL;
    }
    char *text = malloc(FILE_MAX + 1);
    size_t n = text ? fread(text, 1, FILE_MAX + 1, f) : 0;
    int too_big = n > FILE_MAX;
    fclose(f);
    if (!text || too_big) {
        snprintf(why, why_len, "%s: larger than 1 MiB", path);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* The compact JWS in text (bare, or "jws" in a Receipt or GetReceipt's answer) into out. */
static int find_jws(const char *text, char *out, size_t len)
{
    json_t *doc = json_loads(text, 0, NULL);
    const char *jws = NULL;
    if (doc) {
        json_t *receipt = json_object_get(doc, "receipt");
        jws = json_string_value(json_object_get(receipt ? receipt : doc, "jws"));
    } else {
        while (isspace((unsigned char)*text))
            text++;
        jws = text;
    }
    size_t n = jws ? strcspn(jws, " \t\r\n") : 0;
    int ok = n > 0 && n < len;
    if (ok) {
        memcpy(out, jws, n);
        out[n] = '\0';
    }
    json_decref(doc);
    return ok ? 0 : -1;
}

/* The provider's slug from the (not yet verified) payload, to name its realm's JWKS. */
static int provider_slug(const char *jws, char *out, size_t len)
{
    const char *start = strchr(jws, '.');
    const char *end = start ? strchr(start + 1, '.') : NULL;
    if (!end)
        return -1;
    rk_arena_t *arena = rk_arena_new();
    unsigned char *decoded = NULL;
    size_t decoded_len = 0;
    json_t *payload = NULL;
    if (rk_identity_b64_decode(arena, start + 1, (size_t)(end - start - 1), 1, &decoded,
                               &decoded_len) == RK_OK)
        payload = json_loadb((const char *)decoded, decoded_len, 0, NULL);
    const char *slug =
        json_string_value(json_object_get(json_object_get(payload, "provider"), "slug"));
    int ok = slug && *slug && strlen(slug) < len &&
             strspn(slug, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(slug);
    if (ok)
        snprintf(out, len, "%s", slug);
    json_decref(payload);
    rk_arena_free(arena);
    return ok ? 0 : -1;
}

/* The key set from a file or URL; NULL after reporting why (*rc set). */
static json_t *load_jwks(const rk_ctl_t *ctl, const char *source, int *rc)
{
    char why[512];
    char *text = NULL;
    if (strncmp(source, "http://", 7) == 0 || strncmp(source, "https://", 8) == 0) {
        rk_http_response_t res;
        if (rk_http_request("GET", source, NULL, NULL, FETCH_TIMEOUT_MS, &res) != 0) {
            snprintf(why, sizeof(why), "%s: %s", source, res.error);
            *rc = rk_ctl_fail(ctl, "unreachable", why);
            return NULL;
        }
        if (res.status != 200) {
            snprintf(why, sizeof(why), "%s: HTTP %d", source, res.status);
            free(res.body);
            *rc = rk_ctl_fail(ctl, "no_jwks", why);
            return NULL;
        }
        text = res.body;
    } else if (!(text = read_file(source, why, sizeof(why)))) {
        *rc = rk_ctl_fail(ctl, "no_jwks", why);
        return NULL;
    }
    json_t *jwks = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_array(json_object_get(jwks, "keys"))) {
        json_decref(jwks);
        snprintf(why, sizeof(why), "%s: not a JWKS ({\"keys\": [...]})", source);
        *rc = rk_ctl_fail(ctl, "no_jwks", why);
        return NULL;
    }
    return jwks;
}

static const char *text_of(const json_t *object, const char *key)
{
    const char *s = json_string_value(json_object_get(object, key));
    return s && *s ? s : "-";
}

static void print_receipt(const json_t *p, const char *kid, const char *jwks_source)
{
    const json_t *time = json_object_get(p, "time");
    const json_t *agreement = json_object_get(p, "agreement");
    const json_t *fee = json_object_get(json_object_get(p, "amounts"), "fee");
    printf("receipt %s verifies (ES256, kid %s, keys of %s)\n", text_of(p, "receipt_id"), kid,
           jwks_source);
    printf("  kind:       %s\n", text_of(p, "kind"));
    printf("  issuer:     %s\n", text_of(p, "iss"));
    printf("  provider:   %s (%s)\n", text_of(json_object_get(p, "provider"), "slug"),
           text_of(json_object_get(p, "provider"), "code"));
    printf("  home:       %s (%s)\n", text_of(json_object_get(p, "home"), "slug"),
           text_of(json_object_get(p, "home"), "code"));
    printf("  resident:   %s (pairwise towards the provider)\n",
           text_of(p, "resident_pairwise_id"));
    printf("  resource:   %s %s\n", text_of(json_object_get(p, "resource"), "type"),
           text_of(json_object_get(p, "resource"), "id"));
    if (time)
        printf("  time:       %s – %s\n", text_of(time, "start"), text_of(time, "end"));
    if (json_is_integer(fee))
        printf("  fee:        %lld yen\n", (long long)json_integer_value(fee));
    if (agreement)
        printf("  agreement:  %s version %lld\n", text_of(agreement, "id"),
               (long long)json_integer_value(json_object_get(agreement, "version")));
    printf("  issued at:  %s\n", text_of(p, "issued_at"));
    printf("  log entry:  %lld of the provider's chain\n",
           (long long)json_integer_value(json_object_get(p, "log_sequence")));
    printf("  previous receipt hash: %s\n", text_of(p, "previous_receipt_hash"));
}

static int receipt_verify(const rk_ctl_t *ctl, const char *file, const char *jwks_option)
{
    char why[512], jws[RK_EXCHANGE_RECEIPT_MAX_BYTES + 1], source[1024], slug[64];
    char *text = read_file(file, why, sizeof(why));
    if (!text)
        return rk_ctl_fail(ctl, "no_file", why);
    int found = find_jws(text, jws, sizeof(jws));
    free(text);
    if (found != 0) {
        snprintf(why, sizeof(why), "%s: holds no compact JWS (nor a \"jws\" field)", file);
        return rk_ctl_fail(ctl, "not_a_receipt", why);
    }
    if (jwks_option) {
        snprintf(source, sizeof(source), "%s", jwks_option);
    } else if (provider_slug(jws, slug, sizeof(slug)) == 0) {
        snprintf(source, sizeof(source), "%s/t/%s/jwks", ctl->hub, slug);
    } else {
        return rk_ctl_fail(ctl, "not_a_receipt",
                           "the receipt names no provider slug: give the keys with --jwks");
    }
    int rc = 0;
    json_t *jwks = load_jwks(ctl, source, &rc);
    if (!jwks)
        return rc;
    char kid[64];
    const char *problem = NULL;
    json_t *payload = rk_exchange_receipt_verify(jws, jwks, kid, &problem);
    json_decref(jwks);
    if (!payload) {
        snprintf(why, sizeof(why), "the receipt does not verify: %s", problem);
        return rk_ctl_fail(ctl, "not_verified", why);
    }
    if (ctl->json) {
        json_t *out = json_pack("{s:b, s:s, s:s, s:O}", "verified", 1, "kid", kid, "jwks", source,
                                "payload", payload);
        rk_ctl_print_json(out);
        json_decref(out);
    } else {
        print_receipt(payload, kid, source);
    }
    json_decref(payload);
    return 0;
}

int rk_ctl_receipt_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "verify") != 0)
        return rk_ctl_usage_error(receipt_usage, "%s",
                                  "receipt: the command is `receipt verify FILE`");
    const char *file = NULL, *jwks = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jwks") == 0 && i + 1 < argc)
            jwks = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return rk_ctl_usage_error(receipt_usage, "receipt verify: unexpected %s", argv[i]);
    }
    if (!file)
        return rk_ctl_usage_error(receipt_usage, "%s", "receipt verify: FILE is required");
    return receipt_verify(ctl, file, jwks);
}

/* A sequence option: digits only. */
static int parse_sequence(const char *text, long long *out)
{
    char *end = NULL;
    if (!isdigit((unsigned char)*text) || strlen(text) > 18)
        return -1;
    *out = strtoll(text, &end, 10);
    return *end ? -1 : 0;
}

int rk_ctl_log_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "verify") != 0)
        return rk_ctl_usage_error(log_usage, "%s", "log: the command is `log verify --tenant T`");
    const char *tenant = NULL;
    long long from = 0, to = 0;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return rk_ctl_usage_error(log_usage, "log verify: %s needs a value", opt);
        const char *value = argv[++i];
        if (strcmp(opt, "--tenant") == 0)
            tenant = value;
        else if (strcmp(opt, "--from") == 0 && parse_sequence(value, &from) == 0)
            continue;
        else if (strcmp(opt, "--to") == 0 && parse_sequence(value, &to) == 0)
            continue;
        else
            return rk_ctl_usage_error(log_usage,
                                      "log verify: %s %s: unknown option or not a "
                                      "sequence number",
                                      opt, value);
    }
    if (!tenant)
        return rk_ctl_usage_error(log_usage, "%s", "log verify: --tenant is required");
    json_t *request = json_pack("{s:s, s:I, s:I}", "tenant", tenant, "fromSequence",
                                (json_int_t)from, "toSequence", (json_int_t)to);
    if (!request)
        return rk_ctl_usage_error(log_usage, "%s", "log verify: --tenant must be UTF-8 text");
    int rc = 0;
    json_t *answer = rk_ctl_rpc(ctl, "renkei.v1.ExchangeService", "VerifyLogChain", request, &rc);
    if (!answer)
        return rc;
    int intact = json_is_true(json_object_get(answer, "intact"));
    if (ctl->json) {
        rk_ctl_print_json(answer);
    } else if (intact) {
        const json_t *last = json_object_get(answer, "lastCheckpoint");
        printf("the exchange log of %s is intact: %s entries checked, head %s (%s)\n", tenant,
               text_of(answer, "entriesChecked"), text_of(answer, "headSequence"),
               text_of(answer, "headHash"));
        printf("  checkpoints verified: %lld; last anchored: entry %s at %s by %s\n",
               (long long)json_integer_value(json_object_get(answer, "checkpointsChecked")),
               text_of(last, "sequence"), text_of(last, "anchoredAt"), text_of(last, "tsaName"));
    } else {
        printf("the exchange log of %s is BROKEN at entry %s: %s\n", tenant,
               text_of(answer, "firstBrokenSequence"), text_of(answer, "problem"));
    }
    if (json_is_true(json_object_get(answer, "anchoringOverdue")))
        fprintf(stderr, "renkeictl: anchoring is overdue: cross-city changes are being refused\n");
    if (!intact && !ctl->json)
        fprintf(stderr, "renkeictl: the chain does not verify\n");
    json_decref(answer);
    return intact ? 0 : 1;
}
