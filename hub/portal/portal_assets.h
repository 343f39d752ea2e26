/*
 * portal_assets.h — the resident portal's files, embedded into renkeid at build time by
 * cmake/embed_portal.cmake from hub/portal/web/ (the generated portal_assets.c is never
 * committed). Each file is held as it is and gzip-compressed; the build id names this set of
 * files in every asset URL (/portal/{build}/{name}).
 */
#ifndef RK_PORTAL_ASSETS_H
#define RK_PORTAL_ASSETS_H

#include <stddef.h>

typedef struct rk_portal_asset {
    const char *name;         /* "app.js": [a-z0-9_-]+ and an extension, no folders */
    const char *content_type; /* with charset for text */
    const unsigned char *data;
    size_t len;
    const unsigned char *gzip; /* the same bytes, gzip-compressed */
    size_t gzip_len;
} rk_portal_asset_t;

extern const rk_portal_asset_t rk_portal_assets[];
extern const size_t rk_portal_assets_count;
/** 16 hex digits of a SHA-256 over every file's name and content. */
extern const char rk_portal_build[];

#endif
