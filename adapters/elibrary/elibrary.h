/*
 * elibrary.h — renkei-adapter-elibrary: an e-library (電子図書館) with its state in its own
 * PostgreSQL database (schema elibrary, sql/elibrary.sql): titles under one-copy-one-user or
 * unlimited (読み放題) licences, immediate checkout, automatic return at the due time, a loan
 * limit per patron, cards and certificate-issued patrons.
 *
 * elibrary_setup.c reads the "elibrary" config section and, before the loop runs, makes the
 * database ready (blocking): the schema, the library's settings, its titles and demo cards.
 * main.c answers each AdapterService call with elibrary.call() on the hub's asynchronous libpq
 * pool (../common/sql_call.h).
 */
#ifndef ELIBRARY_H
#define ELIBRARY_H

#include "renkei_adapter.h"

#include <jansson.h>
#include <stddef.h>

struct rk_store;

/** The "elibrary" config section (RENKEI_ELIBRARY_* override the scalars). */
typedef struct elibrary_config {
    char *conninfo;       /* libpq connection string of the e-library's database */
    int pool_size;        /* connections to it */
    int loan_days;        /* a loan's length; it returns itself then */
    int loan_limit;       /* e-books a patron may borrow at once */
    int pupil_loan_limit; /* … a pupil (the call's age band ELEMENTARY or LOWER_SECONDARY) */
    int max_renewals;     /* renewals of one loan */
    char *reader_url;     /* the reader's URL, to which a loan's reference is appended */
    int web_port;         /* the e-library's own site (web.c); 0: none */
    char *web_host, *web_public_url;
    char *oidc_issuer, *oidc_client_id, *oidc_client_secret; /* the hub realm it logs in at */
    json_t *titles;  /* [{"record_id", "title", "licence", "copies", …}] (owned) */
    json_t *patrons; /* [{"card", "pin"}]: demo cards (owned) */
} elibrary_config_t;

typedef struct elibrary {
    elibrary_config_t config;
    char municipality[16]; /* the library's municipality code: every row's */
    char city[128];        /* its name (municipality.name_ja), for the site's pages */
    struct rk_store *store;
    struct elibrary_web *web; /* the site, when web_port is set */
} elibrary_t;

/** Reads the section (borrowed) into config. 0, or -1 with "config: elibrary.…: …" in why. */
int elibrary_config_load(elibrary_config_t *config, const json_t *section, char *why,
                         size_t why_len);
void elibrary_config_free(elibrary_config_t *config);

/**
 * Blocking, before the loop: connects to the (existing) database, then under an
 * advisory lock applies sql/elibrary.sql and seeds the library's settings, titles and cards.
 */
int elibrary_setup(const elibrary_config_t *config, const char *municipality, char *why,
                   size_t why_len);

#endif
