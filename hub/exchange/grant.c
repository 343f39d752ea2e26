/*
 * grant.c — pure: partners' grants (see grant.h).
 */
#include "exchange/grant.h"

#include <ctype.h>
#include <string.h>

#define PACKAGE "renkei.v1."

/* 1 if [from, to) is one or more ASCII letters. */
static int letters(const char *from, const char *to)
{
    if (from >= to)
        return 0;
    for (const char *c = from; c < to; c++)
        if (!isalpha((unsigned char)*c))
            return 0;
    return 1;
}

int rk_exchange_grant_valid(const char *text)
{
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len > RK_EXCHANGE_GRANT_METHOD_MAX ||
        strncmp(text, PACKAGE, sizeof(PACKAGE) - 1) != 0)
        return 0;
    const char *service = text + sizeof(PACKAGE) - 1;
    const char *slash = strchr(service, '/');
    if (!slash || !letters(service, slash))
        return 0;
    return strcmp(slash + 1, "*") == 0 || letters(slash + 1, text + len);
}

int rk_exchange_grant_covers(const char *grant, const char *method)
{
    if (strcmp(grant, method) == 0)
        return 1;
    const char *slash = strchr(method, '/');
    size_t service_len = slash ? (size_t)(slash - method) + 1 : 0;
    return slash && strncmp(grant, method, service_len) == 0 &&
           strcmp(grant + service_len, "*") == 0;
}

int rk_exchange_method_reads_only(const char *method)
{
    static const char *const readers[] = {"Get", "List", "Search", "Verify", "Subscribe"};
    const char *slash = strchr(method, '/');
    for (size_t i = 0; slash && i < sizeof(readers) / sizeof(readers[0]); i++)
        if (strncmp(slash + 1, readers[i], strlen(readers[i])) == 0)
            return 1;
    return 0;
}
