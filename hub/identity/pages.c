/*
 * pages.c — the OpenID provider's browser pages (see pages.h).
 *
 * A page is written into a growing heap buffer (page_t) and copied into the caller's arena
 * at the end, so the arena holds exactly one copy. Every untrusted string goes through
 * put_escaped(); text with untrusted parts is a localized template whose "{}" markers
 * put_fill() replaces with escaped arguments. page_open() and page_close() write what every
 * page shares: the document head with the inline stylesheet, the header with the city and
 * the language switcher, and <main>.
 *
 * Colours, with their WCAG contrast ratios: text #1a1a1a on #fff 17.4:1, on the page
 * background #f3f4f6 15.8:1, on the notice backgrounds #fdeceb and #e8f0fe 15.2:1; links and
 * secondary buttons #0b57d0 on #fff 6.4:1; primary buttons #fff on #0b57d0 6.4:1; secondary
 * text #4b5059 on #fff 8.1:1; input borders #5f6368 on #fff 6.1:1 (1.4.11 asks 3:1). The
 * focus outline is #1a1a1a, 3 px, 2 px away from the element, so it is drawn on white.
 */
#include "identity/pages.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEXT(lang, ja, en) ((lang) == RK_LANG_EN ? (en) : (ja))
#define PAGE_INITIAL_SIZE 8192
#define BLANK_URL "about:blank"

const char rk_identity_pages_css[] =
    "*{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{margin:0;color:#1a1a1a;background:#f3f4f6;font:1rem/1.7 system-ui,-apple-system,"
    "\"Hiragino Sans\",\"Noto Sans JP\",Meiryo,sans-serif}"
    "header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;"
    "gap:.5rem 1rem;padding:.5rem 1rem;background:#fff;border-bottom:1px solid #5f6368}"
    "header p{margin:0;font-weight:700}"
    "nav ul{display:flex;gap:.5rem;margin:0;padding:0;list-style:none}"
    "nav a,nav span{display:inline-block;padding:.25rem .5rem}"
    "main{max-width:36rem;margin:1.5rem auto;padding:1.5rem 1.25rem;background:#fff;"
    "border-radius:.5rem}"
    "@media (max-width:38rem){main{margin:0;border-radius:0}}"
    "h1{margin:0 0 1rem;font-size:1.5rem;line-height:1.4}"
    "h2{margin:2rem 0 .5rem;padding-top:1.5rem;border-top:1px solid #5f6368;font-size:1.2rem;"
    "line-height:1.4}"
    "a{color:#0b57d0}"
    "[aria-current]{color:#1a1a1a;font-weight:700;text-decoration:none}"
    "label{display:block;margin:1rem 0 .25rem;font-weight:700}"
    "input,textarea{display:block;width:100%;padding:.5rem .75rem;font:inherit;color:#1a1a1a;"
    "background:#fff;border:2px solid #5f6368;border-radius:.25rem}"
    "code,pre,textarea,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem}"
    "pre{margin:.5rem 0;padding:.75rem;white-space:pre-wrap;overflow-wrap:anywhere;"
    "background:#f3f4f6;border:1px solid #5f6368;border-radius:.25rem}"
    "button{min-height:2.75rem;margin:1.25rem .75rem 0 0;padding:.5rem 1.5rem;font:inherit;"
    "font-weight:700;color:#fff;background:#0b57d0;border:2px solid #0b57d0;border-radius:.25rem;"
    "cursor:pointer}"
    ".secondary{color:#0b57d0;background:#fff}"
    ":focus{outline:3px solid #1a1a1a;outline-offset:2px}"
    ".alert,.note{margin:0 0 1rem;padding:.75rem 1rem;border-left:.5rem solid #b3261e;"
    "background:#fdeceb}"
    ".note{border-color:#0b57d0;background:#e8f0fe}"
    "ol,ul{padding-left:1.5rem}"
    ".detail{color:#4b5059;overflow-wrap:anywhere}";

/* --- the Content-Security-Policy ------------------------------------------------------------ */

static pthread_once_t csp_once = PTHREAD_ONCE_INIT;
static char csp[256];

static void csp_build(void)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)rk_identity_pages_css, strlen(rk_identity_pages_css), digest);
    unsigned char hash[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
    EVP_EncodeBlock(hash, digest, SHA256_DIGEST_LENGTH);
    snprintf(csp, sizeof(csp),
             "default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; "
             "frame-ancestors 'none'; base-uri 'none'",
             (const char *)hash);
}

const char *rk_identity_pages_csp(void)
{
    pthread_once(&csp_once, csp_build);
    return csp;
}

/* --- writing ---------------------------------------------------------------------------------- */

typedef struct page {
    char *buf;
    size_t len, cap;
} page_t;

static void put_n(page_t *p, const char *s, size_t n)
{
    if (p->cap - p->len <= n) {
        while (p->cap - p->len <= n)
            p->cap *= 2;
        p->buf = rk_xrealloc(p->buf, p->cap);
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void put(page_t *p, const char *s)
{
    put_n(p, s, strlen(s));
}

static const char *escape_of(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

#define ESCAPED_CHARS "&<>\"'"

/* s (NULL writes nothing) with ESCAPED_CHARS as character references. */
static void put_escaped_n(page_t *p, const char *s, size_t len)
{
    if (!s)
        return;
    const char *end = s + len;
    while (s < end) {
        size_t plain = 0;
        while (s + plain < end && !strchr(ESCAPED_CHARS, s[plain]))
            plain++;
        put_n(p, s, plain);
        s += plain;
        if (s < end)
            put(p, escape_of(*s++));
    }
}

static void put_escaped(page_t *p, const char *s)
{
    if (s)
        put_escaped_n(p, s, strlen(s));
}

/*
 * Writes text (trusted, localized), replacing its first "{}" with a and its second with b,
 * both escaped.
 */
static void put_fill(page_t *p, const char *text, const char *a, const char *b)
{
    const char *args[2] = {a, b};
    for (int i = 0;; i++) {
        const char *marker = strstr(text, "{}");
        if (!marker || i == 2) {
            put(p, text);
            return;
        }
        put_n(p, text, (size_t)(marker - text));
        put_escaped(p, args[i]);
        text = marker + 2;
    }
}

/* Copies the page into the arena and frees the buffer. */
static char *page_finish(rk_arena_t *arena, page_t *p)
{
    char *out = rk_arena_strndup(arena, p->buf, p->len);
    free(p->buf);
    return out;
}

char *rk_html_escape(rk_arena_t *arena, const char *s)
{
    if (!s)
        return rk_arena_strdup(arena, "");
    size_t len = strlen(s), out_len = len;
    for (const char *c = s; *c; c++) {
        const char *e = escape_of(*c);
        if (e)
            out_len += strlen(e) - 1;
    }
    char *out = rk_arena_alloc(arena, out_len + 1), *d = out;
    for (const char *c = s; *c; c++) {
        const char *e = escape_of(*c);
        if (e) {
            size_t n = strlen(e);
            memcpy(d, e, n);
            d += n;
        } else {
            *d++ = *c;
        }
    }
    *d = '\0';
    return out;
}

/*
 * 1 if url may be written into href or action: a path (not "//host"), a query, or an http(s)
 * URL, with no whitespace, control character or backslash (browsers drop tabs and newlines
 * from URLs and read '\' as '/', which could turn "/\t/host" into "//host").
 */
static int url_ok(const char *url)
{
    if (!url)
        return 0;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++) {
        if (*c <= 0x20 || *c == 0x7f || *c == '\\')
            return 0;
    }
    return (url[0] == '/' && url[1] != '/') || url[0] == '?' ||
           strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0;
}

static void put_form_open(page_t *p, const char *action)
{
    put(p, "<form method=\"post\" action=\"");
    put_escaped(p, url_ok(action) ? action : BLANK_URL);
    put(p, "\">\n");
}

static void put_hidden(page_t *p, const char *name, const char *value)
{
    put(p, "<input type=\"hidden\" name=\"");
    put(p, name);
    put(p, "\" value=\"");
    put_escaped(p, value);
    put(p, "\">\n");
}

/* One submit button of a two-button decision form; the primary one comes first (Enter). */
static void put_decision(page_t *p, const char *value, const char *label, int primary)
{
    put(p, primary ? "<button type=\"submit\" name=\"decision\" value=\""
                   : "<button type=\"submit\" class=\"secondary\" name=\"decision\" value=\"");
    put(p, value);
    put(p, "\">");
    put(p, label);
    put(p, "</button>\n");
}

/* --- what every page shares ------------------------------------------------------------------- */

typedef struct page_frame {
    rk_lang_t lang;
    const char *title;      /* trusted text; "" when title_arg is the whole title */
    const char *title_arg;  /* untrusted, escaped after the title: "title - arg"; or NULL */
    const char *realm_name; /* untrusted, shown in the header, or NULL */
    const char *url_ja, *url_en;
} page_frame_t;

static void put_language(page_t *p, const page_frame_t *f, rk_lang_t lang, const char *url,
                         const char *name)
{
    int current = f->lang == lang;
    if (!url_ok(url) && !current)
        return;
    put(p, "<li>");
    if (url_ok(url)) {
        put(p, "<a href=\"");
        put_escaped(p, url);
        put(p, "\" hreflang=\"");
        put(p, rk_lang_tag(lang));
        put(p, "\" ");
    } else {
        put(p, "<span ");
    }
    put(p, "lang=\"");
    put(p, rk_lang_tag(lang));
    put(p, current ? "\" aria-current=\"true\">" : "\">");
    put(p, name);
    put(p, url_ok(url) ? "</a></li>" : "</span></li>");
}

/* Writes everything up to the opening of <main>: head, stylesheet, header, language links. */
static void page_open(page_t *p, const page_frame_t *f)
{
    p->cap = PAGE_INITIAL_SIZE;
    p->len = 0;
    p->buf = rk_xmalloc(p->cap);
    p->buf[0] = '\0';
    put(p, "<!doctype html>\n<html lang=\"");
    put(p, rk_lang_tag(f->lang));
    put(p, "\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
           "<meta name=\"robots\" content=\"noindex\">\n"
           "<meta name=\"format-detection\" content=\"telephone=no\">\n<title>");
    put(p, f->title);
    if (f->title_arg) {
        if (*f->title)
            put(p, " - ");
        put_escaped(p, f->title_arg);
    }
    put(p, "</title>\n<style>");
    put(p, rk_identity_pages_css);
    put(p, "</style>\n</head>\n<body>\n");
    int links = url_ok(f->url_ja) || url_ok(f->url_en);
    if (f->realm_name || links) {
        put(p, "<header>");
        if (f->realm_name) {
            put(p, "<p>");
            put_escaped(p, f->realm_name);
            put(p, "</p>");
        }
        if (links) {
            put(p, "<nav aria-label=\"");
            put(p, TEXT(f->lang, "表示言語", "Language"));
            put(p, "\"><ul>");
            put_language(p, f, RK_LANG_JA, f->url_ja, "日本語");
            put_language(p, f, RK_LANG_EN, f->url_en, "English");
            put(p, "</ul></nav>");
        }
        put(p, "</header>\n");
    }
    put(p, "<main>\n");
}

static char *page_close(rk_arena_t *arena, page_t *p)
{
    put(p, "</main>\n</body>\n</html>\n");
    return page_finish(arena, p);
}

static rk_lang_t known_lang(rk_lang_t lang)
{
    return lang == RK_LANG_EN ? RK_LANG_EN : RK_LANG_JA;
}

/* --- login ------------------------------------------------------------------------------------ */

/* Writes the wait of a throttled login: "30秒後" / "in 30 seconds". */
static void put_wait(page_t *p, rk_lang_t lang, int seconds)
{
    if (seconds <= 0) {
        put(p, TEXT(lang, "しばらくしてから", "in a little while"));
        return;
    }
    int minutes = seconds / 60 + (seconds % 60 != 0);
    int n = seconds < 60 ? seconds : minutes;
    char number[16];
    snprintf(number, sizeof(number), "%d", n);
    if (lang == RK_LANG_EN)
        put_fill(p,
                 seconds < 60 ? (n == 1 ? "in {} second" : "in {} seconds")
                              : (n == 1 ? "in {} minute" : "in {} minutes"),
                 number, NULL);
    else
        put_fill(p, seconds < 60 ? "{}秒後に" : "{}分後に", number, NULL);
}

static void put_login_notice(page_t *p, const rk_identity_login_page_t *page, rk_lang_t lang)
{
    put(p, "<p class=\"alert\" role=\"alert\" id=\"notice\">");
    switch (page->notice) {
    case RK_LOGIN_BAD_CREDENTIALS:
        put(p, TEXT(lang, "ユーザー名またはパスワードが違います。",
                    "The username or password is not correct."));
        break;
    case RK_LOGIN_THROTTLED:
        put(p, TEXT(lang, "ログインの試行回数が多すぎます。",
                    "Too many login attempts. Please try again "));
        put_wait(p, lang, page->retry_after_s);
        put(p, TEXT(lang, "もう一度お試しください。", "."));
        break;
    case RK_LOGIN_EXPIRED:
        put(p, TEXT(lang,
                    "ログイン画面の有効期限が切れました。お手数ですが、もう一度入力してください。",
                    "This login page had expired. Please enter your details again."));
        break;
    case RK_LOGIN_CERT_FAILED:
        put(p, TEXT(lang,
                    "証明書を確認できませんでした。コマンドの出力をすべて貼り付けたか、"
                    "正しい秘密鍵と証明書を使ったかをご確認ください。",
                    "Your certificate could not be verified. Check that you pasted the whole "
                    "output of the command and used the right key and certificate."));
        break;
    case RK_LOGIN_PUPIL_ENDED:
        put(p, TEXT(lang,
                    "この児童・生徒IDは、中学校を卒業した年の3月31日で利用期間が終わりました。"
                    "引き続き利用するには、お住まいの市区町村の利用者登録をしてください。",
                    "This pupil ID ended on 31 March of the year its holder left lower secondary "
                    "school. To go on, register as a resident of your city."));
        break;
    case RK_LOGIN_STEP_UP:
        put(p, TEXT(lang, "このサービスを利用するには、証明書でのログインが必要です。",
                    "This service requires you to log in with your certificate."));
        break;
    case RK_LOGIN_NOT_ADMITTED:
        if (page->realm_name)
            put_fill(
                p,
                TEXT(lang,
                     "お住まいの市区町村と{}との間に、このサービスの利用に関する協定がないため、"
                     "ご利用いただけません。",
                     "Your home city has no agreement with {} for this service, so you "
                     "cannot use it."),
                page->realm_name, NULL);
        else
            put(p,
                TEXT(lang,
                     "お住まいの市区町村と、このサービスを提供する市区町村との間に協定がないため、"
                     "ご利用いただけません。",
                     "Your home city has no agreement with the city that runs this service, "
                     "so you cannot use it."));
        break;
    case RK_LOGIN_UNAVAILABLE:
    default:
        put(p, TEXT(lang, "現在、ログインできません。しばらくしてからもう一度お試しください。",
                    "You cannot log in right now. Please try again shortly."));
        break;
    }
    put(p, "</p>\n");
}

/* The attributes tying a field to the notice: aria-describedby, and aria-invalid if wrong. */
static void put_field_notice(page_t *p, int described, int invalid)
{
    if (invalid)
        put(p, " aria-invalid=\"true\"");
    if (described)
        put(p, " aria-describedby=\"notice\"");
}

static void put_password_form(page_t *p, const rk_identity_login_page_t *page, rk_lang_t lang,
                              int described)
{
    int invalid = page->notice == RK_LOGIN_BAD_CREDENTIALS;
    if (page->cert_action)
        put(p, TEXT(lang, "<h2>ユーザー名とパスワードでログイン</h2>\n",
                    "<h2>Log in with your username and password</h2>\n"));
    put_form_open(p, page->action);
    put_hidden(p, "tx", page->tx);
    put_hidden(p, "csrf", page->csrf);
    put(p, TEXT(lang, "<label for=\"username\">ユーザー名</label>\n",
                "<label for=\"username\">Username</label>\n"));
    put(p, "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "
           "autocapitalize=\"none\" spellcheck=\"false\" required");
    if (page->username) {
        put(p, " value=\"");
        put_escaped(p, page->username);
        put(p, "\"");
    }
    put_field_notice(p, described, invalid);
    put(p, TEXT(lang, ">\n<label for=\"password\">パスワード</label>\n",
                ">\n<label for=\"password\">Password</label>\n"));
    put(p, "<input id=\"password\" name=\"password\" type=\"password\" "
           "autocomplete=\"current-password\" required");
    put_field_notice(p, described, invalid);
    put(p, TEXT(lang, ">\n<button type=\"submit\">ログイン</button>\n</form>\n",
                ">\n<button type=\"submit\">Log in</button>\n</form>\n"));
}

/* The challenge in single quotes for a POSIX shell: ' becomes '\''. */
static void put_shell_quoted(page_t *p, const char *s)
{
    put(p, "&#39;");
    for (const char *c = s ? s : ""; *c;) {
        size_t n = strcspn(c, "'");
        put_escaped_n(p, c, n);
        c += n;
        if (*c == '\'') {
            put(p, "&#39;\\&#39;&#39;");
            c++;
        }
    }
    put(p, "&#39;");
}

static void put_certificate_form(page_t *p, const rk_identity_login_page_t *page, rk_lang_t lang,
                                 int described)
{
    put(p,
        TEXT(lang, "<h2>証明書でログイン</h2>\n<p>", "<h2>Log in with your certificate</h2>\n<p>"));
    put(p,
        TEXT(lang,
             "証明書によるログインは、マイナンバーカードの利用者証明用電子証明書と同じ仕組みです。"
             "お手元の秘密鍵で一度限りの文字列（チャレンジ）に署名し、その署名を証明書で確かめて、"
             "ご本人であることを確認します。秘密鍵そのものが送られることはありません。",
             "Certificate login works like the user certificate of a My Number Card: your "
             "private key signs a one-time text (the challenge), and the signature is checked "
             "against your certificate. Your private key itself is never sent."));
    put(p, TEXT(lang,
                "</p>\n<ol>\n<li>次のコマンドを実行してください。KEY と CERT は、"
                "お手元の秘密鍵と証明書のファイル名に置き換えてください。\n",
                "</p>\n<ol>\n<li>Run this command, with KEY and CERT replaced by the files of "
                "your private key and certificate.\n"));
    put(p, "<pre><code>renkeictl cert-login-sign --key KEY --cert CERT --challenge ");
    put_shell_quoted(p, page->cert_challenge);
    put(p, "</code></pre>\n");
    put(p, TEXT(lang, "<label for=\"challenge-copy\">チャレンジ（コピー用）</label>\n",
                "<label for=\"challenge-copy\">Challenge (to copy)</label>\n"));
    put(p, "<input id=\"challenge-copy\" type=\"text\" readonly class=\"mono\" "
           "autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" value=\"");
    put_escaped(p, page->cert_challenge);
    put(p, "\"></li>\n");
    put(p, TEXT(lang,
                "<li>コマンドが出力した内容をすべて下の欄に貼り付けて、"
                "「証明書でログイン」を押してください。</li>\n</ol>\n",
                "<li>Paste everything the command printed into the box below and press "
                "“Log in with certificate”.</li>\n</ol>\n"));
    put_form_open(p, page->cert_action);
    put_hidden(p, "tx", page->tx);
    put_hidden(p, "csrf", page->csrf);
    put_hidden(p, "challenge", page->cert_challenge);
    put(p, TEXT(lang, "<label for=\"certificate_response\">コマンドの出力</label>\n",
                "<label for=\"certificate_response\">Output of the command</label>\n"));
    put(p, "<textarea id=\"certificate_response\" name=\"certificate_response\" rows=\"6\" "
           "autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" required");
    put_field_notice(p, described, page->notice == RK_LOGIN_CERT_FAILED);
    put(p, TEXT(lang, "></textarea>\n<button type=\"submit\">証明書でログイン</button>\n</form>\n",
                "></textarea>\n<button type=\"submit\">Log in with certificate</button>\n"
                "</form>\n"));
}

char *rk_identity_page_login(rk_arena_t *arena, const rk_identity_login_page_t *page)
{
    rk_lang_t lang = known_lang(page->lang);
    page_t p;
    page_frame_t frame = {lang,
                          TEXT(lang, "ログイン", "Log in"),
                          page->client_name,
                          page->realm_name,
                          page->lang_url_ja,
                          page->lang_url_en};
    page_open(&p, &frame);
    put(&p, TEXT(lang, "<h1>ログイン</h1>\n", "<h1>Log in</h1>\n"));
    if (page->client_name)
        put_fill(&p,
                 TEXT(lang, "<p>「{}」を利用するには、ログインしてください。</p>\n",
                      "<p>Log in to use “{}”.</p>\n"),
                 page->client_name, NULL);
    int has_notice = page->notice != RK_LOGIN_OK;
    if (has_notice)
        put_login_notice(&p, page, lang);
    /* A notice about the certificate describes its field; any other, the password fields. */
    int cert_notice = page->notice == RK_LOGIN_CERT_FAILED || page->notice == RK_LOGIN_STEP_UP ||
                      !page->password_allowed;
    if (page->password_allowed)
        put_password_form(&p, page, lang, has_notice && !cert_notice);
    else if (page->notice != RK_LOGIN_STEP_UP)
        put(&p, TEXT(lang,
                     "<p class=\"note\">このサービスを利用するには、証明書でのログインが必要です。"
                     "</p>\n",
                     "<p class=\"note\">This service requires you to log in with your "
                     "certificate.</p>\n"));
    if (page->cert_action)
        put_certificate_form(&p, page, lang, has_notice && cert_notice);
    else if (!page->password_allowed)
        put(&p, TEXT(lang,
                     "<p>この画面からは証明書でログインできません。このページを閉じて、"
                     "ご利用のサービスに戻ってください。</p>\n",
                     "<p>Certificate login is not offered here. Close this page and return to "
                     "the service.</p>\n"));
    return page_close(arena, &p);
}

/* --- consent ---------------------------------------------------------------------------------- */

static void put_scope(page_t *p, rk_lang_t lang, const char *scope)
{
    static const struct {
        const char *scope, *ja, *en;
    } known[] = {
        {"openid", "このサービスでのあなたの識別子", "Your identifier for this service"},
        {"profile", "氏名とユーザー名", "Your name and username"},
        {"email", "メールアドレス", "Your email address"},
        {"offline_access",
         "サービスを使っていない間もログイン状態を保つこと（リフレッシュトークン）",
         "Staying connected while you are not using the service (refresh tokens)"},
        {"home_municipality", "お住まいの市区町村と、その確認方法",
         "Which city you live in, and how that was confirmed"},
        {"age_band", "小学生・中学生の別（児童・生徒IDのみ。生年月日は渡しません）",
         "Whether you are in elementary or lower secondary school (pupil IDs only; never your "
         "birth date)"},
    };
    put(p, "<li>");
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (scope && strcmp(scope, known[i].scope) == 0) {
            put(p, TEXT(lang, known[i].ja, known[i].en));
            put(p, "</li>\n");
            return;
        }
    }
    put(p, "<code>");
    put_escaped(p, scope);
    put(p, "</code></li>\n");
}

char *rk_identity_page_consent(rk_arena_t *arena, const rk_identity_consent_page_t *page)
{
    rk_lang_t lang = known_lang(page->lang);
    page_t p;
    page_frame_t frame = {lang,
                          TEXT(lang, "情報提供の確認", "Share your information"),
                          page->client_name,
                          page->realm_name,
                          page->lang_url_ja,
                          page->lang_url_en};
    page_open(&p, &frame);
    if (page->client_name)
        put_fill(&p,
                 TEXT(lang, "<h1>「{}」に情報を提供しますか？</h1>\n",
                      "<h1>Share your information with “{}”?</h1>\n"),
                 page->client_name, NULL);
    else
        put(&p, TEXT(lang, "<h1>このサービスに情報を提供しますか？</h1>\n",
                     "<h1>Share your information with this service?</h1>\n"));
    put_fill(&p,
             TEXT(lang, "<p>ログイン中: <strong>{}</strong></p>\n",
                  "<p>Logged in as: <strong>{}</strong></p>\n"),
             page->username, NULL);
    if (page->home_city)
        put_fill(&p,
                 TEXT(lang,
                      "<p>このサービスは{}が提供しています。あなたは{}にお住まいの方として"
                      "利用します。</p>\n",
                      "<p>This service is run by {}. You use it as a resident of {}.</p>\n"),
                 page->realm_name ? page->realm_name : TEXT(lang, "ほかの市区町村", "another city"),
                 page->home_city);
    put(&p, TEXT(lang, "<h2>許可すると、このサービスは次の情報を受け取ります</h2>\n",
                 "<h2>What the service receives if you allow it</h2>\n"));
    if (page->n_scopes == 0) {
        put(&p, TEXT(lang, "<p>受け取る情報はありません。</p>\n", "<p>Nothing.</p>\n"));
    } else {
        put(&p, "<ul>\n");
        for (size_t i = 0; i < page->n_scopes; i++)
            put_scope(&p, lang, page->scopes[i]);
        put(&p, "</ul>\n");
    }
    put_form_open(&p, page->action);
    put_hidden(&p, "tx", page->tx);
    put_hidden(&p, "csrf", page->csrf);
    put_decision(&p, "approve", TEXT(lang, "許可する", "Allow"), 1);
    put_decision(&p, "deny", TEXT(lang, "許可しない", "Deny"), 0);
    put(&p, "</form>\n");
    return page_close(arena, &p);
}

/* --- error and logout ------------------------------------------------------------------------- */

static int is_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s > 0x7e)
            return 0;
    }
    return 1;
}

char *rk_identity_page_error(rk_arena_t *arena, rk_lang_t lang, const char *title_ja,
                             const char *title_en, const char *detail)
{
    lang = known_lang(lang);
    const char *title = TEXT(lang, title_ja ? title_ja : title_en, title_en ? title_en : title_ja);
    const char *generic = TEXT(lang, "エラーが発生しました", "Something went wrong");
    page_t p;
    page_frame_t frame = {lang, title ? "" : generic, title, NULL, NULL, NULL};
    page_open(&p, &frame);
    put(&p, "<h1>");
    if (title)
        put_escaped(&p, title);
    else
        put(&p, generic);
    put(&p, TEXT(lang, "</h1>\n<p>このページを閉じて、ご利用のサービスに戻ってください。</p>\n",
                 "</h1>\n<p>Close this page and return to the service.</p>\n"));
    if (detail) {
        /* Technical detail is usually English: say so to screen readers on a Japanese page. */
        put(&p, TEXT(lang, "<p class=\"detail\">詳細: <span", "<p class=\"detail\">Detail: <span"));
        if (lang == RK_LANG_JA && is_ascii(detail))
            put(&p, " lang=\"en\"");
        put(&p, ">");
        put_escaped(&p, detail);
        put(&p, "</span></p>\n");
    }
    return page_close(arena, &p);
}

char *rk_identity_page_logout_confirm(rk_arena_t *arena, rk_lang_t lang, const char *action,
                                      const char *csrf, const char *tx)
{
    lang = known_lang(lang);
    page_t p;
    page_frame_t frame = {lang, TEXT(lang, "ログアウト", "Log out"), NULL, NULL, NULL, NULL};
    page_open(&p, &frame);
    put(&p, TEXT(lang,
                 "<h1>すべての市区町村のサービスからログアウトしますか？</h1>\n"
                 "<p>このブラウザでログインしている、すべての市区町村のサービスから"
                 "ログアウトします。</p>\n",
                 "<h1>Log out of every city's services?</h1>\n"
                 "<p>You will be logged out of the services of every city you are logged in to "
                 "in this browser.</p>\n"));
    put_form_open(&p, action);
    put_hidden(&p, "csrf", csrf);
    if (tx)
        put_hidden(&p, "tx", tx);
    put_decision(&p, "logout", TEXT(lang, "ログアウトする", "Log out"), 1);
    put_decision(&p, "cancel", TEXT(lang, "キャンセル", "Cancel"), 0);
    put(&p, "</form>\n");
    return page_close(arena, &p);
}

char *rk_identity_page_logged_out(rk_arena_t *arena, rk_lang_t lang)
{
    lang = known_lang(lang);
    page_t p;
    page_frame_t frame = {lang, TEXT(lang, "ログアウトしました", "Logged out"), NULL, NULL, NULL,
                          NULL};
    page_open(&p, &frame);
    put(&p, TEXT(lang,
                 "<h1>ログアウトしました</h1>\n"
                 "<p>共用のパソコンをお使いの場合は、ブラウザを閉じてください。</p>\n",
                 "<h1>You are logged out</h1>\n"
                 "<p>If you are using a shared computer, close the browser.</p>\n"));
    return page_close(arena, &p);
}

char *rk_identity_page_account(rk_arena_t *arena, const rk_identity_account_page_t *page)
{
    rk_lang_t lang = known_lang(page->lang);
    page_t p;
    page_frame_t frame = {lang,
                          TEXT(lang, "アカウント", "Account"),
                          NULL,
                          page->realm_name,
                          page->lang_url_ja,
                          page->lang_url_en};
    page_open(&p, &frame);
    put(&p,
        TEXT(lang, "<h1>ログインしています</h1>\n<dl>\n", "<h1>You are logged in</h1>\n<dl>\n"));
    put(&p, TEXT(lang, "<dt>ユーザー名</dt><dd>", "<dt>Username</dt><dd>"));
    put_escaped(&p, page->username);
    put(&p, "</dd>\n");
    if (page->display_name) {
        put(&p, TEXT(lang, "<dt>お名前</dt><dd>", "<dt>Name</dt><dd>"));
        put_escaped(&p, page->display_name);
        put(&p, "</dd>\n");
    }
    put(&p, TEXT(lang, "<dt>お住まいの市区町村</dt><dd>", "<dt>Home city</dt><dd>"));
    put_escaped(&p, page->home_city);
    put(&p, "</dd>\n");
    put(&p, TEXT(lang, "<dt>ログイン方法</dt><dd>", "<dt>Logged in with</dt><dd>"));
    put(&p, page->certificate
                ? TEXT(lang, "電子証明書（利用者証明用）", "an electronic certificate")
                : TEXT(lang, "パスワード", "a password"));
    put(&p, "</dd>\n</dl>\n");
    put(&p, TEXT(lang,
                 "<p>このログインで、連携しているすべての市区町村のサービスを利用できます。</p>\n",
                 "<p>This login works at the services of every participating city.</p>\n"));
    if (url_ok(page->logout_url)) {
        put(&p, "<p><a href=\"");
        put_escaped(&p, page->logout_url);
        put(&p, TEXT(lang, "\">ログアウト</a></p>\n", "\">Log out</a></p>\n"));
    }
    return page_close(arena, &p);
}
