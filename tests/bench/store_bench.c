/*
 * store_bench.c — round trips per second through the hub's PostgreSQL pool (hub/store/pool.h)
 * on ONE pipelined connection: `SELECT $1::int`, serial (one query in flight: the next is
 * issued from the callback of the last) against pipelined (10, 100, 1,000 kept in flight),
 * as SQL text (rk_store_query: parse + bind + execute each time) and as a prepared statement
 * (rk_store_exec). Every result is checked: status, one row, one column, the value sent.
 * Beside each mode, the same traffic on plain libpq without the pool (one sync segment per
 * query, sent at once, as the pool does): what PostgreSQL and this machine allow, so that the
 * pool's own cost shows.
 *
 * Built and run by tests/bench/store against build/release's librk_store.a and librk_core.a.
 * Usage: store_bench CONNINFO [SECONDS [text|prepared DEPTH]]   (SECONDS measured per mode after
 * a 0.5 s warm-up, default 3; the last two run one mode only). Prints a table on stdout. Exit
 * status 0 when every result was right, 1 if any result was wrong or a query failed, 2 on bad usage
 * or no connection.
 */
#include "core/error.h"
#include "core/log.h"
#include "store/pool.h"

#include <event2/event.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_MS 500
#define SQL "SELECT $1::int"
#define STMT "bench_select"

typedef struct bench bench_t;

typedef struct slot {
    bench_t *b;
    long expected;
} slot_t;

struct bench {
    struct event_base *base;
    rk_store_t *store;
    int prepared;
    int depth;
    long next_value;
    int in_flight;
    int running;  /* issue more */
    int counting; /* between warm-up end and the end of the window */
    uint64_t completed, counted;
    uint64_t checked_total;
    int wrong;
    char first_error[512];
    slot_t *slots;
};

typedef struct sample {
    double wall_s, cpu_s, backend_ticks, machine_ticks;
} sample_t;

static int backend_pid;
static long clk_tck;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of the PostgreSQL backend serving our connection, in clock ticks (-1: unknown). */
static double backend_ticks(void)
{
    if (backend_pid <= 0)
        return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", backend_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* After ") ": state(3) ppid(4) ... utime(14) stime(15): skip 11 fields after state. */
    unsigned long long ut = 0, st = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st);
}

/* Ticks all CPUs spent in user, nice and system mode, plus steal (time the hypervisor gave our
 * virtual CPUs to someone else): the first line of /proc/stat. */
static double machine_ticks(void)
{
    unsigned long long user = 0, nice = 0, sys = 0, idle, iowait, irq, softirq, steal = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
                   &iowait, &irq, &softirq, &steal);
    fclose(f);
    return n == 8 ? (double)(user + nice + sys + steal) : -1;
}

static void take_sample(sample_t *s)
{
    s->wall_s = now_s();
    s->cpu_s = cpu_self_s();
    s->backend_ticks = backend_ticks();
    s->machine_ticks = machine_ticks();
}

static void fail_result(bench_t *b, const char *fmt, const char *detail)
{
    b->wrong++;
    if (!b->first_error[0])
        snprintf(b->first_error, sizeof(b->first_error), fmt, detail ? detail : "");
    b->running = 0;
}

static void issue(bench_t *b, slot_t *slot);

static void on_result(const rk_store_result_t *res, void *arg)
{
    slot_t *slot = arg;
    bench_t *b = slot->b;
    b->in_flight--;
    if (res->status != RK_OK) {
        fail_result(b, "query failed: %s", res->error);
    } else if (res->n_results != 1 || PQresultStatus(res->results[0]) != PGRES_TUPLES_OK ||
               PQntuples(res->results[0]) != 1 || PQnfields(res->results[0]) != 1 ||
               PQgetisnull(res->results[0], 0, 0)) {
        fail_result(b, "unexpected result shape%s", "");
    } else {
        const char *got = PQgetvalue(res->results[0], 0, 0);
        char want[32];
        snprintf(want, sizeof(want), "%ld", slot->expected);
        if (strcmp(got, want) != 0) {
            char detail[96];
            snprintf(detail, sizeof(detail), "sent %s, got %s", want, got);
            fail_result(b, "wrong value: %s", detail);
        } else {
            b->checked_total++;
            b->completed++;
            if (b->counting)
                b->counted++;
        }
    }
    if (b->running)
        issue(b, slot);
    else if (b->in_flight == 0)
        event_base_loopbreak(b->base);
}

static void issue(bench_t *b, slot_t *slot)
{
    char value[32];
    /* Wraps well before INT_MAX: the value must stay a valid int. */
    slot->expected = b->next_value;
    b->next_value = b->next_value >= 2000000000L ? -2000000000L : b->next_value + 7919;
    snprintf(value, sizeof(value), "%ld", slot->expected);
    const char *values[1] = {value};
    int rc = b->prepared ? rk_store_exec(b->store, STMT, 1, values, on_result, slot)
                         : rk_store_query(b->store, SQL, 1, values, on_result, slot);
    if (rc != RK_AGAIN) {
        fail_result(b, "query refused: %s", rk_error_name(rc));
        if (b->in_flight == 0)
            event_base_loopbreak(b->base);
        return;
    }
    b->in_flight++;
}

static void on_pid(const rk_store_result_t *res, void *arg)
{
    bench_t *b = arg;
    if (res->status == RK_OK && res->n_results == 1 && PQntuples(res->results[0]) == 1)
        backend_pid = atoi(PQgetvalue(res->results[0], 0, 0));
    event_base_loopbreak(b->base);
}

/* Phase timers: end of warm-up, end of the window. */
typedef struct window {
    bench_t *b;
    sample_t start, end;
    uint64_t start_completed;
} window_t;

static void warmup_done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    window_t *w = arg;
    w->b->counting = 1;
    take_sample(&w->start);
}

static void window_done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    window_t *w = arg;
    take_sample(&w->end);
    w->b->counting = 0;
    w->b->running = 0;
    if (w->b->in_flight == 0)
        event_base_loopbreak(w->b->base);
}

typedef struct outcome {
    double qps, client_cpu_pct, backend_cpu_pct;
    double others_pct; /* machine CPU used by neither this program nor the backend */
    int ok;
} outcome_t;

/* Fills the CPU figures of o from the window's two samples. */
static void cpu_figures(outcome_t *o, const sample_t *a, const sample_t *b)
{
    double wall = b->wall_s - a->wall_s;
    double hz = (double)clk_tck;
    o->client_cpu_pct = 100.0 * (b->cpu_s - a->cpu_s) / wall;
    o->backend_cpu_pct = a->backend_ticks >= 0 && b->backend_ticks >= 0
                             ? 100.0 * (b->backend_ticks - a->backend_ticks) / hz / wall
                             : -1;
    o->others_pct = -1;
    if (a->machine_ticks >= 0 && b->machine_ticks >= 0 && o->backend_cpu_pct >= 0) {
        double machine_pct = 100.0 * (b->machine_ticks - a->machine_ticks) / hz / wall;
        o->others_pct = machine_pct - o->client_cpu_pct - o->backend_cpu_pct;
        if (o->others_pct < 0)
            o->others_pct = 0;
    }
}

/* One mode on a fresh store (pool of one connection, pipeline_depth = depth). */
static outcome_t run_mode(const char *conninfo, int prepared, int depth, double seconds,
                          uint64_t *checked, char *err, size_t err_len)
{
    outcome_t out = {0};
    bench_t b = {0};
    b.base = event_base_new();
    b.prepared = prepared;
    b.depth = depth;
    b.next_value = 1;
    rk_store_options_t opt = {.conninfo = conninfo,
                              .pool_size = 1,
                              .pipeline_depth = depth,
                              .reconnect_max_ms = 1000,
                              .connect_timeout_ms = 5000};
    b.store = rk_store_new(b.base, &opt);
    rk_store_prepare(b.store, STMT, SQL);
    rk_store_start(b.store);
    for (int i = 0; i < 1000 && rk_store_ready(b.store) < 1; i++) {
        struct timeval tick = {0, 10000};
        event_base_loopexit(b.base, &tick);
        event_base_dispatch(b.base);
    }
    if (rk_store_ready(b.store) < 1) {
        snprintf(err, err_len, "no connection to PostgreSQL within 10 s (%s)", conninfo);
        goto done;
    }
    /* The backend's pid, to read its CPU time. */
    backend_pid = 0;
    if (rk_store_query(b.store, "SELECT pg_backend_pid()", 0, NULL, on_pid, &b) == RK_AGAIN)
        event_base_dispatch(b.base);

    window_t w = {.b = &b};
    struct event *warm = evtimer_new(b.base, warmup_done_cb, &w);
    struct event *end = evtimer_new(b.base, window_done_cb, &w);
    struct timeval tv_warm = {0, WARMUP_MS * 1000};
    double total = seconds + WARMUP_MS / 1000.0;
    struct timeval tv_end = {(time_t)total, (suseconds_t)((total - (double)(time_t)total) * 1e6)};
    evtimer_add(warm, &tv_warm);
    evtimer_add(end, &tv_end);

    b.slots = calloc((size_t)depth, sizeof(slot_t));
    b.running = 1;
    for (int i = 0; i < depth && b.running; i++) {
        b.slots[i].b = &b;
        issue(&b, &b.slots[i]);
    }
    event_base_dispatch(b.base);
    event_free(warm);
    event_free(end);

    if (b.wrong) {
        snprintf(err, err_len, "%d wrong or failed result(s); first: %s", b.wrong, b.first_error);
        goto done;
    }
    double wall = w.end.wall_s - w.start.wall_s;
    out.qps = (double)b.counted / wall;
    cpu_figures(&out, &w.start, &w.end);
    out.ok = 1;
done:
    *checked += b.checked_total;
    rk_store_free(b.store);
    event_base_free(b.base);
    free(b.slots);
    return out;
}

/* Checks one row against the value sent; 1 if right. */
static int row_ok(const PGresult *r, long expected, char *why, size_t why_len)
{
    if (PQntuples(r) != 1 || PQnfields(r) != 1 || PQgetisnull(r, 0, 0)) {
        snprintf(why, why_len, "unexpected result shape");
        return 0;
    }
    char want[32];
    snprintf(want, sizeof(want), "%ld", expected);
    if (strcmp(PQgetvalue(r, 0, 0), want) != 0) {
        snprintf(why, why_len, "wrong value: sent %s, got %s", want, PQgetvalue(r, 0, 0));
        return 0;
    }
    return 1;
}

/* The same traffic on plain libpq, no pool and no libevent: poll(), one sync per query. */
static outcome_t run_raw(const char *conninfo, int prepared, int depth, double seconds,
                         uint64_t *checked, char *err, size_t err_len)
{
    outcome_t out = {0};
    long *ring = calloc((size_t)depth, sizeof(long)); /* values in flight, oldest at head */
    int head = 0, in_flight = 0, head_rows = 0, wrong = 0;
    long next_value = 1;
    char why[256] = "";
    PGconn *pg = PQconnectdb(conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        snprintf(err, err_len, "no connection to PostgreSQL (%s): %s", conninfo,
                 PQerrorMessage(pg));
        goto done;
    }
    PGresult *r = PQexec(pg, "SELECT pg_backend_pid()");
    backend_pid = PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    if (prepared) {
        r = PQprepare(pg, STMT, SQL, 0, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            snprintf(err, err_len, "PREPARE failed: %s", PQerrorMessage(pg));
            goto done;
        }
    }
    if (PQsetnonblocking(pg, 1) != 0 || !PQenterPipelineMode(pg)) {
        snprintf(err, err_len, "pipeline mode: %s", PQerrorMessage(pg));
        goto done;
    }
    double t0 = now_s(), warm_end = t0 + WARMUP_MS / 1000.0, end = warm_end + seconds;
    sample_t s0 = {0}, s1 = {0};
    int running = 1, counting = 0;
    uint64_t counted = 0;
    for (;;) {
        /* Keep depth in flight. */
        while (running && in_flight < depth) {
            char value[32];
            long v = next_value;
            next_value = next_value >= 2000000000L ? -2000000000L : next_value + 7919;
            snprintf(value, sizeof(value), "%ld", v);
            const char *values[1] = {value};
            int ok = prepared ? PQsendQueryPrepared(pg, STMT, 1, values, NULL, NULL, 0)
                              : PQsendQueryParams(pg, SQL, 1, NULL, values, NULL, NULL, 0);
            if (!ok || !PQpipelineSync(pg)) {
                snprintf(err, err_len, "send failed: %s", PQerrorMessage(pg));
                goto done;
            }
            ring[(head + in_flight) % depth] = v;
            in_flight++;
        }
        if (in_flight == 0)
            break;
        int flush = PQflush(pg);
        if (flush < 0) {
            snprintf(err, err_len, "flush failed: %s", PQerrorMessage(pg));
            goto done;
        }
        struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN | (flush ? POLLOUT : 0)};
        if (poll(&pfd, 1, 1000) < 0)
            continue;
        if (!PQconsumeInput(pg)) {
            snprintf(err, err_len, "connection lost: %s", PQerrorMessage(pg));
            goto done;
        }
        int nulls = 0;
        while (in_flight && !PQisBusy(pg)) {
            r = PQgetResult(pg);
            if (!r) {
                if (++nulls > 1)
                    break;
                continue;
            }
            nulls = 0;
            switch (PQresultStatus(r)) {
            case PGRES_TUPLES_OK:
                if (row_ok(r, ring[head], why, sizeof(why)))
                    head_rows++;
                else
                    wrong++;
                break;
            case PGRES_PIPELINE_SYNC:
                if (head_rows != 1) {
                    wrong++;
                    if (!why[0])
                        snprintf(why, sizeof(why), "a query ended without its one row");
                } else {
                    (*checked)++;
                    if (counting)
                        counted++;
                }
                head_rows = 0;
                head = (head + 1) % depth;
                in_flight--;
                break;
            default:
                wrong++;
                if (!why[0])
                    snprintf(why, sizeof(why), "query failed: %s", PQresultErrorMessage(r));
            }
            PQclear(r);
        }
        if (wrong)
            running = 0;
        double t = now_s();
        if (!counting && running && t >= warm_end && t < end) {
            take_sample(&s0);
            counting = 1;
        }
        if (running && t >= end) {
            take_sample(&s1);
            counting = 0;
            running = 0;
        }
    }
    if (wrong) {
        snprintf(err, err_len, "%d wrong or failed result(s); first: %s", wrong, why);
        goto done;
    }
    double wall = s1.wall_s - s0.wall_s;
    out.qps = (double)counted / wall;
    cpu_figures(&out, &s0, &s1);
    out.ok = 1;
done:
    PQfinish(pg);
    free(ring);
    return out;
}

static void fmt_pct(char *buf, size_t len, double pct)
{
    if (pct >= 0)
        snprintf(buf, len, "%.0f%%", pct);
    else
        snprintf(buf, len, "?");
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3 && argc != 5) {
        fprintf(stderr, "usage: store_bench CONNINFO [SECONDS [text|prepared DEPTH]]\n");
        return 2;
    }
    const char *conninfo = argv[1];
    double seconds = argc >= 3 ? atof(argv[2]) : 3.0;
    if (seconds <= 0) {
        fprintf(stderr, "store_bench: SECONDS must be positive\n");
        return 2;
    }
    int only_kind = -1, only_depth = 0;
    if (argc == 5) {
        only_kind = strcmp(argv[3], "prepared") == 0 ? 1 : strcmp(argv[3], "text") == 0 ? 0 : -2;
        only_depth = atoi(argv[4]);
        if (only_kind < 0 || only_depth < 1) {
            fprintf(stderr, "store_bench: the mode is text|prepared and a depth >= 1\n");
            return 2;
        }
    }
    clk_tck = sysconf(_SC_CLK_TCK);
    rk_log_setup(RK_LOG_WARN, 2);

    int depths[] = {1, 10, 100, 1000};
    int n_depths = (int)(sizeof(depths) / sizeof(depths[0]));
    if (only_kind >= 0) {
        depths[0] = only_depth;
        n_depths = 1;
    }
    uint64_t checked = 0;
    int status = 0;
    const char *fmt = "%-9s %-9s %5s %10s %9s %7s %8s | %10s %9s %8s %8s %6s  %s\n";
    printf(fmt, "", "", "", "pool", "pool", "pool", "pool", "raw libpq", "raw", "raw", "", "", "");
    printf(fmt, "mode", "statement", "depth", "queries/s", "vs serial", "its CPU", "backend",
           "queries/s", "vs serial", "backend", "pool/raw", "others", "target (pool)");
    printf(fmt, "---------", "---------", "-----", "----------", "---------", "-------", "--------",
           "----------", "---------", "--------", "--------", "------", "----------------------");
    int noisy = 0;
    double best = 0, best_raw = 0;
    int best_depth = 0;
    const char *best_kind = "";
    int have_serial = 0;
    for (int prepared = 0; prepared <= 1; prepared++) {
        if (only_kind >= 0 && prepared != only_kind)
            continue;
        const char *kind = prepared ? "prepared" : "SQL text";
        double serial = 0, serial_raw = 0;
        for (int i = 0; i < n_depths; i++) {
            char err[800] = "", err_raw[800] = "";
            outcome_t o =
                run_mode(conninfo, prepared, depths[i], seconds, &checked, err, sizeof(err));
            outcome_t raw =
                run_raw(conninfo, prepared, depths[i], seconds, &checked, err_raw, sizeof(err_raw));
            const char *mode = depths[i] == 1 ? "serial" : "pipelined";
            if (!o.ok || !raw.ok) {
                if (!o.ok)
                    fprintf(stderr, "store_bench: pool, %s, depth %d: %s\n", kind, depths[i], err);
                if (!raw.ok)
                    fprintf(stderr, "store_bench: raw libpq, %s, depth %d: %s\n", kind, depths[i],
                            err_raw);
                if (strstr(err, "no connection") || strstr(err_raw, "no connection"))
                    return 2;
                status = 1;
                printf("%-9s %-9s %5d FAILED (see above)\n", mode, kind, depths[i]);
                continue;
            }
            char depth_s[16], qps[32], ratio[32], ccpu[16], bcpu[16], rqps[32], rratio[32],
                rbcpu[16], vs_raw[32], others[16], target[64] = "";
            double oth = o.others_pct > raw.others_pct ? o.others_pct : raw.others_pct;
            fmt_pct(others, sizeof(others), oth);
            if (oth > 10)
                noisy = 1;
            snprintf(depth_s, sizeof(depth_s), "%d", depths[i]);
            snprintf(qps, sizeof(qps), "%.0f", o.qps);
            snprintf(rqps, sizeof(rqps), "%.0f", raw.qps);
            fmt_pct(ccpu, sizeof(ccpu), o.client_cpu_pct);
            fmt_pct(bcpu, sizeof(bcpu), o.backend_cpu_pct);
            fmt_pct(rbcpu, sizeof(rbcpu), raw.backend_cpu_pct);
            snprintf(vs_raw, sizeof(vs_raw), "%.2f", o.qps / raw.qps);
            if (depths[i] == 1) {
                serial = o.qps;
                serial_raw = raw.qps;
                have_serial = 1;
            }
            if (serial > 0) {
                double r = o.qps / serial, rr = raw.qps / serial_raw;
                snprintf(ratio, sizeof(ratio), "%.2fx", r);
                snprintf(rratio, sizeof(rratio), "%.2fx", rr);
                if (depths[i] > 1) {
                    snprintf(target, sizeof(target), ">= 10x: %s",
                             r >= 10 ? "target met" : "target missed");
                    if (r > best) {
                        best = r;
                        best_depth = depths[i];
                        best_kind = kind;
                    }
                    if (rr > best_raw)
                        best_raw = rr;
                }
            } else {
                snprintf(ratio, sizeof(ratio), "-");
                snprintf(rratio, sizeof(rratio), "-");
            }
            printf(fmt, mode, kind, depth_s, qps, ratio, ccpu, bcpu, rqps, rratio, rbcpu, vs_raw,
                   others, target);
            fflush(stdout);
        }
    }
    if (noisy)
        printf("WARNING: other work used more than 10 %% of a core during some windows "
               "('others'): those figures are disturbed; run again on a quiet machine\n");
    if (have_serial && best > 0) {
        printf("\nbest pipelined through the pool: %.1fx serial (%s, depth %d): %s "
               "(target: pipelined >= 10x serial)\n",
               best, best_kind, best_depth, best >= 10 ? "target met" : "target missed");
        printf("best pipelined on raw libpq, same traffic: %.1fx serial\n", best_raw);
    }
    printf("results checked: %" PRIu64 ", each with the value sent%s\n", checked,
           status ? " — EXCEPT the failures reported above" : "");
    return status;
}
