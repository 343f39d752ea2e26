/*
 * identity_commands.c — `renkeictl client|user|keys …`: a realm's OAuth clients, accounts and
 * signing keys, through the hub's admin HTTP API (see identity_commands.h).
 *
 *   client create --tenant T --name N [--redirect-uri U]… [--public | --auth-method M]
 *                 [--grant G]… [--scope S]… [--first-party] [--service S] …
 *   client list --tenant T
 *   user create --tenant T --username U --password-stdin [--staff ROLE]… …
 *   user list --tenant T
 *   keys rotate --tenant T [--alg ES256|RS256]
 *
 * Each command's options are a table that maps an option to the JSON field of the request
 * body it sets, so the body is built by one parser and the hub stays the judge of values:
 * its message names the field and the rule. What is checked here is only what the hub cannot
 * see — an option's form, --tenant (it becomes part of the path), and the password read from
 * stdin, which never enters argv, the environment or the output, and is wiped after sending.
 * Two defaults are the command line's own: --public is token_endpoint_auth_method "none", and
 * a client given a --redirect-uri but no --grant is for the code flow (authorization_code and
 * refresh_token; the API's default is client_credentials).
 */
#include "ctl/identity_commands.h"

#include "core/mem.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Longer than the hub's limit (256 bytes), so that the hub's rule is what a user reads. */
#define PASSWORD_READ_MAX 1024
#define SLUG_MAX 31

#define USAGE_HEAD "usage: renkeictl [--hub URL] [--json] "

#define CLIENT_USAGE                                                                               \
    "  client create --tenant T --name N [--redirect-uri U]... [--public | --auth-method M]\n"     \
    "                [--grant G]... [--scope S]... [--first-party] [--service S]\n"                \
    "                [--subject-type pairwise|public] [--sector-identifier S]\n"                   \
    "                [--post-logout-redirect-uri U]... [--backchannel-logout-uri U]\n"             \
    "                [--audience A] [--access-token-ttl SECONDS] [--refresh-token-ttl SECONDS]\n"  \
    "                [--signing-alg ES256|RS256]\n"                                                \
    "  client list --tenant T\n"
#define CLIENT_NOTES                                                                               \
    "  M is client_secret_basic (default), client_secret_post or none (= --public); G is\n"        \
    "  authorization_code, refresh_token or client_credentials (default: the first two when a\n"   \
    "  --redirect-uri is given, else client_credentials); --scope and --grant take several\n"      \
    "  values comma- or space-joined, and --scope '' asks for none. The client secret is\n"        \
    "  printed once, at creation.\n"
#define USER_USAGE                                                                                 \
    "  user create --tenant T --username U --password-stdin [--display-name N] [--email E]\n"      \
    "              [--staff ROLE]... [--residency-verified HOW] [--cert-key HEX]\n"                \
    "              [--works-in SLUG] [--studies-in SLUG]   (在勤 / 在学: another city)\n"      \
    "  user list --tenant T\n"
#define USER_NOTES                                                                                 \
    "  the password is one line on stdin (never an argument); ROLE is tenant-admin,\n"             \
    "  facility-manager, librarian or auditor; HOW is registration (default), self_declared\n"     \
    "  or certificate; HEX is the certificate key that certificate login reports.\n"
#define KEYS_USAGE "  keys rotate --tenant T [--alg ES256|RS256]\n"
#define KEYS_NOTES                                                                                 \
    "  promotes the realm's next key to active and retires the active one (default alg: the\n"     \
    "  hub's first of identity.signing_algs).\n"
#define TOKEN_USAGE "  registration-token --tenant T [--ttl SECONDS] [--uses N]\n"
#define TOKEN_NOTES                                                                                \
    "  an initial access token for dynamic client registration at /t/T/register (RFC 7591):\n"     \
    "  valid --ttl seconds (default 86400) for --uses registrations (default 1); shown once.\n"
#define TENANT_NOTE "  T is a tenant slug (chofu).\n"

const char rk_ctl_identity_usage[] = CLIENT_USAGE USER_USAGE KEYS_USAGE TOKEN_USAGE;

static const char client_usage[] =
    USAGE_HEAD "client create|list ...\n" CLIENT_USAGE TENANT_NOTE CLIENT_NOTES;
static const char user_usage[] =
    USAGE_HEAD "user create|list ...\n" USER_USAGE TENANT_NOTE USER_NOTES;
static const char keys_usage[] = USAGE_HEAD "keys rotate ...\n" KEYS_USAGE TENANT_NOTE KEYS_NOTES;
static const char token_usage[] =
    USAGE_HEAD "registration-token ...\n" TOKEN_USAGE TENANT_NOTE TOKEN_NOTES;

/* --- options -------------------------------------------------------------------------------- */

typedef enum option_kind {
    OPTION_TEXT,  /* one value: a string field */
    OPTION_LIST,  /* repeated: each value one element of an array field */
    OPTION_WORDS, /* repeated: values split at commas and spaces into an array field */
    OPTION_FLAG,  /* no value: the field is true */
    OPTION_COUNT  /* one value: a positive integer field */
} option_kind_t;

typedef struct option {
    const char *name; /* "--redirect-uri" */
    option_kind_t kind;
    const char *field; /* the request body's field; "-…" fields are the command's own */
} option_t;

static const option_t client_create_options[] = {
    {"--tenant", OPTION_TEXT, "-tenant"},
    {"--name", OPTION_TEXT, "name"},
    {"--redirect-uri", OPTION_LIST, "redirect_uris"},
    {"--public", OPTION_FLAG, "-public"},
    {"--auth-method", OPTION_TEXT, "token_endpoint_auth_method"},
    {"--grant", OPTION_WORDS, "grant_types"},
    {"--scope", OPTION_WORDS, "scopes"},
    {"--first-party", OPTION_FLAG, "first_party"},
    {"--service", OPTION_TEXT, "service"},
    {"--subject-type", OPTION_TEXT, "subject_type"},
    {"--sector-identifier", OPTION_TEXT, "sector_identifier"},
    {"--post-logout-redirect-uri", OPTION_LIST, "post_logout_redirect_uris"},
    {"--backchannel-logout-uri", OPTION_TEXT, "backchannel_logout_uri"},
    {"--audience", OPTION_TEXT, "audience"},
    {"--access-token-ttl", OPTION_COUNT, "access_token_ttl"},
    {"--refresh-token-ttl", OPTION_COUNT, "refresh_token_ttl"},
    {"--signing-alg", OPTION_TEXT, "signing_alg"},
    {NULL, OPTION_TEXT, NULL},
};

static const option_t user_create_options[] = {
    {"--tenant", OPTION_TEXT, "-tenant"},
    {"--username", OPTION_TEXT, "username"},
    {"--password-stdin", OPTION_FLAG, "-password-stdin"},
    {"--display-name", OPTION_TEXT, "display_name"},
    {"--email", OPTION_TEXT, "email"},
    {"--staff", OPTION_WORDS, "staff_roles"},
    {"--residency-verified", OPTION_TEXT, "residency_verified"},
    {"--cert-key", OPTION_TEXT, "cert_key"},
    {"--works-in", OPTION_TEXT, "works_in"},
    {"--studies-in", OPTION_TEXT, "studies_in"},
    {NULL, OPTION_TEXT, NULL},
};

static const option_t keys_rotate_options[] = {
    {"--tenant", OPTION_TEXT, "-tenant"},
    {"--alg", OPTION_TEXT, "alg"},
    {NULL, OPTION_TEXT, NULL},
};

static const option_t registration_token_options[] = {
    {"--tenant", OPTION_TEXT, "-tenant"},
    {"--ttl", OPTION_COUNT, "ttl"},
    {"--uses", OPTION_COUNT, "uses"},
    {NULL, OPTION_TEXT, NULL},
};

static const option_t tenant_only_options[] = {
    {"--tenant", OPTION_TEXT, "-tenant"},
    {NULL, OPTION_TEXT, NULL},
};

/* Appends the words of value (split at commas and spaces) to list; 0, or -1 if not UTF-8. */
static int add_words(json_t *list, const char *value)
{
    char *copy = rk_xstrdup(value), *save = NULL;
    int rc = 0;
    for (char *word = strtok_r(copy, ", ", &save); word && rc == 0;
         word = strtok_r(NULL, ", ", &save))
        rc = json_array_append_new(list, json_string(word));
    free(copy);
    return rc;
}

/*
 * Parses argv (the options after "NOUN VERB") by the table into *out: a new object of the
 * fields set, the command's own ("-…") among them. Returns 0, or the usage exit status after
 * reporting the option at fault (then *out is NULL).
 */
static int parse_options(const option_t *table, const char *usage, int argc, char **argv,
                         json_t **out)
{
    json_t *fields = json_object();
    *out = NULL;
    for (int i = 0; i < argc; i++) {
        const char *name = argv[i];
        const option_t *o = table;
        while (o->name && strcmp(o->name, name) != 0)
            o++;
        if (!o->name) {
            json_decref(fields);
            if (strcmp(name, "--password") == 0)
                return rk_ctl_usage_error(usage, "--password: not an option: the password is "
                                                 "read from stdin with --password-stdin");
            return rk_ctl_usage_error(usage, "%s: unknown option", name);
        }
        json_t *current = json_object_get(fields, o->field);
        if (o->kind == OPTION_FLAG) {
            json_object_set_new(fields, o->field, json_true());
            continue;
        }
        if (i + 1 >= argc) {
            json_decref(fields);
            return rk_ctl_usage_error(usage, "%s: needs a value", name);
        }
        const char *value = argv[++i];
        if (current && (o->kind == OPTION_TEXT || o->kind == OPTION_COUNT)) {
            json_decref(fields);
            return rk_ctl_usage_error(usage, "%s: given twice", name);
        }
        int bad = 0;
        if (o->kind == OPTION_TEXT) {
            bad = json_object_set_new(fields, o->field, json_string(value));
        } else if (o->kind == OPTION_COUNT) {
            char *end;
            errno = 0;
            long n = strtol(value, &end, 10);
            if (errno || end == value || *end || n < 1 || n > INT_MAX) {
                json_decref(fields);
                return rk_ctl_usage_error(usage, "%s: must be a positive whole number", name);
            }
            json_object_set_new(fields, o->field, json_integer(n));
        } else {
            if (!current) {
                current = json_array();
                json_object_set_new(fields, o->field, current);
            }
            bad = o->kind == OPTION_LIST ? json_array_append_new(current, json_string(value))
                                         : add_words(current, value);
        }
        if (bad) {
            json_decref(fields);
            return rk_ctl_usage_error(usage, "%s: must be UTF-8 text", name);
        }
    }
    *out = fields;
    return 0;
}

/* The text of a field (NULL when absent), valid while fields lives. */
static const char *field_text(const json_t *fields, const char *field)
{
    return json_string_value(json_object_get(fields, field));
}

/* Whether a flag was given; it is taken out of fields. */
static int take_flag(json_t *fields, const char *field)
{
    int set = json_is_true(json_object_get(fields, field));
    json_object_del(fields, field);
    return set;
}

/* The request body: fields without the command's own ("-…") ones. A new reference. */
static json_t *request_body(json_t *fields)
{
    json_t *body = json_object();
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value)
    {
        if (key[0] != '-')
            json_object_set(body, key, value);
    }
    return body;
}

/*
 * The realm path "/admin/v1/realms/{tenant}{suffix}" into path, after checking --tenant (it
 * becomes part of the URL). Returns 0, or the usage exit status.
 */
static int realm_path(const json_t *fields, const char *usage, const char *what, const char *suffix,
                      char *path, size_t len)
{
    const char *slug = field_text(fields, "-tenant");
    if (!slug)
        return rk_ctl_usage_error(usage, "%s needs --tenant", what);
    size_t n = strlen(slug);
    int ok = n >= 2 && n <= SLUG_MAX && slug[0] >= 'a' && slug[0] <= 'z';
    for (size_t i = 1; ok && i < n; i++)
        ok = (slug[i] >= 'a' && slug[i] <= 'z') || (slug[i] >= '0' && slug[i] <= '9') ||
             slug[i] == '-';
    if (!ok)
        return rk_ctl_usage_error(usage,
                                  "--tenant: must be a tenant slug (^[a-z][a-z0-9-]{1,30}$)");
    snprintf(path, len, "/admin/v1/realms/%s%s", slug, suffix);
    return 0;
}

/* --- printing ------------------------------------------------------------------------------- */

static const char *text_or_dash(const json_t *value)
{
    const char *s = json_string_value(value);
    return s && *s ? s : "-";
}

/* The strings of array joined by sep into out (cut at len), or "-" when there are none. */
static const char *joined(const json_t *array, const char *sep, char *out, size_t len)
{
    size_t i, used = 0;
    json_t *item;
    out[0] = '\0';
    json_array_foreach(array, i, item)
    {
        int n = snprintf(out + used, len - used, "%s%s", used ? sep : "", text_or_dash(item));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return *out ? out : "-";
}

static const char *yes_no(const json_t *value)
{
    return json_is_true(value) ? "yes" : "no";
}

static void print_client(const json_t *c, const char *tenant)
{
    char buf[2048];
    printf("client          %s (%s)\n", text_or_dash(json_object_get(c, "name")), tenant);
    printf("client_id       %s\n", text_or_dash(json_object_get(c, "client_id")));
    if (json_object_get(c, "client_secret")) {
        printf("client_secret   %s\n", text_or_dash(json_object_get(c, "client_secret")));
        printf("                shown this once: store it now; the hub keeps only its hash\n");
    }
    printf("auth method     %s\n", text_or_dash(json_object_get(c, "token_endpoint_auth_method")));
    printf("grants          %s\n",
           joined(json_object_get(c, "grant_types"), " ", buf, sizeof(buf)));
    printf("scopes          %s\n", joined(json_object_get(c, "scopes"), " ", buf, sizeof(buf)));
    printf("redirect uris   %s\n",
           joined(json_object_get(c, "redirect_uris"), " ", buf, sizeof(buf)));
    printf("subject type    %s\n", text_or_dash(json_object_get(c, "subject_type")));
    printf("first party     %s\n", yes_no(json_object_get(c, "first_party")));
    printf("service         %s\n", text_or_dash(json_object_get(c, "service")));
    printf("signing alg     %s\n", text_or_dash(json_object_get(c, "signing_alg")));
    printf("issuer          %s\n", text_or_dash(json_object_get(c, "issuer")));
    printf("token endpoint  %s\n", text_or_dash(json_object_get(c, "token_endpoint")));
}

static void print_clients(const json_t *answer)
{
    char grants[256];
    printf("%-22s %-19s %-39s %s\n", "CLIENT_ID", "AUTH", "GRANTS", "NAME");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(answer, "clients"), i, c)
    {
        printf("%-22s %-19s %-39s %s\n", text_or_dash(json_object_get(c, "client_id")),
               text_or_dash(json_object_get(c, "token_endpoint_auth_method")),
               joined(json_object_get(c, "grant_types"), ",", grants, sizeof(grants)),
               text_or_dash(json_object_get(c, "name")));
    }
}

static void print_user(const json_t *u)
{
    char roles[256];
    printf("user            %s\n", text_or_dash(json_object_get(u, "username")));
    printf("home            %s\n", text_or_dash(json_object_get(u, "home_municipality")));
    printf("display name    %s\n", text_or_dash(json_object_get(u, "display_name")));
    printf("email           %s\n", text_or_dash(json_object_get(u, "email")));
    printf("residency       %s\n", text_or_dash(json_object_get(u, "residency_verified")));
    printf("staff roles     %s\n",
           joined(json_object_get(u, "staff_roles"), ",", roles, sizeof(roles)));
    printf("certificate     %s\n",
           json_is_true(json_object_get(u, "certificate_bound")) ? "bound" : "not bound");
}

static void print_users(const json_t *answer)
{
    char roles[256];
    printf("%-24s %-7s %-14s %-5s %-28s %s\n", "USERNAME", "HOME", "RESIDENCY", "CERT",
           "STAFF ROLES", "DISPLAY NAME");
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(answer, "users"), i, u)
    {
        printf("%-24s %-7s %-14s %-5s %-28s %s\n", text_or_dash(json_object_get(u, "username")),
               text_or_dash(json_object_get(u, "home_municipality")),
               text_or_dash(json_object_get(u, "residency_verified")),
               yes_no(json_object_get(u, "certificate_bound")),
               joined(json_object_get(u, "staff_roles"), ",", roles, sizeof(roles)),
               text_or_dash(json_object_get(u, "display_name")));
    }
}

static void print_rotation(const json_t *r)
{
    char retired[1024];
    printf("realm           %s\n", text_or_dash(json_object_get(r, "realm")));
    printf("alg             %s\n", text_or_dash(json_object_get(r, "alg")));
    printf("active          %s   signs from now on\n", text_or_dash(json_object_get(r, "active")));
    printf("next            %s   published; becomes active at the next rotation\n",
           text_or_dash(json_object_get(r, "next")));
    printf("retired         %s\n",
           joined(json_object_get(r, "retired"), " ", retired, sizeof(retired)));
}

static void print_registration_token(const json_t *t)
{
    printf("token           %s\n", text_or_dash(json_object_get(t, "token")));
    printf("                (shown once: give it to the party that registers its client)\n");
    printf("expires at      %s\n", text_or_dash(json_object_get(t, "expires_at")));
    printf("uses            %lld\n", (long long)json_integer_value(json_object_get(t, "uses")));
}

/* Prints answer (--json: as it is; else by print) and releases it. Returns 0. */
static int answer_done(const rk_ctl_t *ctl, json_t *answer, void (*print)(const json_t *))
{
    if (ctl->json)
        rk_ctl_print_json(answer);
    else
        print(answer);
    json_decref(answer);
    return 0;
}

/* --- client --------------------------------------------------------------------------------- */

static int client_create(const rk_ctl_t *ctl, json_t *fields)
{
    char path[128];
    int rc = realm_path(fields, client_usage, "client create", "/clients", path, sizeof(path));
    if (rc)
        return rc;
    if (!json_object_get(fields, "name"))
        return rk_ctl_usage_error(client_usage, "client create needs --name");
    if (take_flag(fields, "-public")) {
        const char *method =
            json_string_value(json_object_get(fields, "token_endpoint_auth_method"));
        if (method && strcmp(method, "none") != 0)
            return rk_ctl_usage_error(client_usage, "--public: means --auth-method none, not %s",
                                      method);
        json_object_set_new(fields, "token_endpoint_auth_method", json_string("none"));
    }
    /* A client with redirect URIs is for the code flow unless the grants say otherwise. */
    if (!json_object_get(fields, "grant_types") && json_object_get(fields, "redirect_uris"))
        json_object_set_new(fields, "grant_types",
                            json_pack("[s,s]", "authorization_code", "refresh_token"));
    json_t *body = request_body(fields);
    json_t *answer = rk_ctl_admin_call(ctl, "POST", path, body, &rc);
    json_decref(body);
    if (!answer)
        return rc;
    if (ctl->json)
        rk_ctl_print_json(answer);
    else
        print_client(answer, field_text(fields, "-tenant"));
    json_decref(answer);
    return 0;
}

/* `client list`, `user list`: GET the realm's collection. */
static int realm_list(const rk_ctl_t *ctl, json_t *fields, const char *usage, const char *what,
                      const char *suffix, void (*print)(const json_t *))
{
    char path[128];
    int rc = realm_path(fields, usage, what, suffix, path, sizeof(path));
    if (rc)
        return rc;
    json_t *answer = rk_ctl_admin_call(ctl, "GET", path, NULL, &rc);
    return answer ? answer_done(ctl, answer, print) : rc;
}

int rk_ctl_client_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 1)
        return rk_ctl_usage_error(client_usage, "client: needs a command (create, list)");
    const char *verb = argv[0];
    int create = strcmp(verb, "create") == 0;
    if (!create && strcmp(verb, "list") != 0)
        return rk_ctl_usage_error(client_usage, "client %s: unknown command", verb);
    json_t *fields;
    int rc = parse_options(create ? client_create_options : tenant_only_options, client_usage,
                           argc - 1, argv + 1, &fields);
    if (rc)
        return rc;
    rc = create ? client_create(ctl, fields)
                : realm_list(ctl, fields, client_usage, "client list", "/clients", print_clients);
    json_decref(fields);
    return rc;
}

/* --- user ----------------------------------------------------------------------------------- */

/*
 * Reads one line from stdin into buf (size bytes), without its "\n" or "\r\n", and without
 * echo when stdin is a terminal. Returns its length, or -1 with *why set.
 */
static long read_password(char *buf, size_t size, const char **why)
{
    struct termios saved, quiet;
    int terminal = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (terminal) {
        fprintf(stderr, "password: ");
        fflush(stderr);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    /* Unbuffered: no stdio buffer keeps a copy, and nothing after the line is consumed. */
    setvbuf(stdin, NULL, _IONBF, 0);
    size_t len = 0;
    int c = EOF, too_long = 0, nul = 0;
    while ((c = getchar()) != EOF && c != '\n') {
        if (len + 1 >= size) {
            too_long = 1;
            continue; /* drain the line, so that nothing of it is left for a later reader */
        }
        nul |= c == '\0';
        buf[len++] = (char)c;
    }
    if (terminal) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    if (too_long)
        *why = "--password-stdin: the line read is longer than 1024 bytes";
    else if (nul)
        *why = "--password-stdin: the password contains a NUL byte";
    else if (len == 0)
        *why = "--password-stdin: the password read from stdin is empty";
    else
        return (long)len;
    OPENSSL_cleanse(buf, size);
    return -1;
}

/* Wipes the password in fields (a string jansson owns and may be written through). */
static void wipe_password(json_t *fields)
{
    json_t *password = json_object_get(fields, "password");
    if (json_is_string(password))
        OPENSSL_cleanse((char *)json_string_value(password), json_string_length(password));
    json_object_del(fields, "password");
}

static int user_create(const rk_ctl_t *ctl, json_t *fields)
{
    char path[128];
    int rc = realm_path(fields, user_usage, "user create", "/users", path, sizeof(path));
    if (rc)
        return rc;
    if (!json_object_get(fields, "username"))
        return rk_ctl_usage_error(user_usage, "user create needs --username");
    if (!take_flag(fields, "-password-stdin"))
        return rk_ctl_usage_error(user_usage, "user create needs --password-stdin (the password "
                                              "is one line on stdin)");
    /* The hub wants the key as certificate login reports it: lower-case hex. */
    json_t *cert_key = json_object_get(fields, "cert_key");
    if (json_is_string(cert_key)) {
        char *lower = rk_xstrdup(json_string_value(cert_key));
        for (char *p = lower; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        json_object_set_new(fields, "cert_key", json_string(lower));
        free(lower);
    }
    char password[PASSWORD_READ_MAX + 1];
    const char *why = NULL;
    long len = read_password(password, sizeof(password), &why);
    if (len < 0)
        return rk_ctl_usage_error(user_usage, "%s", why);
    json_t *value = json_stringn(password, (size_t)len);
    OPENSSL_cleanse(password, sizeof(password));
    if (!value)
        return rk_ctl_usage_error(user_usage, "--password-stdin: the password must be UTF-8 text");
    json_object_set_new(fields, "password", value);
    json_t *body = request_body(fields);
    /* body shares the password string with fields: one wipe covers both. */
    json_t *answer = rk_ctl_admin_call(ctl, "POST", path, body, &rc);
    json_decref(body);
    wipe_password(fields);
    return answer ? answer_done(ctl, answer, print_user) : rc;
}

int rk_ctl_user_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 1)
        return rk_ctl_usage_error(user_usage, "user: needs a command (create, list)");
    const char *verb = argv[0];
    int create = strcmp(verb, "create") == 0;
    if (!create && strcmp(verb, "list") != 0)
        return rk_ctl_usage_error(user_usage, "user %s: unknown command", verb);
    json_t *fields;
    int rc = parse_options(create ? user_create_options : tenant_only_options, user_usage, argc - 1,
                           argv + 1, &fields);
    if (rc)
        return rc;
    rc = create ? user_create(ctl, fields)
                : realm_list(ctl, fields, user_usage, "user list", "/users", print_users);
    json_decref(fields);
    return rc;
}

/* --- keys ----------------------------------------------------------------------------------- */

int rk_ctl_keys_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 1)
        return rk_ctl_usage_error(keys_usage, "keys: needs a command (rotate)");
    if (strcmp(argv[0], "rotate") != 0)
        return rk_ctl_usage_error(keys_usage, "keys %s: unknown command", argv[0]);
    json_t *fields;
    int rc = parse_options(keys_rotate_options, keys_usage, argc - 1, argv + 1, &fields);
    if (rc)
        return rc;
    char path[128];
    rc = realm_path(fields, keys_usage, "keys rotate", "/keys:rotate", path, sizeof(path));
    if (rc == 0) {
        json_t *body = request_body(fields);
        json_t *answer = rk_ctl_admin_call(ctl, "POST", path, body, &rc);
        json_decref(body);
        if (answer)
            rc = answer_done(ctl, answer, print_rotation);
    }
    json_decref(fields);
    return rc;
}

/* --- registration tokens ------------------------------------------------------------------- */

int rk_ctl_registration_token_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    json_t *fields;
    int rc = parse_options(registration_token_options, token_usage, argc, argv, &fields);
    if (rc)
        return rc;
    char path[128];
    rc = realm_path(fields, token_usage, "registration-token", "/registration-tokens", path,
                    sizeof(path));
    if (rc == 0) {
        json_t *body = request_body(fields);
        json_t *answer = rk_ctl_admin_call(ctl, "POST", path, body, &rc);
        json_decref(body);
        if (answer)
            rc = answer_done(ctl, answer, print_registration_token);
    }
    json_decref(fields);
    return rc;
}
