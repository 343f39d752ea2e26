/*
 * agreement_commands.c — `renkeictl agreement …` (see agreement_commands.h).
 *
 * Options become the request's proto3 JSON; the hub checks everything (services, terms, dates,
 * who may decide) and its refusal, naming the field, is what the user sees. Here only the shape
 * of the command line is checked: which options a verb takes, and that --terms is a JSON object
 * of residency classes as in tenants/README.md, turned into the contract's ResidencyTerms.
 */
#include "ctl/agreement_commands.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_MAX 16 /* repeated --service or --state values */

const char rk_ctl_agreement_usage[] =
    "  agreement propose --tenant T --home H --provider P --service S --valid-from DATE\n"
    "                  [--valid-until DATE] --terms JSON [--title TEXT] [--id ID]\n"
    "                  propose that residents of H use P's services (S: facility_booking,\n"
    "                  library_loan, elibrary, sso); JSON as tenants/README.md's \"terms\";\n"
    "                  --id: a new version of agreement ID\n"
    "  agreement approve --tenant T --id ID --version N   approve the other party's proposal\n"
    "  agreement reject --tenant T --id ID --version N [--note TEXT]   refuse it (final)\n"
    "  agreement end --tenant T --id ID [--end-date DATE] [--note TEXT]   end it (either party)\n"
    "  agreement list --tenant T [--state S] [--all-versions]   T's agreements, newest first\n"
    "  agreement show --tenant T --id ID [--version N]\n";

static const char usage[] =
    "usage: renkeictl agreement propose|approve|reject|end|list|show --tenant T …";

typedef struct options {
    const char *tenant, *home, *provider, *valid_from, *valid_until, *terms, *title, *id;
    const char *version, *note, *end_date;
    const char *services[LIST_MAX], *states[LIST_MAX];
    size_t n_services, n_states;
    int all_versions;
} options_t;

/* Where each option goes; allowed lists the verbs that take it. */
static const char **slot(options_t *o, const char *name, const char *verb)
{
    static const struct {
        const char *name, *allowed;
        size_t offset;
    } table[] = {
        {"--tenant", "propose approve reject end list show", offsetof(options_t, tenant)},
        {"--home", "propose", offsetof(options_t, home)},
        {"--provider", "propose", offsetof(options_t, provider)},
        {"--valid-from", "propose", offsetof(options_t, valid_from)},
        {"--valid-until", "propose", offsetof(options_t, valid_until)},
        {"--terms", "propose", offsetof(options_t, terms)},
        {"--title", "propose", offsetof(options_t, title)},
        {"--id", "propose approve reject end show", offsetof(options_t, id)},
        {"--version", "approve reject show", offsetof(options_t, version)},
        {"--note", "reject end", offsetof(options_t, note)},
        {"--end-date", "end", offsetof(options_t, end_date)},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0 && strstr(table[i].allowed, verb))
            return (const char **)((char *)o + table[i].offset);
    return NULL;
}

/* "facility_booking" → "AGREEMENT_SERVICE_FACILITY_BOOKING" (prefix added unless given). */
static json_t *enum_name(const char *prefix, const char *word)
{
    char name[96];
    size_t n = 0, skip = strncasecmp(word, prefix, strlen(prefix)) == 0 ? 0 : strlen(prefix);
    if (skip)
        n = (size_t)snprintf(name, sizeof name, "%s", prefix);
    for (; *word && n + 1 < sizeof name; word++)
        name[n++] = (char)toupper((unsigned char)*word);
    name[n] = '\0';
    return json_string(name);
}

/* Appends the comma-joined values of text to list; -1 when there are too many. */
static int add_values(const char **list, size_t *n, char *text)
{
    for (char *save = NULL, *v = strtok_r(text, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        if (*n >= LIST_MAX)
            return -1;
        list[(*n)++] = v;
    }
    return 0;
}

/* tenants/README.md terms → an array of ResidencyTerms (proto3 JSON); NULL with why. */
static json_t *contract_terms(const char *text, char *why, size_t len)
{
    json_error_t error;
    json_t *file = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object(file)) {
        snprintf(why, len, "--terms: not a JSON object of residency classes (%s)",
                 file ? "another JSON value" : error.text);
        json_decref(file);
        return NULL;
    }
    json_t *out = json_array();
    const char *cls;
    json_t *t;
    json_object_foreach(file, cls, t)
    {
        json_t *r = json_pack("{s:o}", "residencyClass", enum_name("RESIDENCY_CLASS_", cls));
        json_array_append_new(out, r);
        const char *key;
        json_t *v;
        json_object_foreach(t, key, v)
        {
            if (strcmp(key, "fee") == 0 && json_is_string(v))
                json_object_set_new(r, "feeBasis", enum_name("FEE_BASIS_", json_string_value(v)));
            else if (strcmp(key, "booking_window_days") == 0)
                json_object_set(r, "bookingWindowDays", v);
            else if (strcmp(key, "lottery") == 0)
                json_object_set(r, "lottery", v);
            else if (strcmp(key, "loan_limit") == 0)
                json_object_set(r, "loanLimit", v);
            else if (strcmp(key, "pickup_branches") == 0 && json_is_array(v)) {
                json_t *branches = json_array();
                size_t i;
                json_t *b;
                json_array_foreach(v, i, b) json_array_append_new(branches,
                                                                  json_pack("{s:O}", "branchId", b));
                json_object_set_new(r, "pickupBranches", branches);
            } else {
                snprintf(why, len, "--terms: %s.%s: not a term (fee, booking_window_days, "
                         "lottery, loan_limit, pickup_branches)", cls, key);
                json_decref(out);
                json_decref(file);
                return NULL;
            }
        }
    }
    json_decref(file);
    return out;
}

static json_t *ref(const char *slug_or_code)
{
    int code = isdigit((unsigned char)slug_or_code[0]);
    return json_pack("{s:s}", code ? "code" : "slug", slug_or_code);
}

static json_t *propose_request(const options_t *o, char *why, size_t len)
{
    if (!o->home || !o->provider || !o->terms || o->n_services == 0) {
        snprintf(why, len, "agreement propose: --home, --provider, --service and --terms are "
                           "required");
        return NULL;
    }
    json_t *terms = contract_terms(o->terms, why, len);
    if (!terms)
        return NULL;
    json_t *services = json_array();
    for (size_t i = 0; i < o->n_services; i++)
        json_array_append_new(services, enum_name("AGREEMENT_SERVICE_", o->services[i]));
    json_t *agreement = json_pack("{s:o, s:o, s:o, s:o, s:{s:s, s:s}}", "home", ref(o->home),
                                  "provider", ref(o->provider), "services", services, "terms",
                                  terms, "validity", "startDate",
                                  o->valid_from ? o->valid_from : "", "endDate",
                                  o->valid_until ? o->valid_until : "");
    if (agreement && o->id)
        json_object_set_new(agreement, "id", json_string(o->id));
    if (agreement && o->title)
        json_object_set_new(agreement, "title", json_pack("{s:s}", "ja", o->title));
    json_t *request = agreement ? json_pack("{s:s, s:o}", "tenant", o->tenant, "agreement",
                                            agreement)
                                : NULL;
    if (!request)
        snprintf(why, len, "agreement propose: options must be UTF-8 text");
    return request;
}

/* One agreement as a line for people. */
static void print_agreement(const json_t *a)
{
    const char *state = json_string_value(json_object_get(a, "state"));
    const json_t *validity = json_object_get(a, "validity");
    printf("agreement %s v%lld %s: residents of %s use %s's",
           json_string_value(json_object_get(a, "id")),
           (long long)json_integer_value(json_object_get(a, "version")),
           state ? state + strlen("AGREEMENT_STATE_") : "?",
           json_string_value(json_object_get(json_object_get(a, "home"), "slug")),
           json_string_value(json_object_get(json_object_get(a, "provider"), "slug")));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(a, "services"), i, s)
    {
        const char *name = json_string_value(s);
        printf("%s%s", i ? ", " : " ", name ? name + strlen("AGREEMENT_SERVICE_") : "?");
    }
    const char *until = json_string_value(json_object_get(validity, "endDate"));
    printf(" from %s%s%s (proposed by %s)\n",
           json_string_value(json_object_get(validity, "startDate")), until ? " until " : "",
           until ? until : "",
           json_string_value(json_object_get(json_object_get(a, "proposedBy"), "slug")));
}

static json_t *request_of(const char *verb, const options_t *o, const char **method, char *why,
                          size_t len)
{
    if (strcmp(verb, "propose") == 0) {
        *method = "ProposeAgreement";
        return propose_request(o, why, len);
    }
    if (strcmp(verb, "list") == 0) {
        *method = "ListAgreements";
        json_t *states = json_array();
        for (size_t i = 0; i < o->n_states; i++)
            json_array_append_new(states, enum_name("AGREEMENT_STATE_", o->states[i]));
        return json_pack("{s:s, s:o, s:b, s:{s:i}}", "tenant", o->tenant, "states", states,
                         "allVersions", o->all_versions, "page", "pageSize", 100);
    }
    if (!o->id) {
        snprintf(why, len, "agreement %s: --id is required", verb);
        return NULL;
    }
    char *end = NULL;
    long version = o->version ? strtol(o->version, &end, 10) : 0;
    if (o->version && (*end || version < 0 || version > 1000000)) {
        snprintf(why, len, "agreement %s: --version must be a version number", verb);
        return NULL;
    }
    if (strcmp(verb, "show") == 0) {
        *method = "GetAgreement";
        return json_pack("{s:s, s:s, s:i}", "tenant", o->tenant, "agreementId", o->id, "version",
                         (int)version);
    }
    if (strcmp(verb, "end") == 0) {
        *method = "EndAgreement";
        return json_pack("{s:s, s:s, s:s, s:s}", "tenant", o->tenant, "agreementId", o->id,
                         "endDate", o->end_date ? o->end_date : "", "note",
                         o->note ? o->note : "");
    }
    if (!o->version) {
        snprintf(why, len, "agreement %s: --version is required", verb);
        return NULL;
    }
    if (strcmp(verb, "approve") == 0) {
        *method = "ApproveAgreement";
        return json_pack("{s:s, s:s, s:i}", "tenant", o->tenant, "agreementId", o->id, "version",
                         (int)version);
    }
    *method = "RejectAgreement";
    return json_pack("{s:s, s:s, s:i, s:s}", "tenant", o->tenant, "agreementId", o->id,
                     "version", (int)version, "note", o->note ? o->note : "");
}

int rk_ctl_agreement_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    static const char *const verbs[] = {"propose", "approve", "reject", "end", "list", "show"};
    const char *verb = argc >= 1 ? argv[0] : "";
    int known = 0;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        known |= strcmp(verb, verbs[i]) == 0;
    if (!known)
        return rk_ctl_usage_error(usage, "agreement: unknown verb \"%s\"", verb);
    options_t o = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all-versions") == 0 && strcmp(verb, "list") == 0) {
            o.all_versions = 1;
            continue;
        }
        if (i + 1 >= argc)
            return rk_ctl_usage_error(usage, "agreement %s: %s needs a value", verb, argv[i]);
        char *value = argv[++i];
        const char **to = slot(&o, argv[i - 1], verb);
        int too_many = 0;
        if (strcmp(argv[i - 1], "--service") == 0 && strcmp(verb, "propose") == 0)
            too_many = add_values(o.services, &o.n_services, value);
        else if (strcmp(argv[i - 1], "--state") == 0 && strcmp(verb, "list") == 0)
            too_many = add_values(o.states, &o.n_states, value);
        else if (to)
            *to = value;
        else
            return rk_ctl_usage_error(usage, "agreement %s: unknown option %s", verb,
                                      argv[i - 1]);
        if (too_many)
            return rk_ctl_usage_error(usage, "agreement %s: at most %d values of %s", verb,
                                      LIST_MAX, argv[i - 1]);
    }
    if (!o.tenant)
        return rk_ctl_usage_error(usage, "agreement %s: --tenant is required", verb);
    char why[256];
    const char *method = NULL;
    json_t *request = request_of(verb, &o, &method, why, sizeof why);
    if (!request)
        return rk_ctl_usage_error(usage, "%s", why);
    int rc = 0;
    json_t *answer = rk_ctl_rpc(ctl, "renkei.v1.AdminService", method, request, &rc);
    if (!answer)
        return rc;
    if (ctl->json) {
        rk_ctl_print_json(answer);
    } else if (json_is_array(json_object_get(answer, "agreements"))) {
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(answer, "agreements"), i, a) print_agreement(a);
    } else {
        print_agreement(json_object_get(answer, "agreement"));
    }
    json_decref(answer);
    return 0;
}
