/*
 * main.c — renkeid: configuration, start-up work, then one libevent loop until SIGTERM.
 *
 * Start-up (before the loop, so blocking is allowed): read and validate the configuration,
 * validate every tenant file (a bad one stops start-up before anything is written), apply
 * migrations under the advisory lock, load the tenants. Then the loop: the PostgreSQL pool,
 * the listener, and the routes of every module. SIGTERM or SIGINT drains: no new
 * connections, idle ones closed, in-flight requests finished; then exit 0.
 */
#include "app.h"
#include "core/error.h"
#include "core/log.h"
#include "exchange/exchange.h"
#include "facility/catalogue_sync.h"
#include "federation/federation.h"
#include "identity/identity.h"
#include "library/library.h"
#include "net/rpc.h"
#include "ops/health_rpc.h"
#include "ops/ops.h"
#include "portal/portal.h"
#include "store/connect.h"
#include "store/migrate.h"
#include "supervise.h"
#include "tenancy/tenant_store.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct options {
    const char *config_file;
    int migrate_only;
    int check_config;
} options_t;

static void usage(FILE *out)
{
    fprintf(out, "usage: renkeid [--config FILE] [--migrate-only] [--check-config] "
                 "[--help-config]\n"
                 "  --config FILE   JSON configuration (deploy/renkei.example.json documents it)\n"
                 "  --migrate-only  apply database migrations and exit\n"
                 "  --check-config  validate configuration and tenant files, then exit\n"
                 "  --help-config   list every configuration key and its RENKEI_* variable\n");
}

static int parse_args(int argc, char **argv, options_t *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            o->config_file = argv[++i];
        } else if (strcmp(argv[i], "--migrate-only") == 0) {
            o->migrate_only = 1;
        } else if (strcmp(argv[i], "--check-config") == 0) {
            o->check_config = 1;
        } else if (strcmp(argv[i], "--help-config") == 0) {
            rk_config_describe(stdout);
            exit(0);
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "renkeid: unknown argument: %s\n", argv[i]);
            usage(stderr);
            return RK_EINVAL;
        }
    }
    return RK_OK;
}

static const char *getenv_cb(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int load_config(const options_t *o, rk_config_t *cfg)
{
    char err[512] = "";
    rk_config_init(cfg);
    if ((o->config_file && rk_config_load_file(cfg, o->config_file, err, sizeof(err)) != RK_OK) ||
        rk_config_apply_env(cfg, getenv_cb, NULL, err, sizeof(err)) != RK_OK ||
        rk_config_validate(cfg, err, sizeof(err)) != RK_OK) {
        rk_log_error("invalid configuration", "{s:s}", "error", err);
        return RK_EINVAL;
    }
    rk_log_level_t level = RK_LOG_INFO;
    rk_log_level_parse(cfg->log_level, &level);
    rk_log_setup(level, 2);
    return RK_OK;
}

/* Each connection is a descriptor: allow as many as the hard limit does. */
static void raise_descriptor_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

static int prepare_database(const rk_config_t *cfg, const rk_tenant_set_t *tenants)
{
    char err[1024] = "";
    int applied;
    if (rk_store_migrate(cfg->store_conninfo, cfg->store_connect_timeout_ms, &applied, err,
                         sizeof(err)) != RK_OK) {
        rk_log_error("migrations failed", "{s:s}", "error", err);
        return RK_EUNAVAILABLE;
    }
    rk_log_info("schema current", "{s:i, s:i}", "version", rk_migrations_latest(), "applied",
                applied);
    if (!tenants->n)
        return RK_OK;
    PGconn *pg = rk_store_connect_blocking(cfg->store_conninfo, cfg->store_connect_timeout_ms, err,
                                           sizeof(err));
    int rc = pg ? rk_tenant_store_load(pg, tenants, err, sizeof(err)) : RK_EUNAVAILABLE;
    if (rc != RK_OK)
        rk_log_error("loading tenants failed", "{s:s}", "error", err);
    PQfinish(pg);
    return rc;
}

static void drained_cb(rk_server_t *server, void *arg)
{
    (void)server;
    event_base_loopexit(arg, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    rk_app_t *app = arg;
    if (app->server->draining) {
        rk_log_warn("second signal: exiting now", "{s:i}", "signal", (int)sig);
        event_base_loopbreak(app->base);
        return;
    }
    rk_log_info("signal: draining", "{s:i}", "signal", (int)sig);
    rk_server_drain(app->server, drained_cb, app->base);
}

static int serve(rk_config_t *cfg, unsigned worker_index)
{
    int rc = RK_EIO;
    char why[512] = "";
    char public_url[600];
    if (*cfg->public_url)
        snprintf(public_url, sizeof(public_url), "%s", cfg->public_url);
    else
        snprintf(public_url, sizeof(public_url), "%s://%s:%d",
                 *cfg->tls_cert_file ? "https" : "http", cfg->listen_host, cfg->listen_port);

    rk_app_t app = {.cfg = cfg, .public_url = public_url, .worker_index = worker_index};
    app.base = event_base_new();
    app.metrics = rk_metrics_new();
    rk_router_t *router = rk_router_new(app.metrics);
    rk_store_options_t store_options = {
        .conninfo = cfg->store_conninfo,
        .pool_size = cfg->store_pool_size,
        .pipeline_depth = cfg->store_pipeline_depth,
        .reconnect_max_ms = cfg->store_reconnect_max_ms,
        .connect_timeout_ms = 5000,
    };
    app.store = rk_store_new(app.base, &store_options);
    app.server = rk_server_new(app.base, cfg, router, app.metrics, &app, why, sizeof(why));
    struct event *sigterm = evsignal_new(app.base, SIGTERM, signal_cb, &app);
    struct event *sigint = evsignal_new(app.base, SIGINT, signal_cb, &app);
    if (!app.server) {
        rk_log_error("cannot start", "{s:s}", "error", why);
        goto out;
    }
    rk_ops_register(&app, router);
    rk_tenant_register(&app, router);
    if (rk_identity_register(&app, router, why, sizeof(why)) != RK_OK) {
        rk_log_error("cannot start", "{s:s}", "error", why);
        goto out;
    }
    if (rk_federation_register(&app, router, why, sizeof(why)) != RK_OK) {
        rk_log_error("cannot start", "{s:s}", "error", why);
        goto out;
    }
    rk_facility_register(&app, router);
    if (rk_exchange_register(&app, router, why, sizeof(why)) != RK_OK) {
        rk_log_error("cannot start", "{s:s}", "error", why);
        goto out;
    }
    rk_library_register(&app, router);
    rk_portal_register(&app, router);
    rk_health_rpc_register(&app, router);
    rk_rpc_register_fallback(router); /* last: after every RPC method */
    rk_store_register_metrics(app.store, app.metrics);
    if (rk_server_listen(app.server, why, sizeof(why)) != RK_OK) {
        rk_log_error("cannot listen", "{s:s}", "error", why);
        goto out;
    }
    rk_store_start(app.store);
    rk_tenant_cache_start(&app);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    rk_log_info("listening", "{s:s, s:s, s:i, s:i}", "url", public_url, "host", cfg->listen_host,
                "port", cfg->listen_port, "worker", (int)worker_index);
    event_base_dispatch(app.base);
    rk_log_info("stopped", NULL);
    rc = RK_OK;
out:
    event_free(sigterm);
    event_free(sigint);
    /* The store first: failing its queries in flight runs callbacks that finish requests,
     * which reach the server, its connections and every module's state. */
    rk_facility_free(app.facility); /* first: its callbacks in flight then find it closing */
    rk_library_free(app.library);
    rk_store_free(app.store);
    rk_server_free(app.server);
    rk_tenant_cache_free(app.tenants);
    rk_exchange_free(app.exchange);
    rk_identity_free(app.identity);
    rk_federation_free(app.federation);
    rk_router_free(router);
    rk_metrics_free(app.metrics);
    event_base_free(app.base);
    return rc;
}

static int serve_worker(unsigned index, void *cfg)
{
    return serve(cfg, index) == RK_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    options_t opts = {0};
    rk_config_t cfg;
    rk_tenant_set_t tenants = {0};
    int rc = 1;
    signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &opts) != RK_OK)
        return 2;
    if (load_config(&opts, &cfg) != RK_OK)
        goto out;
    raise_descriptor_limit();
    if (*cfg.tenants_dir) {
        char err[1024] = "";
        if (rk_tenant_set_load_dir(cfg.tenants_dir, &tenants, err, sizeof(err)) != RK_OK) {
            rk_log_error("invalid tenant files: nothing loaded", "{s:s}", "error", err);
            goto out;
        }
    }
    if (opts.check_config) {
        char err[1024] = "";
        if (rk_identity_check_config(&cfg, err, sizeof(err)) != RK_OK) {
            rk_log_error("invalid configuration", "{s:s}", "error", err);
            goto out;
        }
        rk_log_info("configuration and tenant files are valid", "{s:I}", "tenants",
                    (json_int_t)tenants.n);
        rc = 0;
        goto out;
    }
    if (opts.migrate_only) {
        rk_tenant_set_t none = {0};
        rc = prepare_database(&cfg, &none) == RK_OK ? 0 : 1;
        goto out;
    }
    if (prepare_database(&cfg, &tenants) != RK_OK)
        goto out;
    rk_tenant_set_free(&tenants);
    long workers = cfg.server_workers ? cfg.server_workers : sysconf(_SC_NPROCESSORS_ONLN);
    if (workers > 1)
        rc = rk_supervise((unsigned)workers, serve_worker, &cfg);
    else
        rc = serve(&cfg, 0) == RK_OK ? 0 : 1;
out:
    rk_tenant_set_free(&tenants);
    rk_config_free(&cfg);
    return rc;
}
