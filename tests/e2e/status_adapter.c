/*
 * status_adapter.c — renkei-adapter-status, an adapter on librenkei-adapter (adapters/sdk) that
 * answers what a test asks for, so that stock clients can be checked against every outcome an
 * adapter can give. Built for the end-to-end tests only (tests/e2e/connect_adapter_test.sh).
 *
 * SearchCatalogue reads its keyword as an order:
 *   "status:N"  fails with gRPC status N (1–16) and the message "status N: 施設 100% (asked)",
 *               which exercises the percent-encoding of grpc-message;
 *   "bytes:N"   answers with a response whose encoding is exactly N bytes (its one record's
 *               record_id is the padding), for message size limits;
 *   anything else answers with page.total_size = the keyword's length in bytes, so a test can
 *   see that a large request arrived whole.
 * Every other method is left to the SDK: UNIMPLEMENTED.
 */
#include "renkei_adapter.h"

#include <stdlib.h>
#include <string.h>

/* The response for "bytes:N": record_id of pad bytes and, when the varint lengths make N
 * unreachable that way, a page token of a few more. NULL when N is out of reach (< 8). */
static Renkei__V1__AdapterSearchCatalogueResponse *sized_response(rk_adapter_call_t *call, size_t n)
{
    Renkei__V1__AdapterSearchCatalogueResponse *out = rk_adapter_call_alloc(call, sizeof(*out));
    Renkei__V1__CatalogueRecord *record = rk_adapter_call_alloc(call, sizeof(*record));
    Renkei__V1__CatalogueRecord **records = rk_adapter_call_alloc(call, sizeof(*records));
    Renkei__V1__PageResponse *page = rk_adapter_call_alloc(call, sizeof(*page));
    *out = (Renkei__V1__AdapterSearchCatalogueResponse)
        RENKEI__V1__ADAPTER_SEARCH_CATALOGUE_RESPONSE__INIT;
    *record = (Renkei__V1__CatalogueRecord)RENKEI__V1__CATALOGUE_RECORD__INIT;
    *page = (Renkei__V1__PageResponse)RENKEI__V1__PAGE_RESPONSE__INIT;
    records[0] = record;
    out->records = records;
    out->n_records = 1;
    char *pad = rk_adapter_call_alloc(call, n + 1);
    memset(pad, 'x', n);
    char *token = rk_adapter_call_alloc(call, 16);
    /* Three length prefixes of at most 5 bytes each and two tags: try a few paddings. */
    for (size_t token_len = 0; token_len < 8; token_len++) {
        memset(token, 't', token_len);
        token[token_len] = '\0';
        page->next_page_token = token;
        out->page = token_len ? page : NULL;
        for (size_t overhead = 2; overhead <= 20 && overhead <= n; overhead++) {
            size_t pad_len = n - overhead;
            pad[pad_len] = '\0';
            record->record_id = pad;
            if (protobuf_c_message_get_packed_size(&out->base) == n)
                return out;
            pad[pad_len] = 'x';
        }
    }
    return NULL;
}

static void search_catalogue(rk_adapter_call_t *call,
                             const Renkei__V1__AdapterSearchCatalogueRequest *request)
{
    const char *order = request->keyword;
    if (strncmp(order, "status:", 7) == 0) {
        int code = atoi(order + 7);
        rk_adapter_fail(call, (rk_adapter_code_t)code, NULL,
                        rk_adapter_call_printf(call, "status %d: 施設 100%% (asked)", code));
        return;
    }
    if (strncmp(order, "bytes:", 6) == 0) {
        Renkei__V1__AdapterSearchCatalogueResponse *out =
            sized_response(call, strtoul(order + 6, NULL, 10));
        if (out)
            rk_adapter_reply(call, &out->base);
        else
            rk_adapter_fail(call, RK_ADAPTER_INVALID_ARGUMENT, "ERROR_REASON_FIELD_INVALID",
                            "keyword: bytes:N needs N of at least 8");
        return;
    }
    Renkei__V1__AdapterSearchCatalogueResponse out =
        RENKEI__V1__ADAPTER_SEARCH_CATALOGUE_RESPONSE__INIT;
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = (int32_t)strlen(order);
    out.page = &page;
    rk_adapter_reply(call, &out.base);
}

static const rk_adapter_t adapter = {
    .name = "status",
    .version = "1.0.0",
    .owner_system = "renkei end-to-end tests",
    .handlers = {.search_catalogue = search_catalogue},
};

int main(int argc, char **argv)
{
    return rk_adapter_serve(&adapter, argc, argv);
}
