/*
 * pages_test.c — hub/identity/pages.c and lang.c: every page's structure (doctype, lang,
 * viewport, the one stylesheet, a label for every input, no <script>, under 8 KiB), escaping of
 * every input, the login and certificate forms, localized notices, consent, error and logout
 * pages, unsafe URLs, the CSP hash, and the language pick rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "identity/lang.h"
#include "identity/pages.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOSTILE "<script>alert(1)</script>\"'&"
#define HOSTILE_ESCAPED "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"
#define PAGE_MAX 8192

static const char *const challenge = "rk1.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH";

/* A signed authorization request of a realistic size (a compact JWS of about 900 bytes). */
static char long_tx[901];

static int group_setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(long_tx) - 1; i++)
        long_tx[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."[i % 65];
    long_tx[sizeof(long_tx) - 1] = '\0';
    return 0;
}

static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* 1 if haystack contains needle (lowercase ASCII) in any case. */
static int contains_ci(const char *haystack, const char *needle)
{
    for (; *haystack; haystack++) {
        if (strncasecmp(haystack, needle, strlen(needle)) == 0)
            return 1;
    }
    return 0;
}

/* 1 if some tag has an event handler attribute (" onclick=", " onfocus="…). */
static int has_event_handler(const char *page)
{
    for (const char *p = strstr(page, " on"); p; p = strstr(p + 1, " on")) {
        const char *c = p + 3;
        while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))
            c++;
        if (c > p + 3 && *c == '=')
            return 1;
    }
    return 0;
}

static void assert_has(const char *page, const char *needle)
{
    if (!strstr(page, needle))
        fail_msg("expected to find '%s' in:\n%s", needle, page);
}

static void assert_lacks(const char *page, const char *needle)
{
    if (strstr(page, needle))
        fail_msg("did not expect '%s' in:\n%s", needle, page);
}

/* The value of attribute name="…" inside tag[0..len), copied into out; 0 when absent. */
static int attribute(const char *tag, size_t len, const char *name, char *out, size_t out_size)
{
    char key[64];
    snprintf(key, sizeof(key), " %s=\"", name);
    size_t key_len = strlen(key);
    for (size_t i = 0; i + key_len <= len; i++) {
        if (memcmp(tag + i, key, key_len) == 0) {
            const char *v = tag + i + key_len;
            const char *end = memchr(v, '"', len - i - key_len);
            assert_non_null(end);
            size_t n = (size_t)(end - v);
            assert_true(n < out_size);
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Every visible <input> and <textarea> has an id that a <label for> names. */
static void assert_labelled(const char *page, const char *element)
{
    for (const char *tag = strstr(page, element); tag; tag = strstr(tag + 1, element)) {
        size_t len = strcspn(tag, ">");
        char value[128];
        if (attribute(tag, len, "type", value, sizeof(value)) && strcmp(value, "hidden") == 0)
            continue;
        if (!attribute(tag, len, "id", value, sizeof(value)))
            fail_msg("%.*s has no id", (int)len, tag);
        char label[160];
        snprintf(label, sizeof(label), "<label for=\"%s\">", value);
        assert_has(page, label);
    }
}

/* What every page must be: see pages.h. */
static void assert_page(const char *page, rk_lang_t lang)
{
    if (strlen(page) >= PAGE_MAX)
        fail_msg("page of %zu bytes", strlen(page));
    assert_true(strncmp(page, "<!doctype html>\n", 16) == 0);
    assert_has(page, lang == RK_LANG_EN ? "<html lang=\"en\">" : "<html lang=\"ja\">");
    assert_has(page, "<meta charset=\"utf-8\">");
    assert_has(page, "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    assert_has(page, "<title>");
    assert_int_equal(count(page, "<title>"), 1);
    assert_int_equal(count(page, "<main>"), 1);
    assert_int_equal(count(page, "<h1>"), 1);
    assert_false(contains_ci(page, "<script"));
    assert_false(contains_ci(page, "javascript:"));
    assert_false(has_event_handler(page));
    /* Exactly one <style>, holding exactly the stylesheet the CSP hashes. */
    assert_int_equal(count(page, "<style"), 1);
    const char *style = strstr(page, "<style>");
    assert_non_null(style);
    style += strlen("<style>");
    const char *end = strstr(style, "</style>");
    assert_non_null(end);
    assert_int_equal((size_t)(end - style), strlen(rk_identity_pages_css));
    assert_memory_equal(style, rk_identity_pages_css, strlen(rk_identity_pages_css));
    assert_labelled(page, "<input");
    assert_labelled(page, "<textarea");
    /* Every aria-describedby names an element of the page, in a role="alert" box. */
    for (const char *a = strstr(page, "aria-describedby=\""); a;
         a = strstr(a + 1, "aria-describedby=\"")) {
        char id[64], target[96];
        const char *v = a + strlen("aria-describedby=\"");
        size_t n = strcspn(v, "\"");
        assert_true(n < sizeof(id));
        memcpy(id, v, n);
        id[n] = '\0';
        snprintf(target, sizeof(target), "role=\"alert\" id=\"%s\"", id);
        assert_has(page, target);
    }
}

static rk_identity_login_page_t login_page(rk_lang_t lang)
{
    rk_identity_login_page_t page = {
        .lang = lang,
        .realm_name = lang == RK_LANG_EN ? "Chofu City" : "調布市",
        .client_name = "調布市 施設予約",
        .action = "/t/chofu/login",
        .tx = long_tx,
        .csrf = "Qk7fH2mZr9Jx0aLwT3vYb8NcE5gU1sKpD6iOqR4tVyA",
        .notice = RK_LOGIN_OK,
        .password_allowed = 1,
        .lang_url_ja = "/t/chofu/authorize?tx=abc&ui_locales=ja",
        .lang_url_en = "/t/chofu/authorize?tx=abc&ui_locales=en",
    };
    return page;
}

static void with_certificate(rk_identity_login_page_t *page)
{
    page->cert_action = "/t/chofu/login/certificate";
    page->cert_challenge = challenge;
}

static void html_escape(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    assert_string_equal(rk_html_escape(arena, HOSTILE), HOSTILE_ESCAPED);
    assert_string_equal(rk_html_escape(arena, "調布市 a-b_c"), "調布市 a-b_c");
    assert_string_equal(rk_html_escape(arena, "&&"), "&amp;&amp;");
    assert_string_equal(rk_html_escape(arena, ""), "");
    assert_string_equal(rk_html_escape(arena, NULL), "");
    rk_arena_free(arena);
}

static void login_form(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    rk_identity_login_page_t in = login_page(RK_LANG_JA);
    char *page = rk_identity_page_login(arena, &in);
    assert_page(page, RK_LANG_JA);
    assert_has(page, "<title>ログイン - 調布市 施設予約</title>");
    assert_has(page, "<h1>ログイン</h1>");
    assert_has(page, "<p>「調布市 施設予約」を利用するには、ログインしてください。</p>");
    assert_has(page, "<form method=\"post\" action=\"/t/chofu/login\">");
    assert_has(page, "<input id=\"username\" name=\"username\" type=\"text\" "
                     "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" "
                     "required>");
    assert_has(page, "<input id=\"password\" name=\"password\" type=\"password\" "
                     "autocomplete=\"current-password\" required>");
    assert_has(page, "<label for=\"username\">ユーザー名</label>");
    assert_has(page, "<label for=\"password\">パスワード</label>");
    char hidden[1024];
    snprintf(hidden, sizeof(hidden), "<input type=\"hidden\" name=\"tx\" value=\"%s\">", long_tx);
    assert_has(page, hidden);
    assert_has(page, "<input type=\"hidden\" name=\"csrf\" "
                     "value=\"Qk7fH2mZr9Jx0aLwT3vYb8NcE5gU1sKpD6iOqR4tVyA\">");
    assert_has(page, "<button type=\"submit\">ログイン</button>");
    /* No notice, no certificate part, no section headings when there is one way in. */
    assert_lacks(page, "role=\"alert\"");
    assert_lacks(page, "aria-describedby");
    assert_lacks(page, "certificate_response");
    assert_lacks(page, "<h2>");
    /* The language switcher: the current language marked, the other linked. */
    assert_has(page, "<nav aria-label=\"表示言語\"><ul>"
                     "<li><a href=\"/t/chofu/authorize?tx=abc&amp;ui_locales=ja\" hreflang=\"ja\" "
                     "lang=\"ja\" aria-current=\"true\">日本語</a></li>"
                     "<li><a href=\"/t/chofu/authorize?tx=abc&amp;ui_locales=en\" hreflang=\"en\" "
                     "lang=\"en\">English</a></li></ul></nav>");
    assert_has(page, "<header><p>調布市</p>");

    in = login_page(RK_LANG_EN);
    in.username = "taro.chofu";
    in.notice = RK_LOGIN_BAD_CREDENTIALS;
    page = rk_identity_page_login(arena, &in);
    assert_page(page, RK_LANG_EN);
    assert_has(page, "<h1>Log in</h1>");
    assert_has(page, "<label for=\"username\">Username</label>");
    assert_has(page, "<label for=\"password\">Password</label>");
    assert_has(page, "spellcheck=\"false\" required value=\"taro.chofu\" aria-invalid=\"true\" "
                     "aria-describedby=\"notice\">");
    assert_has(page, "autocomplete=\"current-password\" required aria-invalid=\"true\" "
                     "aria-describedby=\"notice\">");
    assert_has(page, "<p class=\"alert\" role=\"alert\" id=\"notice\">The username or password "
                     "is not correct.</p>");
    assert_has(page, "lang=\"en\" aria-current=\"true\">English</a>");
    /* Without language links there is no switcher. */
    in.lang_url_ja = in.lang_url_en = NULL;
    page = rk_identity_page_login(arena, &in);
    assert_page(page, RK_LANG_EN);
    assert_lacks(page, "<nav");
    /* With only the other language's link, the current one is text, still marked. */
    in.lang_url_ja = "/t/chofu/authorize?ui_locales=ja";
    page = rk_identity_page_login(arena, &in);
    assert_has(page, "<li><span lang=\"en\" aria-current=\"true\">English</span></li>");
    assert_has(page, "hreflang=\"ja\" lang=\"ja\">日本語</a>");
    rk_arena_free(arena);
}

static void certificate_login(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    for (int lang = RK_LANG_JA; lang <= RK_LANG_EN; lang++) {
        rk_identity_login_page_t in = login_page((rk_lang_t)lang);
        with_certificate(&in);
        char *page = rk_identity_page_login(arena, &in);
        assert_page(page, (rk_lang_t)lang);
        assert_int_equal(count(page, "<h2>"), 2);
        assert_int_equal(count(page, "<form method=\"post\""), 2);
        assert_has(page, "<form method=\"post\" action=\"/t/chofu/login/certificate\">");
        assert_has(page, "<textarea id=\"certificate_response\" name=\"certificate_response\" "
                         "rows=\"6\" autocomplete=\"off\" autocapitalize=\"none\" "
                         "spellcheck=\"false\" required></textarea>");
        assert_has(page, "<label for=\"certificate_response\">");
        assert_has(page, "<input type=\"hidden\" name=\"challenge\" "
                         "value=\"rk1.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH\">");
        assert_has(page, "<pre><code>renkeictl cert-login-sign --key KEY --cert CERT "
                         "--challenge &#39;rk1.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH&#39;"
                         "</code></pre>");
        assert_has(page, "<input id=\"challenge-copy\" type=\"text\" readonly");
        assert_has(page, "value=\"rk1.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH\"></li>");
        assert_int_equal(count(page, "name=\"tx\""), 2);
        assert_int_equal(count(page, "name=\"csrf\""), 2);
        assert_has(page, lang == RK_LANG_JA
                             ? "マイナンバーカードの利用者証明用電子証明書と同じ仕組みです"
                             : "My Number Card");
    }
    /* A quote in the challenge cannot end the shell word: ' becomes '\''. */
    rk_identity_login_page_t in = login_page(RK_LANG_JA);
    with_certificate(&in);
    in.cert_challenge = "a'; rm -rf ~; echo '";
    char *page = rk_identity_page_login(arena, &in);
    assert_has(page, "--challenge &#39;a&#39;\\&#39;&#39;; rm -rf ~; echo &#39;\\&#39;&#39;&#39;"
                     "</code>");
    rk_arena_free(arena);
}

static void certificate_only(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    rk_identity_login_page_t in = login_page(RK_LANG_JA);
    with_certificate(&in);
    in.password_allowed = 0;
    char *page = rk_identity_page_login(arena, &in);
    assert_page(page, RK_LANG_JA);
    assert_lacks(page, "name=\"password\"");
    assert_lacks(page, "name=\"username\"");
    assert_lacks(page, "action=\"/t/chofu/login\"");
    assert_has(page,
               "<p class=\"note\">このサービスを利用するには、証明書でのログインが必要です。");
    assert_has(page, "name=\"certificate_response\"");
    /* As a notice, the step-up explanation is said once, as an alert tied to the textarea. */
    in.notice = RK_LOGIN_STEP_UP;
    page = rk_identity_page_login(arena, &in);
    assert_page(page, RK_LANG_JA);
    assert_int_equal(count(page, "証明書でのログインが必要です"), 1);
    assert_has(page, "role=\"alert\"");
    assert_has(page, "required aria-describedby=\"notice\"></textarea>");
    /* No password and no certificate login: say so, and where to go. */
    in.cert_action = NULL;
    in.lang = RK_LANG_EN;
    page = rk_identity_page_login(arena, &in);
    assert_page(page, RK_LANG_EN);
    assert_lacks(page, "<form");
    assert_has(page, "This service requires you to log in with your certificate.");
    assert_has(page, "Close this page and return to the service.");
    rk_arena_free(arena);
}

static const char *notice_text(rk_arena_t *arena, rk_lang_t lang, rk_login_notice_t notice,
                               int retry_after_s)
{
    rk_identity_login_page_t in = login_page(lang);
    with_certificate(&in);
    in.notice = notice;
    in.retry_after_s = retry_after_s;
    char *page = rk_identity_page_login(arena, &in);
    assert_page(page, lang);
    assert_int_equal(count(page, "role=\"alert\""), 1);
    const char *start = strstr(page, "role=\"alert\" id=\"notice\">");
    assert_non_null(start);
    start += strlen("role=\"alert\" id=\"notice\">");
    return rk_arena_strndup(arena, start, (size_t)(strstr(start, "</p>") - start));
}

static void notices(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    static const struct {
        rk_login_notice_t notice;
        int retry_after_s;
        const char *ja, *en;
    } cases[] = {
        {RK_LOGIN_BAD_CREDENTIALS, 0, "ユーザー名またはパスワードが違います。",
         "The username or password is not correct."},
        {RK_LOGIN_THROTTLED, 30, "ログインの試行回数が多すぎます。30秒後にもう一度お試しください。",
         "Too many login attempts. Please try again in 30 seconds."},
        {RK_LOGIN_THROTTLED, 1, "ログインの試行回数が多すぎます。1秒後にもう一度お試しください。",
         "Too many login attempts. Please try again in 1 second."},
        {RK_LOGIN_THROTTLED, 60, "ログインの試行回数が多すぎます。1分後にもう一度お試しください。",
         "Too many login attempts. Please try again in 1 minute."},
        {RK_LOGIN_THROTTLED, 61, "ログインの試行回数が多すぎます。2分後にもう一度お試しください。",
         "Too many login attempts. Please try again in 2 minutes."},
        {RK_LOGIN_THROTTLED, 2147483647,
         "ログインの試行回数が多すぎます。35791395分後にもう一度お試しください。",
         "Too many login attempts. Please try again in 35791395 minutes."},
        {RK_LOGIN_THROTTLED, 0,
         "ログインの試行回数が多すぎます。しばらくしてからもう一度お試しください。",
         "Too many login attempts. Please try again in a little while."},
        {RK_LOGIN_EXPIRED, 0,
         "ログイン画面の有効期限が切れました。お手数ですが、もう一度入力してください。",
         "This login page had expired. Please enter your details again."},
        {RK_LOGIN_CERT_FAILED, 0, "証明書を確認できませんでした。",
         "Your certificate could not be verified."},
        {RK_LOGIN_STEP_UP, 0, "このサービスを利用するには、証明書でのログインが必要です。",
         "This service requires you to log in with your certificate."},
        {RK_LOGIN_NOT_ADMITTED, 0,
         "お住まいの市区町村と調布市との間に、このサービスの利用に関する協定がないため、"
         "ご利用いただけません。",
         "Your home city has no agreement with Chofu City for this service, so you cannot use "
         "it."},
        {RK_LOGIN_UNAVAILABLE, 0,
         "現在、ログインできません。しばらくしてからもう一度お試しください。",
         "You cannot log in right now. Please try again shortly."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *ja = notice_text(arena, RK_LANG_JA, cases[i].notice, cases[i].retry_after_s);
        const char *en = notice_text(arena, RK_LANG_EN, cases[i].notice, cases[i].retry_after_s);
        if (strncmp(ja, cases[i].ja, strlen(cases[i].ja)) != 0)
            fail_msg("case %zu: got '%s'", i, ja);
        if (strncmp(en, cases[i].en, strlen(cases[i].en)) != 0)
            fail_msg("case %zu: got '%s'", i, en);
    }
    /* A certificate notice describes the textarea; the others, the password fields. */
    rk_identity_login_page_t in = login_page(RK_LANG_JA);
    with_certificate(&in);
    in.notice = RK_LOGIN_CERT_FAILED;
    char *page = rk_identity_page_login(arena, &in);
    assert_has(page, "required aria-invalid=\"true\" aria-describedby=\"notice\"></textarea>");
    assert_has(page, "autocomplete=\"current-password\" required>");
    in.notice = RK_LOGIN_THROTTLED;
    page = rk_identity_page_login(arena, &in);
    assert_has(page, "spellcheck=\"false\" required></textarea>");
    assert_has(page, "autocomplete=\"current-password\" required aria-describedby=\"notice\">");
    rk_arena_free(arena);
}

static void consent(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    const char *scopes[] = {"openid",         "profile",           "email",
                            "offline_access", "home_municipality", "library.read"};
    rk_identity_consent_page_t in = {
        .lang = RK_LANG_JA,
        .realm_name = "調布市",
        .client_name = "調布市 施設予約",
        .home_city = "三鷹市",
        .username = "taro.mitaka",
        .scopes = scopes,
        .n_scopes = sizeof(scopes) / sizeof(scopes[0]),
        .action = "/t/chofu/consent",
        .tx = long_tx,
        .csrf = "csrf-token",
        .lang_url_ja = "/t/chofu/consent?ui_locales=ja",
        .lang_url_en = "/t/chofu/consent?ui_locales=en",
    };
    char *page = rk_identity_page_consent(arena, &in);
    assert_page(page, RK_LANG_JA);
    assert_has(page, "<h1>「調布市 施設予約」に情報を提供しますか？</h1>");
    assert_has(page, "<p>ログイン中: <strong>taro.mitaka</strong></p>");
    assert_has(page, "このサービスは調布市が提供しています。あなたは三鷹市にお住まいの方として");
    assert_has(page, "<li>このサービスでのあなたの識別子</li>");
    assert_has(page, "<li>氏名とユーザー名</li>");
    assert_has(page, "<li>メールアドレス</li>");
    assert_has(page, "（リフレッシュトークン）</li>");
    assert_has(page, "<li>お住まいの市区町村と、その確認方法</li>");
    assert_has(page, "<li><code>library.read</code></li>");
    assert_int_equal(count(page, "<form "), 1);
    assert_has(page, "<form method=\"post\" action=\"/t/chofu/consent\">");
    assert_has(page, "<input type=\"hidden\" name=\"csrf\" value=\"csrf-token\">");
    assert_has(page, "<input type=\"hidden\" name=\"tx\" value=\"");
    assert_has(page,
               "<button type=\"submit\" name=\"decision\" value=\"approve\">許可する</button>");
    assert_has(page, "<button type=\"submit\" class=\"secondary\" name=\"decision\" "
                     "value=\"deny\">許可しない</button>");
    /* Approve comes first: Enter in the form approves, as the primary button says. */
    assert_true(strstr(page, "value=\"approve\"") < strstr(page, "value=\"deny\""));

    in.lang = RK_LANG_EN;
    in.home_city = NULL;
    page = rk_identity_page_consent(arena, &in);
    assert_page(page, RK_LANG_EN);
    assert_has(page, "<h1>Share your information with “調布市 施設予約”?</h1>");
    assert_has(page, "<p>Logged in as: <strong>taro.mitaka</strong></p>");
    assert_lacks(page, "resident of");
    assert_has(page, "<li>Your identifier for this service</li>");
    assert_has(page, "<li>Your name and username</li>");
    assert_has(page, "<li>Your email address</li>");
    assert_has(page, "<li>Staying connected while you are not using the service (refresh "
                     "tokens)</li>");
    assert_has(page, "<li>Which city you live in, and how that was confirmed</li>");
    assert_has(page, "value=\"approve\">Allow</button>");
    assert_has(page, "value=\"deny\">Deny</button>");
    in.home_city = "Mitaka City";
    in.realm_name = "Chofu City";
    page = rk_identity_page_consent(arena, &in);
    assert_has(page, "<p>This service is run by Chofu City. You use it as a resident of Mitaka "
                     "City.</p>");
    rk_arena_free(arena);
}

static void error_and_logout(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    char *page = rk_identity_page_error(arena, RK_LANG_JA, "サービスを確認できません",
                                        "Unknown service", "client_id: no such client");
    assert_page(page, RK_LANG_JA);
    assert_has(page, "<title>サービスを確認できません</title>");
    assert_has(page, "<h1>サービスを確認できません</h1>");
    assert_has(page, "<p>このページを閉じて、ご利用のサービスに戻ってください。</p>");
    assert_has(page, "<p class=\"detail\">詳細: <span lang=\"en\">client_id: no such "
                     "client</span></p>");
    assert_lacks(page, "<form");
    page = rk_identity_page_error(arena, RK_LANG_EN, "サービスを確認できません", "Unknown service",
                                  NULL);
    assert_page(page, RK_LANG_EN);
    assert_has(page, "<h1>Unknown service</h1>");
    assert_has(page, "<p>Close this page and return to the service.</p>");
    assert_lacks(page, "class=\"detail\"");
    /* A missing title falls back to the other language, then to a generic one. */
    page = rk_identity_page_error(arena, RK_LANG_EN, "サービスを確認できません", NULL, NULL);
    assert_has(page, "<h1>サービスを確認できません</h1>");
    page = rk_identity_page_error(arena, RK_LANG_JA, NULL, NULL, "詳細");
    assert_page(page, RK_LANG_JA);
    assert_has(page, "<title>エラーが発生しました</title>");
    assert_has(page, "<h1>エラーが発生しました</h1>");
    assert_has(page, "<span>詳細</span>");

    page = rk_identity_page_logout_confirm(arena, RK_LANG_JA, "/t/chofu/logout", "c1", "tx1");
    assert_page(page, RK_LANG_JA);
    assert_has(page, "<h1>すべての市区町村のサービスからログアウトしますか？</h1>");
    assert_has(page, "<form method=\"post\" action=\"/t/chofu/logout\">");
    assert_has(page, "<input type=\"hidden\" name=\"csrf\" value=\"c1\">");
    assert_has(page, "<input type=\"hidden\" name=\"tx\" value=\"tx1\">");
    assert_has(page, "name=\"decision\" value=\"logout\">ログアウトする</button>");
    assert_has(page, "name=\"decision\" value=\"cancel\">キャンセル</button>");
    page = rk_identity_page_logout_confirm(arena, RK_LANG_EN, "/t/chofu/logout", "c1", NULL);
    assert_page(page, RK_LANG_EN);
    assert_has(page, "<h1>Log out of every city's services?</h1>");
    assert_lacks(page, "name=\"tx\"");
    assert_has(page, "value=\"logout\">Log out</button>");
    assert_has(page, "value=\"cancel\">Cancel</button>");

    page = rk_identity_page_logged_out(arena, RK_LANG_JA);
    assert_page(page, RK_LANG_JA);
    assert_has(page, "<h1>ログアウトしました</h1>");
    page = rk_identity_page_logged_out(arena, RK_LANG_EN);
    assert_page(page, RK_LANG_EN);
    assert_has(page, "<h1>You are logged out</h1>");
    /* A value outside the enum is Japanese, as rk_lang_tag() says. */
    page = rk_identity_page_logged_out(arena, (rk_lang_t)7);
    assert_page(page, RK_LANG_JA);
    rk_arena_free(arena);
}

/* Asserts the hostile text appears only escaped, at least once. */
static void assert_escaped(const char *page)
{
    assert_lacks(page, HOSTILE);
    assert_lacks(page, "<script");
    assert_lacks(page, "\"'&");
    assert_has(page, HOSTILE_ESCAPED);
}

static void escapes_every_input(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    const char *fields[] = {"realm_name", "client_name", "tx",          "csrf",
                            "username",   "challenge",   "NOT_ADMITTED"};
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        for (int lang = RK_LANG_JA; lang <= RK_LANG_EN; lang++) {
            rk_identity_login_page_t in = login_page((rk_lang_t)lang);
            with_certificate(&in);
            if (strcmp(fields[f], "realm_name") == 0)
                in.realm_name = HOSTILE;
            else if (strcmp(fields[f], "client_name") == 0)
                in.client_name = HOSTILE;
            else if (strcmp(fields[f], "tx") == 0)
                in.tx = HOSTILE;
            else if (strcmp(fields[f], "csrf") == 0)
                in.csrf = HOSTILE;
            else if (strcmp(fields[f], "username") == 0)
                in.username = HOSTILE;
            else if (strcmp(fields[f], "challenge") == 0)
                in.cert_challenge = HOSTILE;
            else {
                in.realm_name = HOSTILE;
                in.notice = RK_LOGIN_NOT_ADMITTED;
            }
            char *page = rk_identity_page_login(arena, &in);
            assert_page(page, (rk_lang_t)lang);
            assert_escaped(page);
        }
    }
    const char *scopes[] = {"openid", HOSTILE};
    const char *consent_fields[] = {"realm_name", "client_name", "home_city", "username",
                                    "scope",      "tx",          "csrf"};
    for (size_t f = 0; f < sizeof(consent_fields) / sizeof(consent_fields[0]); f++) {
        rk_identity_consent_page_t in = {
            .lang = RK_LANG_JA,
            .realm_name = "調布市",
            .client_name = "施設予約",
            .home_city = "三鷹市",
            .username = "taro",
            .scopes = scopes,
            .n_scopes = 1,
            .action = "/t/chofu/consent",
            .tx = "tx",
            .csrf = "csrf",
        };
        const char **field[] = {&in.realm_name, &in.client_name, &in.home_city, &in.username,
                                NULL,           &in.tx,          &in.csrf};
        if (field[f])
            *field[f] = HOSTILE;
        else
            in.n_scopes = 2;
        char *page = rk_identity_page_consent(arena, &in);
        assert_page(page, RK_LANG_JA);
        assert_escaped(page);
    }
    char *page = rk_identity_page_error(arena, RK_LANG_JA, HOSTILE, "x", "detail");
    assert_page(page, RK_LANG_JA);
    assert_escaped(page);
    page = rk_identity_page_error(arena, RK_LANG_EN, "x", HOSTILE, "detail");
    assert_escaped(page);
    page = rk_identity_page_error(arena, RK_LANG_JA, "x", "x", HOSTILE);
    assert_escaped(page);
    page = rk_identity_page_logout_confirm(arena, RK_LANG_JA, "/logout", HOSTILE, "tx");
    assert_page(page, RK_LANG_JA);
    assert_escaped(page);
    page = rk_identity_page_logout_confirm(arena, RK_LANG_JA, "/logout", "csrf", HOSTILE);
    assert_escaped(page);
    rk_arena_free(arena);
}

static void unsafe_urls(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    const char *bad[] = {HOSTILE,
                         "javascript:alert(1)",
                         "JaVaScRiPt:alert(1)",
                         "data:text/html,x",
                         "//evil.example/",
                         "/\\evil.example/",
                         "/\t/evil.example/",
                         "/ok path",
                         "",
                         "vbscript:x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rk_identity_login_page_t in = login_page(RK_LANG_JA);
        with_certificate(&in);
        in.action = in.cert_action = bad[i];
        in.lang_url_en = bad[i];
        char *page = rk_identity_page_login(arena, &in);
        assert_page(page, RK_LANG_JA);
        assert_int_equal(count(page, "action=\"about:blank\""), 2);
        assert_lacks(page, "hreflang=\"en\"");
        assert_has(page, "hreflang=\"ja\"");
        char *logout = rk_identity_page_logout_confirm(arena, RK_LANG_EN, bad[i], "c", NULL);
        assert_has(logout, "action=\"about:blank\"");
    }
    /* Paths, queries and http(s) URLs pass, escaped. */
    const char *good[] = {"/t/chofu/login", "?ui_locales=en", "https://hub.example/t/chofu/login",
                          "HTTP://localhost:8080/t/x/login", "/"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *page = rk_identity_page_logout_confirm(arena, RK_LANG_EN, good[i], "c", NULL);
        char expected[128];
        snprintf(expected, sizeof(expected), "action=\"%s\"", good[i]);
        assert_has(page, expected);
    }
    char *page =
        rk_identity_page_logout_confirm(arena, RK_LANG_EN, "/logout?a=\"><b/x='y'>&c", "c", NULL);
    assert_has(page, "action=\"/logout?a=&quot;&gt;&lt;b/x=&#39;y&#39;&gt;&amp;c\"");
    rk_arena_free(arena);
}

static void page_sizes(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    size_t largest = 0;
    for (int lang = RK_LANG_JA; lang <= RK_LANG_EN; lang++) {
        for (int notice = RK_LOGIN_OK; notice <= RK_LOGIN_UNAVAILABLE; notice++) {
            rk_identity_login_page_t in = login_page((rk_lang_t)lang);
            with_certificate(&in);
            in.username = "a.resident.with.a.long.username@example.jp";
            in.notice = (rk_login_notice_t)notice;
            in.retry_after_s = 900;
            char *page = rk_identity_page_login(arena, &in);
            assert_page(page, (rk_lang_t)lang);
            if (strlen(page) > largest)
                largest = strlen(page);
        }
    }
    const char *scopes[] = {"openid",          "profile",           "email",
                            "offline_access",  "home_municipality", "library.read",
                            "facility.reserve"};
    rk_identity_consent_page_t in = {
        .lang = RK_LANG_EN,
        .realm_name = "調布市",
        .client_name = "調布市 施設予約",
        .home_city = "三鷹市",
        .username = "a.resident.with.a.long.username@example.jp",
        .scopes = scopes,
        .n_scopes = sizeof(scopes) / sizeof(scopes[0]),
        .action = "/t/chofu/consent",
        .tx = long_tx,
        .csrf = "Qk7fH2mZr9Jx0aLwT3vYb8NcE5gU1sKpD6iOqR4tVyA",
        .lang_url_ja = "/t/chofu/consent?ui_locales=ja",
        .lang_url_en = "/t/chofu/consent?ui_locales=en",
    };
    assert_page(rk_identity_page_consent(arena, &in), RK_LANG_EN);
    in.lang = RK_LANG_JA;
    assert_page(rk_identity_page_consent(arena, &in), RK_LANG_JA);
    print_message("largest login page: %zu bytes (tx of %zu)\n", largest, strlen(long_tx));
    rk_arena_free(arena);
}

static void csp(void **state)
{
    (void)state;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)rk_identity_pages_css, strlen(rk_identity_pages_css), digest);
    unsigned char hash[64];
    EVP_EncodeBlock(hash, digest, SHA256_DIGEST_LENGTH);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; "
             "frame-ancestors 'none'; base-uri 'none'",
             (const char *)hash);
    assert_string_equal(rk_identity_pages_csp(), expected);
    assert_ptr_equal(rk_identity_pages_csp(), rk_identity_pages_csp());
    assert_null(strstr(rk_identity_pages_csp(), "form-action"));
    assert_null(strstr(rk_identity_pages_csp(), "script-src"));
    /* The stylesheet cannot end its <style> element early. */
    assert_null(strchr(rk_identity_pages_css, '<'));
    /* Focus is visible. */
    assert_non_null(strstr(rk_identity_pages_css, ":focus{outline:3px solid"));
}

static void lang_pick(void **state)
{
    (void)state;
    assert_string_equal(rk_lang_tag(RK_LANG_JA), "ja");
    assert_string_equal(rk_lang_tag(RK_LANG_EN), "en");
    assert_int_equal(rk_lang_pick(NULL, NULL, NULL), RK_LANG_JA);
    assert_int_equal(rk_lang_pick("", "", ""), RK_LANG_JA);
    /* ui_locales beats the cookie, which beats Accept-Language. */
    assert_int_equal(rk_lang_pick("en", "ja", "ja"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick("ja", "en", "en"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, "en", "ja"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, "ja", "en"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en"), RK_LANG_EN);
    /* ui_locales: the first supported tag wins; unknown tags are skipped. */
    assert_int_equal(rk_lang_pick("fr-CA de en-US ja", NULL, "ja"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick("  ko  ja-JP en", NULL, "en"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick("EN-gb", NULL, NULL), RK_LANG_EN);
    assert_int_equal(rk_lang_pick("fr de", "en", NULL), RK_LANG_EN);
    assert_int_equal(rk_lang_pick("eng jav ja_JP e j en-<b> *", NULL, "en"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick("eng jav", NULL, NULL), RK_LANG_JA);
    /* The cookie: exactly ja or en. */
    assert_int_equal(rk_lang_pick(NULL, "EN", NULL), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, "en-US", "ja"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, "fr", "en"), RK_LANG_EN);
    /* Accept-Language: q-values, ties to the first, q=0 excludes, "*", malformed elements. */
    assert_int_equal(rk_lang_pick(NULL, NULL, "en-US,en;q=0.9,ja;q=0.8"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=0.5, ja-JP;q=0.7"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "fr, en;q=0.1"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=0.8, ja;q=0.8"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "ja;q=0.8, en;q=0.8"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=0"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "ja;q=0, en;q=0.001"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "ja;q=0.000, fr, en;q=0.1"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "ja ; q=0 , en ; Q=0.3"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en-US;q=0, en;q=0.5"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "ja;q=0, *;q=0.5"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=0.5, *"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "fr, de"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=2, ja;q=0.1"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=0.5000, ja;q=0.1"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=abc, ja;q=0.1"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=, ja;q=0.1"), RK_LANG_JA);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;x=1;q=1.000, ja;q=0.9"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, ",,; ,en"), RK_LANG_EN);
    assert_int_equal(rk_lang_pick(NULL, NULL, "en;q=0.5junk"), RK_LANG_JA);
}

static void lang_pick_bounds(void **state)
{
    (void)state;
    char long_input[4 * RK_LANG_INPUT_MAX];
    /* A preference past the first RK_LANG_INPUT_MAX bytes is not read. */
    memset(long_input, ' ', sizeof(long_input));
    memcpy(long_input + sizeof(long_input) - 3, "en", 3);
    assert_int_equal(rk_lang_pick(long_input, NULL, NULL), RK_LANG_JA);
    memset(long_input, ',', sizeof(long_input));
    memcpy(long_input + sizeof(long_input) - 3, "en", 3);
    assert_int_equal(rk_lang_pick(NULL, NULL, long_input), RK_LANG_JA);
    /* Within the bound it is read, up to the last byte. */
    memset(long_input, ' ', RK_LANG_INPUT_MAX);
    memcpy(long_input + RK_LANG_INPUT_MAX - 2, "en", 3);
    assert_int_equal(rk_lang_pick(long_input, NULL, NULL), RK_LANG_EN);
    memset(long_input, ',', RK_LANG_INPUT_MAX);
    memcpy(long_input + RK_LANG_INPUT_MAX - 2, "en", 3);
    assert_int_equal(rk_lang_pick(NULL, NULL, long_input), RK_LANG_EN);
    /* A tag cut by the bound is not read as what it starts with: "jav" is not "ja"... */
    memset(long_input, ' ', sizeof(long_input));
    memcpy(long_input + RK_LANG_INPUT_MAX - 2, "jav ja", 7);
    assert_int_equal(rk_lang_pick(long_input, "en", NULL), RK_LANG_EN);
    memset(long_input, ' ', sizeof(long_input));
    memcpy(long_input + RK_LANG_INPUT_MAX - 2, "enx", 4);
    assert_int_equal(rk_lang_pick(long_input, NULL, "ja"), RK_LANG_JA);
    /* ...and an element cut inside its q-value is dropped, not read as q=1. */
    memset(long_input, ',', sizeof(long_input));
    const char *elements = "ja;q=0.4,en;q=0.5";
    size_t n = strlen(elements);
    memcpy(long_input + RK_LANG_INPUT_MAX - n, elements, n);
    memcpy(long_input + RK_LANG_INPUT_MAX, "1", 2);
    assert_int_equal(rk_lang_pick(NULL, NULL, long_input), RK_LANG_JA);
    /* A tag that ends exactly at the bound, followed by a separator, is whole. */
    memset(long_input, ' ', sizeof(long_input));
    memcpy(long_input + RK_LANG_INPUT_MAX - 2, "en ja", 6);
    assert_int_equal(rk_lang_pick(long_input, NULL, NULL), RK_LANG_EN);
    /* One huge token: nothing complete within the bound. */
    memset(long_input, 'e', sizeof(long_input));
    long_input[sizeof(long_input) - 1] = '\0';
    assert_int_equal(rk_lang_pick(long_input, long_input, long_input), RK_LANG_JA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_escape),
        cmocka_unit_test(login_form),
        cmocka_unit_test(certificate_login),
        cmocka_unit_test(certificate_only),
        cmocka_unit_test(notices),
        cmocka_unit_test(consent),
        cmocka_unit_test(error_and_logout),
        cmocka_unit_test(escapes_every_input),
        cmocka_unit_test(unsafe_urls),
        cmocka_unit_test(page_sizes),
        cmocka_unit_test(csp),
        cmocka_unit_test(lang_pick),
        cmocka_unit_test(lang_pick_bounds),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
