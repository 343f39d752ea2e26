/*
 * tenant_file.h — the tenants/<slug>.json format: parse, validate, load a directory.
 *
 * A tenant file describes one municipality (its 全国地方公共団体コード, slug, names, contact,
 * public website) and the agreements under which it lets residents of other tenants use its
 * services. tenants/README.md documents the format key by key; this unit is its one
 * implementation. It is pure logic: it reads the files it is given and nothing else (no
 * database, no sockets), so start-up, renkeictl and the unit tests share it.
 *
 * Every error is one line "FILE: JSON-PATH: REASON", for example
 *   tenants/kodaira.json: $.code: check digit is 1, expected 0
 * where JSON-PATH is made of `$`, `.key` (or `["key"]` for a key that is not an identifier)
 * and `[index]`. Validation stops at the first error.
 *
 * Called by: hub start-up (an invalid set stops it), renkeictl's tenant commands, the tests.
 */
#ifndef RK_TENANCY_TENANT_FILE_H
#define RK_TENANCY_TENANT_FILE_H

#include <jansson.h>
#include <stddef.h>

/* Bounds on what a tenant file may hold; tenants/README.md repeats them. Lengths in bytes. */
#define RK_TENANT_FILE_MAX (1024 * 1024) /* one tenant file */
#define RK_TENANT_FILES_MAX 4096         /* tenant files in one directory */
#define RK_TENANT_TEXT_MAX 200           /* names, prefecture, contact.department */
#define RK_TENANT_EMAIL_MAX 254
#define RK_TENANT_PHONE_MAX 20
#define RK_TENANT_URL_MAX 512
#define RK_TENANT_AGREEMENTS_MAX 64 /* agreements in one file */
#define RK_TENANT_FROM_MAX 256      /* tenants in one agreement's "from" */
#define RK_TENANT_BRANCHES_MAX 64   /* entries in "pickup_branches" */
#define RK_TENANT_BRANCH_MAX 64     /* one branch id */

/** Terms for one residency class (resident, worker, student, partner_area, outsider). */
typedef struct rk_tenant_terms {
    char cls[16];
    int has_fee;
    int fee_non_resident;    /* 1: non_resident_rate, 0: resident_rate (when has_fee) */
    int booking_window_days; /* -1 if absent */
    int lottery;             /* -1 absent, 0, 1 */
    int loan_limit;          /* -1 if absent */
    char **pickup_branches;  /* NULL when absent; ["*"] means any branch */
    size_t n_pickup_branches;
} rk_tenant_terms_t;

/** One agreement declared by the providing tenant; the "to" side is that tenant. */
typedef struct rk_tenant_agreement {
    char *id;
    char **from; /* slugs of the tenants whose residents may use the services */
    size_t n_from;
    char **services;
    size_t n_services;
    char valid_from[11];      /* YYYY-MM-DD */
    char valid_until[11];     /* "" if open-ended */
    rk_tenant_terms_t *terms; /* in the order resident, worker, student, partner_area, outsider */
    size_t n_terms;
} rk_tenant_agreement_t;

/** One tenant. Every pointer is owned by the struct and released by rk_tenant_free(). */
typedef struct rk_tenant {
    char code[7];
    char *slug;
    char *name_ja, *name_en, *name_kana;
    char *prefecture;
    char *contact_department, *contact_email, *contact_phone; /* email, phone NULL if absent */
    char *public_url;
    rk_tenant_agreement_t *agreements;
    size_t n_agreements;
    json_t *source; /* the parsed file, owned (one reference) */
} rk_tenant_t;

/** A validated set of tenants, sorted by file name (which is each tenant's slug). */
typedef struct rk_tenant_set {
    rk_tenant_t *tenants;
    size_t n;
} rk_tenant_set_t;

/**
 * 1 if code is six ASCII digits, the first two a prefecture number 01..47 and the last the
 * JIS X 0401 check digit of the first five. Otherwise 0, and the rule that failed is written
 * into why_buf (bounded by why_len; nothing is written when why_buf is NULL or why_len is 0),
 * e.g. "check digit is 1, expected 0".
 */
int rk_tenant_code_valid(const char *code, char *why_buf, size_t why_len);

/**
 * Parses and validates one tenant object. file is used in messages and to check that the
 * slug equals the file's base name without ".json". root is borrowed; on success out holds
 * copies of every value and out->source a new reference to root, and RK_OK is returned. On
 * error returns RK_EINVAL, writes "FILE: PATH: REASON" into err (bounded by err_len) and
 * leaves *out zeroed. Cross-file rules (the "from" slugs exist) are not checked here.
 * The caller frees a parsed tenant with rk_tenant_free().
 */
int rk_tenant_parse(const char *file, json_t *root, rk_tenant_t *out, char *err, size_t err_len);

/**
 * Loads every *.json in dir (names starting with "." are skipped), sorted by name; parses
 * and validates each, then the cross-file rules: slugs unique, codes unique, every "from"
 * slug names a tenant of the set. All or nothing: on any error returns RK_EINVAL (RK_EIO if
 * the directory or a file cannot be read) with the first error in err, and *out is left
 * empty. On success *out owns the tenants; free them with rk_tenant_set_free().
 */
int rk_tenant_set_load_dir(const char *dir, rk_tenant_set_t *out, char *err, size_t err_len);

/**
 * Validates one agreement object of the file format (the keys of tenants/README.md's
 * "Agreements" table) declared by the tenant provider_slug, as rk_tenant_parse() does for each
 * of a file's agreements: on success RK_OK and *out holds copies (free with
 * rk_tenant_agreement_free()); on error RK_EINVAL with "agreement: JSON-PATH: REASON" in err
 * and *out zeroed. AdminService's ProposeAgreement checks what staff propose with it.
 */
int rk_tenant_agreement_parse(const char *provider_slug, json_t *agreement,
                              rk_tenant_agreement_t *out, char *err, size_t err_len);

/** Frees what the agreement owns (not the struct itself) and zeroes it. NULL is allowed. */
void rk_tenant_agreement_free(rk_tenant_agreement_t *a);

/** Frees every tenant of the set and leaves it empty. NULL is allowed. */
void rk_tenant_set_free(rk_tenant_set_t *set);

/** Frees what the tenant owns (not the struct itself) and zeroes it. NULL is allowed. */
void rk_tenant_free(rk_tenant_t *t);

#endif
