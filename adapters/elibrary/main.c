/*
 * main.c — renkei-adapter-elibrary (see elibrary.h and README.md): the handler table, init
 * (the "elibrary" section, the database made ready, the asynchronous pool on the SDK's loop),
 * and every call answered by elibrary.call() through ../common/sql_call.h; health follows the
 * pool. It declares LIBRARY_CATALOGUE, LIBRARY_PATRONS, LIBRARY_LOANS and ELIBRARY.
 */
#include "elibrary.h"
#include "sql_call.h"
#include "web.h"

#include "core/log.h"
#include "core/mem.h"
#include "store/pool.h"

#include <stdio.h>
#include <stdlib.h>

#define SQL(method) "SELECT elibrary.call('" method "', $1::jsonb, $2, $3)::text"

static const rk_sql_method_t list[] = {
    {"SearchCatalogue", "elibrary_search", SQL("SearchCatalogue"), 3},
    {"GetHoldings", "elibrary_holdings", SQL("GetHoldings"), 3},
    {"VerifyPatron", "elibrary_verify", SQL("VerifyPatron"), 3},
    {"ListLoans", "elibrary_loans", SQL("ListLoans"), 3},
    {"Checkout", "elibrary_checkout", SQL("Checkout"), 3},
    {"Renew", "elibrary_renew", SQL("Renew"), 3},
    {"ReturnLoan", "elibrary_return", SQL("ReturnLoan"), 3},
};

static const rk_sql_methods_t methods = {list, sizeof(list) / sizeof(list[0]),
                                         "LIBRARY_ERROR_OWNER_UNAVAILABLE",
                                         "the e-library's database is not reachable; try again"};

static void answer(rk_adapter_call_t *call, const ProtobufCMessage *request)
{
    elibrary_t *e = rk_adapter_call_data(call);
    rk_sql_call(call, e->store, &methods, request, e->municipality);
}

#define HANDLER(name, Request)                                                                     \
    static void name(rk_adapter_call_t *call, const Renkei__V1__##Request *request)                \
    {                                                                                              \
        answer(call, &request->base);                                                              \
    }
HANDLER(search_catalogue, AdapterSearchCatalogueRequest)
HANDLER(get_holdings, AdapterGetHoldingsRequest)
HANDLER(verify_patron, AdapterVerifyPatronRequest)
HANDLER(list_loans, AdapterListLoansRequest)
HANDLER(checkout, AdapterCheckoutRequest)
HANDLER(renew, AdapterRenewRequest)
HANDLER(return_loan, AdapterReturnLoanRequest)
#undef HANDLER

static void elibrary_free(elibrary_t *e)
{
    elibrary_web_free(e->web);
    if (e->store)
        rk_store_free(e->store);
    elibrary_config_free(&e->config);
    free(e);
}

static int elibrary_init(rk_adapter_server_t *server, const json_t *section,
                         rk_adapter_handlers_t *handlers, char *why, size_t why_len)
{
    (void)handlers;
    elibrary_t *e = rk_xcalloc(1, sizeof(*e));
    snprintf(e->municipality, sizeof(e->municipality), "%s",
             rk_adapter_config(server)->municipality_code);
    snprintf(e->city, sizeof(e->city), "%s",
             rk_adapter_config(server)->municipality_name_ja
                 ? rk_adapter_config(server)->municipality_name_ja
                 : e->municipality);
    if (elibrary_config_load(&e->config, section, why, why_len) != 0 ||
        elibrary_setup(&e->config, e->municipality, why, why_len) != 0) {
        elibrary_free(e);
        return -1;
    }
    rk_store_options_t options = {
        .conninfo = e->config.conninfo,
        .pool_size = e->config.pool_size,
        .pipeline_depth = 64,
        .reconnect_max_ms = 2000,
        .connect_timeout_ms = 3000,
    };
    e->store = rk_store_new(rk_adapter_base(server), &options);
    rk_sql_prepare(e->store, &methods);
    if (e->config.web_port)
        elibrary_web_prepare(e->store);
    rk_store_start(e->store);
    if (e->config.web_port &&
        !(e->web = elibrary_web_start(e, rk_adapter_base(server), why, why_len))) {
        elibrary_free(e);
        return -1;
    }
    rk_adapter_set_data(server, e);
    rk_log_info("e-library ready", "{s:s, s:I, s:i}", "municipality",
                rk_adapter_config(server)->municipality_slug, "titles",
                (json_int_t)json_array_size(e->config.titles), "loan_days", e->config.loan_days);
    return 0;
}

static void elibrary_fini(rk_adapter_server_t *server)
{
    elibrary_t *e = rk_adapter_data(server);
    if (e)
        elibrary_free(e);
    rk_adapter_set_data(server, NULL);
}

/* NOT_SERVING while no connection to the e-library's database is up. */
static int elibrary_serving(rk_adapter_server_t *server)
{
    elibrary_t *e = rk_adapter_data(server);
    return e && rk_store_ready(e->store) > 0;
}

static const rk_adapter_t adapter = {
    .name = "elibrary",
    .version = "0.1.0",
    .owner_system = "電子図書館 (the e-library's PostgreSQL database, schema elibrary)",
    .config_section = "elibrary",
    .handlers =
        {
            .search_catalogue = search_catalogue,
            .get_holdings = get_holdings,
            .verify_patron = verify_patron,
            .list_loans = list_loans,
            .checkout = checkout,
            .renew = renew,
            .return_loan = return_loan,
        },
    .elibrary = 1,
    .init = elibrary_init,
    .fini = elibrary_fini,
    .serving = elibrary_serving,
};

int main(int argc, char **argv)
{
    return rk_adapter_serve(&adapter, argc, argv);
}
