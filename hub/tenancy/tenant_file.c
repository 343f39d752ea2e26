/*
 * tenant_file.c — parse and validate tenants/<slug>.json, and load a directory of them.
 *
 * Design: a check_t carries the file name, the JSON path under inspection and the caller's
 * error buffer. One check_* function per part of the format walks into its keys, extends the
 * path as it goes and copies what it accepts into the rk_tenant_t. The first broken rule
 * writes "FILE: PATH: REASON" and unwinds with RK_EINVAL; the partly filled tenant is then
 * released by rk_tenant_free(), which accepts any prefix of a parse (arrays are allocated
 * zeroed with their final count before they are filled). Values quoted in messages are
 * escaped and cut short, so a hostile file cannot forge lines or flood the log.
 *
 * Loading a directory reads each file through one bounded buffer (open with O_NONBLOCK so a
 * FIFO named *.json cannot hang start-up), parses them in name order, then applies the rules
 * that span files.
 *
 * Interface routines: rk_tenant_code_valid, rk_tenant_parse, rk_tenant_set_load_dir,
 * rk_tenant_set_free, rk_tenant_free.
 */
#define _POSIX_C_SOURCE 200809L

#include "tenancy/tenant_file.h"

#include "core/error.h"
#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSON_PATH_MAX 256 /* a JSON path in a message */
#define QUOTE_MAX 64      /* bytes of a file's value repeated in a message */
#define QUOTE_BUF (QUOTE_MAX + 16)
#define SLUG_MAX 31
#define AGREEMENT_ID_MAX 63
#define WORD_MAX 64 /* a slug, id, service or date before its own rule looks at it */
#define ADMIN_AGREEMENT_PREFIX "admin-" /* rk_agreement keys of AdminService's agreements */

static const char *const top_keys[] = {"code",    "slug",       "name",       "prefecture",
                                       "contact", "public_url", "agreements", NULL};
static const char *const name_keys[] = {"ja", "en", "kana", NULL};
static const char *const contact_keys[] = {"department", "email", "phone", NULL};
static const char *const agreement_keys[] = {"id",          "from",  "services", "valid_from",
                                             "valid_until", "terms", NULL};
static const char *const term_keys[] = {"fee",        "booking_window_days", "lottery",
                                        "loan_limit", "pickup_branches",     NULL};
/* Residency classes in the order agreements store them. */
static const char *const residency_classes[] = {"resident",     "worker",   "student",
                                                "partner_area", "outsider", NULL};
static const char *const service_names[] = {"facility.search",
                                            "facility.booking",
                                            "library.catalogue",
                                            "library.hold",
                                            "library.loan",
                                            "elibrary",
                                            "sso",
                                            NULL};

/* JIS X 0401: prefecture number n (the code's first two digits) is prefectures[n - 1]. */
static const char *const prefectures[47] = {
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県",   "福島県", "茨城県",
    "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県",
    "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県",   "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県",
    "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県",   "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"};

typedef struct check {
    const char *file;
    const char *slug; /* this tenant's slug, once accepted */
    char *err;
    size_t err_len;
    char path[JSON_PATH_MAX];
    size_t path_len;
} check_t;

/* A rule on a string that has already passed check_text(). */
typedef int (*text_rule_fn)(check_t *c, const char *s);

/* An array of strings: required or not, bounds, and the rule for each entry. */
typedef struct list_spec {
    const char *key;
    int required;
    size_t max_items;
    size_t max_len;
    text_rule_fn rule;
} list_spec_t;

__attribute__((format(printf, 5, 0))) static void vput_error(char *err, size_t err_len,
                                                             const char *file, const char *path,
                                                             const char *fmt, va_list ap)
{
    char reason[512];

    if (!err || err_len == 0)
        return;
    vsnprintf(reason, sizeof reason, fmt, ap);
    snprintf(err, err_len, "%s: %s: %s", file, path, reason);
}

static void put_error(char *err, size_t err_len, const char *file, const char *path,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void put_error(char *err, size_t err_len, const char *file, const char *path,
                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vput_error(err, err_len, file, path, fmt, ap);
    va_end(ap);
}

/* Writes the error at the current path; returns RK_EINVAL so callers can `return fail(…)`. */
static int fail(check_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(check_t *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vput_error(c->err, c->err_len, c->file, c->path, fmt, ap);
    va_end(ap);
    return RK_EINVAL;
}

/* Bytes in the UTF-8 sequence that starts with lead (1 for anything that is not a lead). */
static size_t utf8_sequence_len(unsigned char lead)
{
    if (lead >= 0xf0 && lead <= 0xf4)
        return 4;
    if (lead >= 0xe0)
        return lead <= 0xef ? 3 : 1;
    if (lead >= 0xc2)
        return 2;
    return 1;
}

/* The code point at *p, advancing *p; U+FFFD for a malformed sequence (jansson has already
 * refused malformed UTF-8, so this is only a guard). */
static uint32_t utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    size_t n = utf8_sequence_len(s[0]);
    uint32_t cp;

    if (n == 1) {
        *p = s + 1;
        return s[0] < 0x80 ? s[0] : 0xfffd;
    }
    cp = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + i;
            return 0xfffd;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *p = s + n;
    return cp;
}

/*
 * s as a JSON string literal for a message: quotes and control characters escaped, cut at a
 * character boundary after about QUOTE_MAX bytes with "...". Returns buf.
 */
static const char *quote(const char *s, char buf[static QUOTE_BUF])
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;

    buf[o++] = '"';
    while (*p) {
        size_t n = utf8_sequence_len(*p);

        if (o + 6 > QUOTE_MAX + 1) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, 7, "\\u%04x", *p++);
        } else {
            for (size_t i = 0; i < n && *p; i++)
                buf[o++] = (char)*p++;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

static void path_append(check_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_append(check_t *c, const char *fmt, ...)
{
    size_t room = sizeof c->path - c->path_len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(c->path + c->path_len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->path_len += (size_t)n < room ? (size_t)n : room - 1;
}

static int is_identifier(const char *key)
{
    size_t n = 0;

    if (!((key[0] >= 'a' && key[0] <= 'z') || (key[0] >= 'A' && key[0] <= 'Z') || key[0] == '_'))
        return 0;
    for (; key[n]; n++) {
        char ch = key[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return n <= QUOTE_MAX;
}

/* Moves the path onto .key (["key"] when key is not an identifier); returns the mark that
 * leave() restores. */
static size_t enter_key(check_t *c, const char *key)
{
    size_t mark = c->path_len;
    char q[QUOTE_BUF];

    if (is_identifier(key))
        path_append(c, ".%s", key);
    else
        path_append(c, "[%s]", quote(key, q));
    return mark;
}

static size_t enter_index(check_t *c, size_t index)
{
    size_t mark = c->path_len;

    path_append(c, "[%zu]", index);
    return mark;
}

static void leave(check_t *c, size_t mark)
{
    c->path_len = mark;
    c->path[mark] = '\0';
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

static void join_list(const char *const *list, char *buf, size_t len)
{
    size_t o = 0;

    buf[0] = '\0';
    for (; *list && o < len; list++) {
        int n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", *list);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* Refuses any key of obj that is not in allowed; what names such a key ("unknown key"). */
static int check_keys(check_t *c, json_t *obj, const char *const *allowed, const char *what)
{
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        char names[256];

        if (in_list(allowed, key))
            continue;
        join_list(allowed, names, sizeof names);
        enter_key(c, key);
        return fail(c, "%s (allowed: %s)", what, names);
    }
    return RK_OK;
}

/* A string of 1..max bytes without NUL or control characters; *out points into v. */
static int check_text(check_t *c, json_t *v, size_t max, const char **out)
{
    const char *s;
    size_t n;

    if (!json_is_string(v))
        return fail(c, "must be a string");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n != strlen(s))
        return fail(c, "must not contain NUL characters");
    if (n == 0)
        return fail(c, "must not be empty");
    if (n > max)
        return fail(c, "is %zu bytes long, the limit is %zu", n, max);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return fail(c, "must not contain control characters");
    *out = s;
    return RK_OK;
}

/*
 * obj[key] through check_text() and rule (may be NULL). *out points into obj, or is NULL when
 * the key is absent and not required.
 */
static int text_field(check_t *c, json_t *obj, const char *key, int required, size_t max,
                      text_rule_fn rule, const char **out)
{
    size_t mark = enter_key(c, key);
    json_t *v = json_object_get(obj, key);
    int rc;

    *out = NULL;
    if (!v) {
        if (required)
            return fail(c, "required");
        leave(c, mark);
        return RK_OK;
    }
    rc = check_text(c, v, max, out);
    if (rc == RK_OK && rule)
        rc = rule(c, *out);
    if (rc != RK_OK)
        return rc;
    leave(c, mark);
    return RK_OK;
}

/* The object at obj[key], with the path left on key (the caller leaves). */
static int enter_object(check_t *c, json_t *obj, const char *key, const char *const *allowed,
                        json_t **out)
{
    json_t *v = json_object_get(obj, key);

    enter_key(c, key);
    if (!v)
        return fail(c, "required");
    if (!json_is_object(v))
        return fail(c, "must be an object");
    *out = v;
    return check_keys(c, v, allowed, "unknown key");
}

static int check_list(check_t *c, json_t *obj, const list_spec_t *spec, char ***out, size_t *n_out)
{
    size_t mark = enter_key(c, spec->key);
    json_t *v = json_object_get(obj, spec->key);
    size_t n;

    if (!v) {
        if (spec->required)
            return fail(c, "required");
        leave(c, mark);
        return RK_OK;
    }
    if (!json_is_array(v))
        return fail(c, "must be an array");
    n = json_array_size(v);
    if (n == 0)
        return fail(c, "must not be empty");
    if (n > spec->max_items)
        return fail(c, "has %zu entries, the limit is %zu", n, spec->max_items);
    *out = rk_xcalloc(n, sizeof **out);
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        size_t item = enter_index(c, i);
        const char *s;
        int rc = check_text(c, json_array_get(v, i), spec->max_len, &s);

        if (rc == RK_OK && spec->rule)
            rc = spec->rule(c, s);
        if (rc != RK_OK)
            return rc;
        for (size_t j = 0; j < i; j++) {
            char q[QUOTE_BUF];
            if (strcmp((*out)[j], s) == 0)
                return fail(c, "%s is already listed at [%zu]", quote(s, q), j);
        }
        (*out)[i] = rk_xstrdup(s);
        leave(c, item);
    }
    leave(c, mark);
    return RK_OK;
}

static int is_lower_digit_hyphen(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

static int rule_slug(check_t *c, const char *s)
{
    size_t n = strlen(s);
    int ok = s[0] >= 'a' && s[0] <= 'z' && n >= 2 && n <= SLUG_MAX;

    for (size_t i = 1; ok && i < n; i++)
        ok = is_lower_digit_hyphen(s[i]);
    return ok ? RK_OK : fail(c, "must match ^[a-z][a-z0-9-]{1,30}$");
}

static int rule_from(check_t *c, const char *s)
{
    int rc = rule_slug(c, s);

    if (rc != RK_OK)
        return rc;
    if (strcmp(s, c->slug) == 0)
        return fail(c, "is this tenant itself; an agreement is for residents of other tenants");
    return RK_OK;
}

static int rule_agreement_id(check_t *c, const char *s)
{
    size_t n = strlen(s);
    int ok = ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) && n >= 2 &&
             n <= AGREEMENT_ID_MAX;

    for (size_t i = 1; ok && i < n; i++)
        ok = is_lower_digit_hyphen(s[i]);
    if (!ok)
        return fail(c, "must match ^[a-z0-9][a-z0-9-]{1,62}$");
    if (strncmp(s, ADMIN_AGREEMENT_PREFIX, strlen(ADMIN_AGREEMENT_PREFIX)) == 0)
        return fail(c, "ids starting with \"" ADMIN_AGREEMENT_PREFIX "\" are the hub's (agreements "
                       "made through AdminService)");
    return RK_OK;
}

static int rule_service(check_t *c, const char *s)
{
    char names[256], q[QUOTE_BUF];

    if (in_list(service_names, s))
        return RK_OK;
    join_list(service_names, names, sizeof names);
    return fail(c, "%s is not a service (one of: %s)", quote(s, q), names);
}

/* Hiragana U+3041..U+309F, the prolonged sound mark ー, the middle dot ・ and spaces (ASCII
 * and ideographic), as a reading is written. */
static int rule_kana(check_t *c, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 1; *p; i++) {
        uint32_t cp = utf8_next(&p);
        if (!((cp >= 0x3041 && cp <= 0x309f) || cp == 0x30fc || cp == 0x30fb || cp == 0x20 ||
              cp == 0x3000))
            return fail(c, "must be hiragana (with ー, ・ and spaces): character %zu is U+%04X", i,
                        (unsigned)cp);
    }
    return RK_OK;
}

/* Dot-separated labels of letters, digits and inner hyphens, at least two labels. */
static int is_hostname(const char *s, size_t n)
{
    size_t labels = 0, label = 0;

    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = i < n ? s[i] : '.';
        if (ch == '.') {
            if (label == 0 || label > 63 || s[i - label] == '-' || s[i - 1] == '-')
                return 0;
            labels++;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-') {
            label++;
        } else {
            return 0;
        }
    }
    return labels >= 2;
}

static int is_email_local(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            continue;
        if (ch == '.' && s[i + 1] != '.')
            continue;
        if (!strchr("!#$%&'*+-/=?^_`{|}~", ch))
            return 0;
    }
    return 1;
}

static int rule_email(check_t *c, const char *s)
{
    const char *at = strchr(s, '@');

    if (at && is_email_local(s, (size_t)(at - s)) && is_hostname(at + 1, strlen(at + 1)))
        return RK_OK;
    return fail(c, "must be an e-mail address such as toshokan@city.example.lg.jp");
}

static int rule_phone(check_t *c, const char *s)
{
    size_t n = strlen(s);
    int ok = s[0] >= '0' && s[0] <= '9' && s[n - 1] >= '0' && s[n - 1] <= '9';

    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && s[i + 1] != '-');
    return ok ? RK_OK : fail(c, "must be digits and single hyphens, such as 03-0000-0000");
}

/* https://HOST[:PORT][/PATH], the path printable ASCII without query or fragment. */
static int rule_https_url(check_t *c, const char *s)
{
    const char *host = s + 8, *p;
    size_t host_len;

    if (strncmp(s, "https://", 8) != 0)
        return fail(c, "must start with https://");
    host_len = strcspn(host, ":/");
    if (!is_hostname(host, host_len))
        return fail(c, "must name a host such as www.city.example.lg.jp after https://");
    p = host + host_len;
    if (*p == ':') {
        long port = 0;
        size_t digits = 0;
        for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (*p - '0');
        if (digits == 0 || port < 1 || port > 65535 || (*p && *p != '/'))
            return fail(c, "has a port that is not a number between 1 and 65535");
    }
    for (; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '?' || *p == '#')
            return fail(c, "must be a base URL: printable ASCII without spaces, query or fragment");
    return RK_OK;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

static int rule_date(check_t *c, const char *s)
{
    int year = 0, month, day;

    for (int i = 0; i < 10; i++) {
        int want_hyphen = i == 4 || i == 7;
        if (want_hyphen ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
            return fail(c, "must be a date YYYY-MM-DD");
    }
    if (s[10] != '\0')
        return fail(c, "must be a date YYYY-MM-DD");
    for (int i = 0; i < 4; i++)
        year = year * 10 + (s[i] - '0');
    month = (s[5] - '0') * 10 + (s[6] - '0');
    day = (s[8] - '0') * 10 + (s[9] - '0');
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return fail(c, "%s is not a real date", s);
    return RK_OK;
}

static const list_spec_t from_list = {"from", 1, RK_TENANT_FROM_MAX, WORD_MAX, rule_from};
static const list_spec_t services_list = {
    "services", 1, sizeof service_names / sizeof *service_names - 1, WORD_MAX, rule_service};
static const list_spec_t branches_list = {"pickup_branches", 0, RK_TENANT_BRANCHES_MAX,
                                          RK_TENANT_BRANCH_MAX, NULL};

/* An integer lo..hi at obj[key] into *out, or -1 when absent. */
static int int_field(check_t *c, json_t *obj, const char *key, int lo, int hi, int *out)
{
    size_t mark = enter_key(c, key);
    json_t *v = json_object_get(obj, key);

    *out = -1;
    if (v) {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : (json_int_t)lo - 1;
        if (n < lo || n > hi)
            return fail(c, "must be an integer between %d and %d", lo, hi);
        *out = (int)n;
    }
    leave(c, mark);
    return RK_OK;
}

static int check_terms_class(check_t *c, json_t *v, const char *cls, rk_tenant_terms_t *t)
{
    json_t *fee, *lottery;
    size_t mark;
    int rc;

    snprintf(t->cls, sizeof t->cls, "%s", cls);
    if (!json_is_object(v))
        return fail(c, "must be an object");
    rc = check_keys(c, v, term_keys, "unknown key");
    if (rc != RK_OK)
        return rc;

    mark = enter_key(c, "fee");
    fee = json_object_get(v, "fee");
    if (fee) {
        const char *s = json_is_string(fee) ? json_string_value(fee) : "";
        t->fee_non_resident = strcmp(s, "non_resident_rate") == 0;
        if (!t->fee_non_resident && strcmp(s, "resident_rate") != 0)
            return fail(c, "must be \"resident_rate\" or \"non_resident_rate\"");
        t->has_fee = 1;
    }
    leave(c, mark);

    rc = int_field(c, v, "booking_window_days", 0, 730, &t->booking_window_days);
    if (rc != RK_OK)
        return rc;

    mark = enter_key(c, "lottery");
    lottery = json_object_get(v, "lottery");
    t->lottery = -1;
    if (lottery) {
        if (!json_is_boolean(lottery))
            return fail(c, "must be true or false");
        t->lottery = json_is_true(lottery);
    }
    leave(c, mark);

    rc = int_field(c, v, "loan_limit", 0, 100, &t->loan_limit);
    if (rc != RK_OK)
        return rc;

    rc = check_list(c, v, &branches_list, &t->pickup_branches, &t->n_pickup_branches);
    if (rc != RK_OK)
        return rc;
    for (size_t i = 0; t->n_pickup_branches > 1 && i < t->n_pickup_branches; i++) {
        if (strcmp(t->pickup_branches[i], "*") == 0) {
            enter_key(c, "pickup_branches");
            enter_index(c, i);
            return fail(c, "\"*\" (any branch) must be the only entry");
        }
    }
    return RK_OK;
}

static int check_terms(check_t *c, json_t *agreement, rk_tenant_agreement_t *a)
{
    size_t mark = enter_key(c, "terms");
    json_t *terms = json_object_get(agreement, "terms");
    size_t n = 0;
    int rc;

    if (!terms)
        return fail(c, "required");
    if (!json_is_object(terms))
        return fail(c, "must be an object");
    rc = check_keys(c, terms, residency_classes, "unknown residency class");
    if (rc != RK_OK)
        return rc;
    if (json_object_size(terms) == 0) {
        char names[256];
        join_list(residency_classes, names, sizeof names);
        return fail(c, "must give terms for at least one residency class (%s)", names);
    }
    a->n_terms = json_object_size(terms);
    a->terms = rk_xcalloc(a->n_terms, sizeof *a->terms);
    for (const char *const *cls = residency_classes; *cls; cls++) {
        json_t *v = json_object_get(terms, *cls);
        size_t class_mark;

        if (!v)
            continue;
        class_mark = enter_key(c, *cls);
        rc = check_terms_class(c, v, *cls, &a->terms[n++]);
        if (rc != RK_OK)
            return rc;
        leave(c, class_mark);
    }
    leave(c, mark);
    return RK_OK;
}

static int check_agreement(check_t *c, json_t *v, rk_tenant_agreement_t *a)
{
    const char *s;
    int rc;

    if (!json_is_object(v))
        return fail(c, "must be an object");
    rc = check_keys(c, v, agreement_keys, "unknown key");
    if (rc == RK_OK)
        rc = text_field(c, v, "id", 1, WORD_MAX, rule_agreement_id, &s);
    if (rc != RK_OK)
        return rc;
    a->id = rk_xstrdup(s);
    rc = check_list(c, v, &from_list, &a->from, &a->n_from);
    if (rc == RK_OK)
        rc = check_list(c, v, &services_list, &a->services, &a->n_services);
    if (rc == RK_OK)
        rc = text_field(c, v, "valid_from", 1, WORD_MAX, rule_date, &s);
    if (rc != RK_OK)
        return rc;
    memcpy(a->valid_from, s, sizeof a->valid_from);
    rc = text_field(c, v, "valid_until", 0, WORD_MAX, rule_date, &s);
    if (rc != RK_OK)
        return rc;
    if (s) {
        if (strcmp(s, a->valid_from) < 0) {
            enter_key(c, "valid_until");
            return fail(c, "%s is before valid_from %s", s, a->valid_from);
        }
        memcpy(a->valid_until, s, sizeof a->valid_until);
    }
    return check_terms(c, v, a);
}

static int check_agreements(check_t *c, json_t *root, rk_tenant_t *t)
{
    size_t mark = enter_key(c, "agreements");
    json_t *list = json_object_get(root, "agreements");
    size_t n;

    if (!list) {
        leave(c, mark);
        return RK_OK;
    }
    if (!json_is_array(list))
        return fail(c, "must be an array");
    n = json_array_size(list);
    if (n > RK_TENANT_AGREEMENTS_MAX)
        return fail(c, "has %zu agreements, the limit is %d", n, RK_TENANT_AGREEMENTS_MAX);
    t->n_agreements = n;
    t->agreements = rk_xcalloc(n, sizeof *t->agreements);
    for (size_t i = 0; i < n; i++) {
        size_t item = enter_index(c, i);
        int rc = check_agreement(c, json_array_get(list, i), &t->agreements[i]);

        if (rc != RK_OK)
            return rc;
        for (size_t j = 0; j < i; j++) {
            char q[QUOTE_BUF];
            if (strcmp(t->agreements[j].id, t->agreements[i].id) != 0)
                continue;
            enter_key(c, "id");
            return fail(c, "%s is already the id of $.agreements[%zu]",
                        quote(t->agreements[i].id, q), j);
        }
        leave(c, item);
    }
    leave(c, mark);
    return RK_OK;
}

static int check_code(check_t *c, json_t *root, rk_tenant_t *t)
{
    size_t mark = enter_key(c, "code");
    json_t *v = json_object_get(root, "code");
    char why[128];

    if (!v)
        return fail(c, "required");
    if (!json_is_string(v))
        return fail(c, "must be a string of 6 digits (a number would lose its leading zero)");
    if (!rk_tenant_code_valid(json_string_value(v), why, sizeof why))
        return fail(c, "%s", why);
    memcpy(t->code, json_string_value(v), sizeof t->code);
    leave(c, mark);
    return RK_OK;
}

/* The slug's pattern, and that it equals the file's base name without ".json". */
static int check_slug(check_t *c, json_t *root, rk_tenant_t *t)
{
    const char *slug, *base = strrchr(c->file, '/');
    size_t base_len;
    int rc = text_field(c, root, "slug", 1, WORD_MAX, rule_slug, &slug);

    if (rc != RK_OK)
        return rc;
    base = base ? base + 1 : c->file;
    base_len = strlen(base);
    if (base_len > 5 && strcmp(base + base_len - 5, ".json") == 0)
        base_len -= 5;
    if (strlen(slug) != base_len || memcmp(slug, base, base_len) != 0) {
        char q[QUOTE_BUF], expected[QUOTE_MAX + 1], q_expected[QUOTE_BUF];
        snprintf(expected, sizeof expected, "%.*s",
                 (int)(base_len < QUOTE_MAX ? base_len : QUOTE_MAX), base);
        enter_key(c, "slug");
        return fail(c, "%s does not match the file name, which expects %s", quote(slug, q),
                    quote(expected, q_expected));
    }
    t->slug = rk_xstrdup(slug);
    c->slug = t->slug;
    return RK_OK;
}

static int check_name(check_t *c, json_t *root, rk_tenant_t *t)
{
    size_t mark = c->path_len;
    const char *ja, *en, *kana;
    json_t *name = NULL;
    int rc = enter_object(c, root, "name", name_keys, &name);

    if (rc == RK_OK)
        rc = text_field(c, name, "ja", 1, RK_TENANT_TEXT_MAX, NULL, &ja);
    if (rc == RK_OK)
        rc = text_field(c, name, "en", 1, RK_TENANT_TEXT_MAX, NULL, &en);
    if (rc == RK_OK)
        rc = text_field(c, name, "kana", 1, RK_TENANT_TEXT_MAX, rule_kana, &kana);
    if (rc != RK_OK)
        return rc;
    t->name_ja = rk_xstrdup(ja);
    t->name_en = rk_xstrdup(en);
    t->name_kana = rk_xstrdup(kana);
    leave(c, mark);
    return RK_OK;
}

/* The prefecture must be the one the code's first two digits number. */
static int check_prefecture(check_t *c, json_t *root, rk_tenant_t *t)
{
    const char *s, *expected = prefectures[(t->code[0] - '0') * 10 + (t->code[1] - '0') - 1];
    int rc = text_field(c, root, "prefecture", 1, RK_TENANT_TEXT_MAX, NULL, &s);

    if (rc != RK_OK)
        return rc;
    if (strcmp(s, expected) != 0) {
        char q[QUOTE_BUF];
        enter_key(c, "prefecture");
        return fail(c, "%s does not match the code, whose prefecture number %.2s is %s",
                    quote(s, q), t->code, expected);
    }
    t->prefecture = rk_xstrdup(s);
    return RK_OK;
}

static int check_contact(check_t *c, json_t *root, rk_tenant_t *t)
{
    size_t mark = c->path_len;
    const char *department, *email, *phone;
    json_t *contact = NULL;
    int rc = enter_object(c, root, "contact", contact_keys, &contact);

    if (rc == RK_OK)
        rc = text_field(c, contact, "department", 1, RK_TENANT_TEXT_MAX, NULL, &department);
    if (rc == RK_OK)
        rc = text_field(c, contact, "email", 0, RK_TENANT_EMAIL_MAX, rule_email, &email);
    if (rc == RK_OK)
        rc = text_field(c, contact, "phone", 0, RK_TENANT_PHONE_MAX, rule_phone, &phone);
    if (rc != RK_OK)
        return rc;
    t->contact_department = rk_xstrdup(department);
    t->contact_email = email ? rk_xstrdup(email) : NULL;
    t->contact_phone = phone ? rk_xstrdup(phone) : NULL;
    leave(c, mark);
    return RK_OK;
}

static int check_tenant(check_t *c, json_t *root, rk_tenant_t *t)
{
    const char *url;
    int rc;

    if (!json_is_object(root))
        return fail(c, "must be an object");
    rc = check_keys(c, root, top_keys, "unknown key");
    if (rc == RK_OK)
        rc = check_code(c, root, t);
    if (rc == RK_OK)
        rc = check_slug(c, root, t);
    if (rc == RK_OK)
        rc = check_name(c, root, t);
    if (rc == RK_OK)
        rc = check_prefecture(c, root, t);
    if (rc == RK_OK)
        rc = check_contact(c, root, t);
    if (rc == RK_OK)
        rc = text_field(c, root, "public_url", 1, RK_TENANT_URL_MAX, rule_https_url, &url);
    if (rc != RK_OK)
        return rc;
    t->public_url = rk_xstrdup(url);
    return check_agreements(c, root, t);
}

static int set_why(char *why_buf, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_why(char *why_buf, size_t why_len, const char *fmt, ...)
{
    va_list ap;

    if (why_buf && why_len) {
        va_start(ap, fmt);
        vsnprintf(why_buf, why_len, fmt, ap);
        va_end(ap);
    }
    return 0;
}

int rk_tenant_code_valid(const char *code, char *why_buf, size_t why_len)
{
    size_t n;
    int prefecture, sum = 0, check;

    if (!code)
        return set_why(why_buf, why_len, "must be 6 digits, not NULL");
    /* Stops at the first non-digit, so n counts characters even in non-ASCII input. */
    for (n = 0; code[n]; n++)
        if (code[n] < '0' || code[n] > '9')
            return set_why(why_buf, why_len, "character %zu is not an ASCII digit", n + 1);
    if (n != 6)
        return set_why(why_buf, why_len, "must be 6 digits, not %zu", n);
    prefecture = (code[0] - '0') * 10 + (code[1] - '0');
    if (prefecture < 1 || prefecture > 47)
        return set_why(why_buf, why_len, "prefecture number %.2s is not between 01 and 47", code);
    for (int i = 0; i < 5; i++)
        sum += (6 - i) * (code[i] - '0');
    check = (11 - sum % 11) % 10;
    if (code[5] - '0' != check)
        return set_why(why_buf, why_len, "check digit is %c, expected %d", code[5], check);
    return 1;
}

int rk_tenant_parse(const char *file, json_t *root, rk_tenant_t *out, char *err, size_t err_len)
{
    check_t c = {.file = file, .err = err, .err_len = err_len, .path = "$", .path_len = 1};
    int rc;

    memset(out, 0, sizeof *out);
    rc = check_tenant(&c, root, out);
    if (rc != RK_OK) {
        rk_tenant_free(out);
        return rc;
    }
    out->source = json_incref(root);
    return RK_OK;
}

int rk_tenant_agreement_parse(const char *provider_slug, json_t *agreement,
                              rk_tenant_agreement_t *out, char *err, size_t err_len)
{
    check_t c = {.file = "agreement",
                 .slug = provider_slug,
                 .err = err,
                 .err_len = err_len,
                 .path = "$",
                 .path_len = 1};
    int rc;

    memset(out, 0, sizeof *out);
    rc = check_agreement(&c, agreement, out);
    if (rc != RK_OK)
        rk_tenant_agreement_free(out);
    return rc;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void rk_tenant_agreement_free(rk_tenant_agreement_t *a)
{
    if (!a)
        return;
    free(a->id);
    free_strings(a->from, a->n_from);
    free_strings(a->services, a->n_services);
    for (size_t i = 0; a->terms && i < a->n_terms; i++)
        free_strings(a->terms[i].pickup_branches, a->terms[i].n_pickup_branches);
    free(a->terms);
    memset(a, 0, sizeof *a);
}

void rk_tenant_free(rk_tenant_t *t)
{
    if (!t)
        return;
    free(t->slug);
    free(t->name_ja);
    free(t->name_en);
    free(t->name_kana);
    free(t->prefecture);
    free(t->contact_department);
    free(t->contact_email);
    free(t->contact_phone);
    free(t->public_url);
    for (size_t i = 0; t->agreements && i < t->n_agreements; i++)
        rk_tenant_agreement_free(&t->agreements[i]);
    free(t->agreements);
    json_decref(t->source);
    memset(t, 0, sizeof *t);
}

void rk_tenant_set_free(rk_tenant_set_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        rk_tenant_free(&set->tenants[i]);
    free(set->tenants);
    set->tenants = NULL;
    set->n = 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's *.json files (not starting with "."), sorted. */
static int list_tenant_files(const char *dir, char ***names, size_t *n, char *err, size_t err_len)
{
    DIR *d = opendir(dir);
    size_t cap = 0;
    struct dirent *e;

    *names = NULL;
    *n = 0;
    if (!d) {
        put_error(err, err_len, dir, "$", "cannot open directory: %s", strerror(errno));
        return RK_EIO;
    }
    for (;;) {
        size_t len;

        errno = 0;
        e = readdir(d);
        if (!e)
            break;
        len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (*n == RK_TENANT_FILES_MAX) {
            closedir(d);
            put_error(err, err_len, dir, "$", "holds more than %d tenant files",
                      RK_TENANT_FILES_MAX);
            return RK_EINVAL;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *names = rk_xrealloc(*names, cap * sizeof **names);
        }
        (*names)[(*n)++] = rk_xstrdup(e->d_name);
    }
    if (errno != 0) {
        put_error(err, err_len, dir, "$", "cannot read directory: %s", strerror(errno));
        closedir(d);
        return RK_EIO;
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, compare_strings);
    return RK_OK;
}

/* Reads file (at most RK_TENANT_FILE_MAX bytes, through buf of that size plus one) and parses
 * it as JSON without duplicate keys. */
static int load_json(const char *file, char *buf, json_t **root, char *err, size_t err_len)
{
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    size_t len = 0;
    struct stat st;
    json_error_t jerr;

    if (fd < 0) {
        put_error(err, err_len, file, "$", "cannot open: %s", strerror(errno));
        return RK_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        put_error(err, err_len, file, "$", "not a regular file");
        close(fd);
        return RK_EINVAL;
    }
    while (len <= RK_TENANT_FILE_MAX) {
        ssize_t n = read(fd, buf + len, RK_TENANT_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            put_error(err, err_len, file, "$", "cannot read: %s", strerror(errno));
            close(fd);
            return RK_EIO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len > RK_TENANT_FILE_MAX) {
        put_error(err, err_len, file, "$", "is larger than the limit of %d bytes",
                  RK_TENANT_FILE_MAX);
        return RK_EINVAL;
    }
    *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root) {
        put_error(err, err_len, file, "$", "invalid JSON at line %d column %d: %s", jerr.line,
                  jerr.column, jerr.text);
        return RK_EINVAL;
    }
    return RK_OK;
}

/* The rules that span files: unique slugs and codes, "from" slugs that exist. */
static int check_set(const rk_tenant_set_t *set, char *const *files, const char *dir, char *err,
                     size_t err_len)
{
    const char **slugs = rk_xmalloc(set->n * sizeof *slugs);
    int rc = RK_OK;

    for (size_t i = 0; i < set->n; i++) {
        const rk_tenant_t *t = &set->tenants[i];
        for (size_t j = 0; j < i; j++) {
            if (strcmp(t->slug, set->tenants[j].slug) == 0) {
                put_error(err, err_len, files[i], "$.slug", "\"%s\" is also the slug of %s",
                          t->slug, files[j]);
                rc = RK_EINVAL;
                goto out;
            }
            if (strcmp(t->code, set->tenants[j].code) == 0) {
                put_error(err, err_len, files[i], "$.code", "%s is also the code of %s", t->code,
                          files[j]);
                rc = RK_EINVAL;
                goto out;
            }
        }
        slugs[i] = t->slug;
    }
    qsort(slugs, set->n, sizeof *slugs, compare_strings);
    for (size_t i = 0; i < set->n; i++) {
        const rk_tenant_t *t = &set->tenants[i];
        for (size_t k = 0; k < t->n_agreements; k++) {
            const rk_tenant_agreement_t *a = &t->agreements[k];
            for (size_t f = 0; f < a->n_from; f++) {
                char path[64];
                if (bsearch(&a->from[f], slugs, set->n, sizeof *slugs, compare_strings))
                    continue;
                snprintf(path, sizeof path, "$.agreements[%zu].from[%zu]", k, f);
                put_error(err, err_len, files[i], path, "\"%s\" is not a tenant in %s", a->from[f],
                          dir);
                rc = RK_EINVAL;
                goto out;
            }
        }
    }
out:
    free(slugs);
    return rc;
}

int rk_tenant_set_load_dir(const char *dir, rk_tenant_set_t *out, char *err, size_t err_len)
{
    rk_tenant_set_t set = {0};
    size_t dir_len = strlen(dir), n_files;
    int separator = dir_len > 0 && dir[dir_len - 1] != '/';
    char **names, **files = NULL, *buf = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    rc = list_tenant_files(dir, &names, &n_files, err, err_len);
    if (rc != RK_OK)
        goto out;
    buf = rk_xmalloc(RK_TENANT_FILE_MAX + 1);
    files = rk_xcalloc(n_files, sizeof *files);
    set.tenants = rk_xcalloc(n_files, sizeof *set.tenants);
    for (size_t i = 0; i < n_files; i++) {
        size_t len = dir_len + (size_t)separator + strlen(names[i]) + 1;
        json_t *root;

        files[i] = rk_xmalloc(len);
        snprintf(files[i], len, "%s%s%s", dir, separator ? "/" : "", names[i]);
        rc = load_json(files[i], buf, &root, err, err_len);
        if (rc != RK_OK)
            goto out;
        rc = rk_tenant_parse(files[i], root, &set.tenants[i], err, err_len);
        json_decref(root);
        if (rc != RK_OK)
            goto out;
        set.n = i + 1;
    }
    rc = check_set(&set, files, dir, err, err_len);
    if (rc == RK_OK) {
        *out = set;
        set = (rk_tenant_set_t){0};
    }
out:
    rk_tenant_set_free(&set);
    free_strings(files, n_files);
    free_strings(names, n_files);
    free(buf);
    return rc;
}
