/*
 * pages.h — the OpenID provider's browser pages, rendered to HTML: login, consent, an error
 * that must not redirect, logout confirmation and "logged out".
 *
 * These are what a resident sees when a city service sends them to log in, so they are
 * written for everyone: Japanese or English (lang.h), WCAG 2.1 AA (a label for every input,
 * a visible focus outline, text contrast of at least 4.5:1, headings, notices in a
 * role="alert" box tied to their fields with aria-describedby), a fluid layout from a 360-pixel
 * phone up, and no JavaScript at all. A page stays under 8 KiB with inputs of ordinary size.
 *
 * Every string input is untrusted and HTML-escaped. URLs (form actions, language links) must
 * be a path ("/t/chofu/login"), a query ("?ui_locales=en") or an http(s) URL; anything else
 * (javascript:, "//host", whitespace, a control character or a backslash) makes a form post to
 * "about:blank" and a language link disappear.
 *
 * Each page inlines rk_identity_pages_css in one <style> element, byte for byte, so the
 * Content-Security-Policy of rk_identity_pages_csp() allows it by hash and allows nothing
 * else: serve every page with that header.
 *
 * Pure functions, no I/O: pages allocate their result in the caller's request arena. Used by
 * the authorization, login, consent and logout endpoints.
 */
#ifndef RK_IDENTITY_PAGES_H
#define RK_IDENTITY_PAGES_H

#include "core/mem.h"
#include "identity/lang.h"

#include <stddef.h>

/** The one stylesheet of every page (inlined in a <style> element); NUL-terminated. */
extern const char rk_identity_pages_css[];

/**
 * The Content-Security-Policy value for these pages: default-src 'none', the stylesheet
 * allowed by its SHA-256 ('sha256-<standard base64>'), images from 'self' and data:, no
 * framing, no <base>. It has no form-action: Chrome applies form-action to the redirect that
 * follows a POST, and that redirect goes to the relying party. Computed on the first call
 * (thread-safe); the string is static.
 */
const char *rk_identity_pages_csp(void);

/**
 * s with & < > " ' replaced by character references, in the arena; "" for NULL. Safe in
 * element content and in quoted attribute values.
 */
char *rk_html_escape(rk_arena_t *arena, const char *s);

typedef enum {
    RK_LOGIN_OK = 0,          /* no notice */
    RK_LOGIN_BAD_CREDENTIALS, /* never says whether the username or the password was wrong */
    RK_LOGIN_THROTTLED,       /* too many attempts: says to wait retry_after_s */
    RK_LOGIN_EXPIRED,         /* the login form is too old or its CSRF token failed: start again */
    RK_LOGIN_CERT_FAILED,     /* the certificate response did not verify */
    RK_LOGIN_STEP_UP,         /* this service requires certificate login */
    RK_LOGIN_NOT_ADMITTED,    /* the home city has no agreement with the service's city */
    RK_LOGIN_UNAVAILABLE,     /* try again shortly */
    RK_LOGIN_PUPIL_ENDED,     /* a pupil ID after the March its holder left 中学校 */
} rk_login_notice_t;

typedef struct rk_identity_login_page {
    rk_lang_t lang;
    const char *realm_name;  /* the city running the service, in lang, e.g. "調布市"; or NULL */
    const char *client_name; /* the service asking, e.g. "調布市 施設予約"; or NULL */
    const char *action;      /* form action for password login, e.g. "/t/chofu/login" */
    const char *tx;          /* the signed authorization request: hidden input "tx" */
    const char *csrf;        /* hidden input "csrf" */
    const char *username;    /* prefilled after a failure, or NULL */
    rk_login_notice_t notice;
    int retry_after_s;       /* for RK_LOGIN_THROTTLED; <= 0 says "in a little while" */
    int password_allowed;    /* 0: only certificate login satisfies the request; no password form */
    const char *cert_action; /* form action for certificate login; NULL: no certificate part */
    const char *cert_challenge; /* the text the resident's tool signs; posted back as "challenge" */
    const char *lang_url_ja;    /* this request in Japanese, or NULL: no link */
    const char *lang_url_en;    /* this request in English, or NULL: no link */
} rk_identity_login_page_t;

/**
 * The login page: the notice (if any) in a role="alert" box, then the password form (POST to
 * action: username, password, tx, csrf) when password_allowed, else why a certificate is
 * needed; then, when cert_action is set, certificate login (POST to cert_action: the
 * challenge with the renkeictl command that signs it, a textarea "certificate_response",
 * hidden tx, csrf and challenge). The page is in the arena.
 */
char *rk_identity_page_login(rk_arena_t *arena, const rk_identity_login_page_t *page);

typedef struct rk_identity_consent_page {
    rk_lang_t lang;
    const char *realm_name;    /* the city running the service, in lang; or NULL */
    const char *client_name;   /* the service asking; or NULL */
    const char *home_city;     /* the resident's home city in lang, or NULL when it is realm_name */
    const char *username;      /* who is logged in */
    const char *const *scopes; /* the scopes asked for: n_scopes of them */
    size_t n_scopes;
    const char *action;                    /* form action */
    const char *tx;                        /* hidden input "tx" */
    const char *csrf;                      /* hidden input "csrf" */
    const char *lang_url_ja, *lang_url_en; /* as on the login page */
} rk_identity_consent_page_t;

/**
 * The consent page: who is logged in, where they live when that is not the service's city,
 * each scope with what it gives (openid, profile, email, offline_access, home_municipality;
 * any other scope by its name), and one POST form to action with hidden tx and csrf and two
 * buttons named "decision": "approve" (the default on Enter) and "deny". The page is in the
 * arena.
 */
char *rk_identity_page_consent(rk_arena_t *arena, const rk_identity_consent_page_t *page);

/**
 * A page for an error that must not redirect (unknown client, unregistered redirect_uri):
 * title_ja or title_en by lang (the other when that one is NULL, a generic title when both
 * are), detail as given (English technical detail is fine; NULL for none), and the advice to
 * close the page and return to the service. The page is in the arena.
 */
char *rk_identity_page_error(rk_arena_t *arena, rk_lang_t lang, const char *title_ja,
                             const char *title_en, const char *detail);

/**
 * "Log out of every city's services?": a POST form to action with hidden csrf, hidden tx
 * unless it is NULL, and two buttons named "decision": "logout" and "cancel". The page is in
 * the arena.
 */
char *rk_identity_page_logout_confirm(rk_arena_t *arena, rk_lang_t lang, const char *action,
                                      const char *csrf, const char *tx);

/** "You are logged out", with the advice to close the browser on a shared computer. */
char *rk_identity_page_logged_out(rk_arena_t *arena, rk_lang_t lang);

/** The account page: who is logged in in this browser (the SSO session). */
typedef struct rk_identity_account_page {
    rk_lang_t lang;
    const char *realm_name; /* the realm the page belongs to, in lang; or NULL */
    const char *username;
    const char *display_name; /* or NULL */
    const char *home_city;    /* in lang */
    int certificate;          /* logged in with a certificate (else a password) */
    const char *logout_url;   /* or NULL: no link */
    const char *lang_url_ja, *lang_url_en;
} rk_identity_account_page_t;

char *rk_identity_page_account(rk_arena_t *arena, const rk_identity_account_page_t *page);

#endif
