/*
 * sru_marc.c — SRU answers and MARCXML records into sru_record_t (see sru_marc.h).
 *
 * The answer is read into a libxml2 tree (no network, no entity substitution, no DTD loading)
 * and walked by local name, so SRU 1.1/1.2 and 2.0 namespaces both work; MARC elements must be
 * in the MARC 21 slim namespace. Every string is copied into the caller's arena, cut to
 * SRU_MARC_TEXT_MAX bytes at a character boundary.
 */
#include "sru_marc.h"

#include "sru_isbn.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARC_NS "http://www.loc.gov/MARC21/slim"
#define LINKS_MAX 64 /* 880 fields read per record */

static int named(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

static int marc(const xmlNode *n, const char *local)
{
    return named(n, local) && n->ns && strcmp((const char *)n->ns->href, MARC_NS) == 0;
}

static xmlNode *child(const xmlNode *n, const char *local)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (named(c, local))
            return c;
    }
    return NULL;
}

/* An attribute's text as the tree holds it (no copy), or "". */
static const char *attr(const xmlNode *n, const char *name)
{
    const xmlAttr *a = xmlHasProp(n, (const xmlChar *)name);
    return a && a->children && a->children->type == XML_TEXT_NODE && a->children->content
               ? (const char *)a->children->content
               : "";
}

/* A subfield's one-character code, or 0. */
static char code_of(const xmlNode *subfield)
{
    const char *code = attr(subfield, "code");
    return code[0] && !code[1] ? code[0] : 0;
}

/* Copies s (len bytes) into the arena, cut to SRU_MARC_TEXT_MAX at a UTF-8 boundary, with
 * trailing white space and ISBD punctuation (" / : ; , =") trimmed when trim is set. */
static const char *keep(rk_arena_t *arena, const char *s, size_t len, int trim)
{
    if (len > SRU_MARC_TEXT_MAX) {
        len = SRU_MARC_TEXT_MAX;
        while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    while (len && strchr(" \t\r\n", s[0])) {
        s++;
        len--;
    }
    while (len && (strchr(" \t\r\n", s[len - 1]) || (trim && strchr("/:;,=", s[len - 1]))))
        len--;
    return rk_arena_strndup(arena, s, len);
}

static const char *content(rk_arena_t *arena, const xmlNode *n, int trim)
{
    xmlChar *v = xmlNodeGetContent(n);
    const char *s = keep(arena, v ? (const char *)v : "", v ? strlen((const char *)v) : 0, trim);
    xmlFree(v);
    return s;
}

/* The first subfield code of a datafield, or NULL. */
static xmlNode *subfield(const xmlNode *field, char code)
{
    for (xmlNode *c = field->children; c; c = c->next) {
        if (marc(c, "subfield") && code_of(c) == code)
            return c;
    }
    return NULL;
}

static const char *subfield_text(rk_arena_t *arena, const xmlNode *field, char code, int trim)
{
    xmlNode *s = subfield(field, code);
    return s ? content(arena, s, trim) : "";
}

/* Subfields whose codes are in codes, joined with sep, trimmed. */
static const char *joined(rk_arena_t *arena, const xmlNode *field, const char *codes,
                          const char *sep)
{
    char buf[SRU_MARC_TEXT_MAX + 1];
    size_t len = 0;
    for (xmlNode *c = field->children; c; c = c->next) {
        char code = marc(c, "subfield") ? code_of(c) : 0;
        if (!code || !strchr(codes, code))
            continue;
        const char *part = content(arena, c, 1);
        if (!*part)
            continue;
        int n = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? sep : "", part);
        if (n < 0 || (size_t)n >= sizeof(buf) - len) {
            len = sizeof(buf) - 1;
            break;
        }
        len += (size_t)n;
    }
    return keep(arena, buf, len, 1);
}

/* "1979", "c1979.", "[1983?]" → the first four consecutive digits, else 0. */
static int year_of(const char *s)
{
    for (; *s; s++) {
        if (strspn(s, "0123456789") >= 4)
            return (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    }
    return 0;
}

/* 880 linkage: "$6 245-01/$1" → tag "245", occurrence "01". */
typedef struct link {
    char tag[4], occurrence[3];
    const char *text;
} link_t;

static void linkage(const char *six, char tag[4], char occurrence[3])
{
    tag[0] = occurrence[0] = '\0';
    if (strlen(six) >= 6 && six[3] == '-') {
        memcpy(tag, six, 3);
        tag[3] = '\0';
        memcpy(occurrence, six + 4, 2);
        occurrence[2] = '\0';
    }
}

static const char *reading(const link_t *links, size_t n, const char *tag, const char *occurrence)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(links[i].tag, tag) == 0 &&
            (!occurrence || !*occurrence || strcmp(links[i].occurrence, occurrence) == 0))
            return links[i].text;
    }
    return "";
}

static int flag(rk_arena_t *arena, const xmlNode *field, char code)
{
    return atoi(subfield_text(arena, field, code, 0));
}

static void item(rk_arena_t *arena, const xmlNode *field, sru_record_t *r)
{
    if (r->n_items >= SRU_MARC_ITEMS_MAX)
        return;
    sru_item_t *it = &r->items[r->n_items++];
    it->home_branch = subfield_text(arena, field, 'a', 0);
    it->holding_branch = subfield_text(arena, field, 'b', 0);
    if (!*it->holding_branch)
        it->holding_branch = it->home_branch;
    it->location = subfield_text(arena, field, 'c', 0);
    it->call_number = subfield_text(arena, field, 'o', 0);
    it->barcode = subfield_text(arena, field, 'p', 0);
    it->date_due = subfield_text(arena, field, 'q', 0);
    it->not_for_loan = flag(arena, field, '7');
    it->lost = flag(arena, field, '1') != 0;
    it->withdrawn = flag(arena, field, '0') != 0;
    it->damaged = flag(arena, field, '4') != 0;
}

static int record(const xmlNode *m, rk_arena_t *arena, sru_record_t *r, char *why, size_t why_len)
{
    char six[16], occurrence[3];
    const char *tag;
    link_t links[LINKS_MAX];
    size_t n_links = 0;
    size_t n_fields = 0;
    for (xmlNode *f = m->children; f; f = f->next)
        n_fields += marc(f, "datafield");
    r->items =
        rk_arena_calloc(arena, n_fields < SRU_MARC_ITEMS_MAX ? n_fields + 1 : SRU_MARC_ITEMS_MAX,
                        sizeof(*r->items));
    r->id = r->isbn13 = r->title = r->title_kana = r->publisher = r->ndc = "";
    const char *publisher_260 = "";
    int year_260 = 0;
    for (xmlNode *f = m->children; f; f = f->next) {
        if (marc(f, "leader")) {
            const char *leader = content(arena, f, 0);
            r->type = strlen(leader) > 6 ? leader[6] : 0;
        } else if (marc(f, "controlfield") && strcmp(attr(f, "tag"), "001") == 0) {
            r->id = content(arena, f, 0);
        } else if (marc(f, "datafield") && strcmp(attr(f, "tag"), "880") == 0 &&
                   n_links < LINKS_MAX) {
            linkage(subfield_text(arena, f, '6', 0), links[n_links].tag, links[n_links].occurrence);
            links[n_links].text = joined(arena, f, "abnp", " ");
            n_links++;
        }
    }
    if (!*r->id) {
        snprintf(why, why_len, "a record has no 001 (record id)");
        return -1;
    }
    for (xmlNode *f = m->children; f; f = f->next) {
        if (!marc(f, "datafield"))
            continue;
        tag = attr(f, "tag");
        linkage(subfield_text(arena, f, '6', 0), six, occurrence); /* "880-02" → occurrence 02 */
        if (strcmp(tag, "020") == 0 && !*r->isbn13) {
            const char *a = subfield_text(arena, f, 'a', 0);
            char isbn[14];
            if (sru_isbn_to13(a, strcspn(a, " ("), isbn) == 0)
                r->isbn13 = rk_arena_strdup(arena, isbn);
        } else if (strcmp(tag, "245") == 0) {
            r->title = joined(arena, f, "abnp", " ");
            r->title_kana = reading(links, n_links, "245", NULL);
        } else if ((strcmp(tag, "100") == 0 || strcmp(tag, "110") == 0 || strcmp(tag, "700") == 0 ||
                    strcmp(tag, "710") == 0) &&
                   r->n_authors < SRU_MARC_LIST_MAX) {
            sru_contributor_t *c = &r->authors[r->n_authors++];
            c->name = subfield_text(arena, f, 'a', 1);
            c->kana = *occurrence ? reading(links, n_links, tag, occurrence) : "";
            c->role = subfield_text(arena, f, 'e', 1);
        } else if (strcmp(tag, "264") == 0 || strcmp(tag, "260") == 0) {
            const char *b = subfield_text(arena, f, 'b', 1);
            int y = year_of(subfield_text(arena, f, 'c', 0));
            if (tag[1] == '6' && (*b || y)) { /* 264 wins over 260 */
                if (*b)
                    r->publisher = b;
                if (y)
                    r->year = y;
            } else {
                publisher_260 = *b ? b : publisher_260;
                year_260 = y ? y : year_260;
            }
        } else if (strcmp(tag, "084") == 0 && !*r->ndc) {
            r->ndc = subfield_text(arena, f, 'a', 1);
        } else if ((strcmp(tag, "600") == 0 || strcmp(tag, "610") == 0 || strcmp(tag, "650") == 0 ||
                    strcmp(tag, "651") == 0) &&
                   r->n_subjects < SRU_MARC_LIST_MAX) {
            const char *s = joined(arena, f, "axvyz", " -- ");
            if (*s)
                r->subjects[r->n_subjects++] = s;
        } else if (strcmp(tag, "952") == 0) {
            item(arena, f, r);
        }
    }
    if (!*r->publisher)
        r->publisher = publisher_260;
    if (!r->year)
        r->year = year_260;
    return 0;
}

static long number(const xmlNode *n)
{
    xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
    char *end = NULL;
    long value = v ? strtol((const char *)v, &end, 10) : -1;
    if (!v || end == (char *)v || value < 0)
        value = -1;
    xmlFree(v);
    return value;
}

int sru_marc_parse(const char *body, size_t len, rk_arena_t *arena, sru_answer_t *out, char *why,
                   size_t why_len)
{
    memset(out, 0, sizeof(*out));
    out->total = -1;
    if (len > SRU_MARC_ANSWER_MAX) {
        snprintf(why, why_len, "the answer is larger than %u bytes", SRU_MARC_ANSWER_MAX);
        return -1;
    }
    xmlDoc *doc = xmlReadMemory(body, (int)len, "sru-answer.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        snprintf(why, why_len, "the answer is not well-formed XML");
        return -1;
    }
    int rc = -1;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!named(root, "searchRetrieveResponse")) {
        snprintf(why, why_len, "the answer is not an SRU searchRetrieveResponse");
        goto out;
    }
    out->total = number(child(root, "numberOfRecords"));
    xmlNode *diagnostic = child(child(root, "diagnostics"), "diagnostic");
    if (diagnostic) {
        out->diagnostic_uri = content(arena, child(diagnostic, "uri"), 0);
        out->diagnostic_message =
            child(diagnostic, "message") ? content(arena, child(diagnostic, "message"), 0) : "";
    }
    xmlNode *records = child(root, "records");
    size_t n = 0;
    for (xmlNode *c = records ? records->children : NULL; c; c = c->next)
        n += named(c, "record");
    if (n > SRU_MARC_RECORDS_MAX) {
        snprintf(why, why_len, "more than %d records in one answer", SRU_MARC_RECORDS_MAX);
        goto out;
    }
    out->records = rk_arena_calloc(arena, n + 1, sizeof(*out->records));
    for (xmlNode *c = records ? records->children : NULL; c; c = c->next) {
        if (!named(c, "record"))
            continue;
        xmlNode *m = NULL;
        for (xmlNode *d = child(c, "recordData") ? child(c, "recordData")->children : NULL; d;
             d = d->next) {
            if (marc(d, "record"))
                m = d;
        }
        if (!m) {
            snprintf(why, why_len, "a record is not MARCXML (recordSchema marcxml, packing xml)");
            goto out;
        }
        if (record(m, arena, &out->records[out->n_records], why, why_len) != 0)
            goto out;
        out->n_records++;
    }
    if (out->total < 0 && !out->diagnostic_uri) {
        snprintf(why, why_len, "the answer has no numberOfRecords");
        goto out;
    }
    rc = 0;
out:
    xmlFreeDoc(doc);
    return rc;
}
