/*
 * facility_client.c — the load client of tests/bench/facility: FacilityService calls over gRPC
 * (h2c, prior knowledge), messages packed and checked with the protobuf-c code of
 * build/release's librk_proto.a, nghttp2 and poll(). Compiled on the fly by that script with
 * h2c.c (the plumbing it shares with grpc_client.c).
 *
 * Both modes open CLIENTS connections; each is one client with one call in flight at a time
 * (the next starts when the last ends), for WARMUP + SECONDS seconds; calls that start in the
 * warm-up are not counted.
 *
 * facility_client search HOST PORT IDS_FILE CLIENTS SECONDS WARMUP BASE WINDOWS
 *   GetAvailability. Each line of IDS_FILE is one search's facility ids (1-50, separated by
 *   spaces); calls take the lines in turn. The window of call n (numbered across all clients)
 *   is 4 hours from BASE (Unix seconds) + k minutes, k = n with WINDOWS 0 (every call a window
 *   the hub has not cached: a live fan-out) or k = n mod WINDOWS (a few windows over and over:
 *   the hub's cache answers once it holds them). A call succeeds when it ends with HTTP 200,
 *   grpc-status 0 and a GetAvailabilityResponse; its added time is its total time minus the
 *   largest latency_ms of its MunicipalityStatus list (the slowest owner). Prints:
 *     search OK FAILED CALLS_PER_S P50 P99 ADDED_P50 ADDED_P99 SLOWEST_P50 SLOWEST_P99
 *            ALL_CACHED STATUSES_OK STATUSES_OTHER
 *   (times in ms; ALL_CACHED = calls whose owners were all answered from the hub's cache,
 *   latency_ms 0; STATUSES_* = municipality statuses OK and not OK over the counted calls).
 *
 * facility_client free HOST PORT - CLIENTS SECONDS WARMUP BASE WINDOWS
 *   The same with SearchFacilities: near a point that moves from call to call (400 points over
 *   about 10 x 10 km), free_within the call's window, a page of 50 candidates, whose owners the
 *   hub asks; same checks and output.
 *
 * facility_client book HOST PORT JOBS_FILE CLIENTS SECONDS WARMUP
 *   Each line of JOBS_FILE: TOKEN FACILITY_ID START END (a resident's access token and a free
 *   slot). Client c does lines c, c + CLIENTS, ... one after the other: HoldSlot, then
 *   ConfirmBooking with the hold's booking id and fee (idempotency keys made of the process id
 *   and the line); a booking counts when the answer is CONFIRMED. Prints:
 *     book CONFIRMED FAILED BOOKINGS_PER_S P50 P99 HOLD_P50 CONFIRM_P50 JOBS_LEFT
 *   (P50/P99: hold + confirm together, ms). The first failure goes to stderr.
 *
 * Exit 0 when it ran (failed calls included), 1 when a connection failed, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h2c.h"
#include "renkei/v1/facility.pb-c.h"

#define MAX_BODY (8u << 20) /* largest answer accepted */
#define MAX_LINE 65536

typedef struct samples {
    double *v;
    size_t n, cap;
} samples_t;

typedef struct conn {
    int fd;
    nghttp2_session *s;
    int busy;         /* a call in flight */
    int phase;        /* book: 0 = hold, 1 = confirm */
    long job;         /* book: the line of JOBS_FILE */
    double t0, t_job; /* call start, job start */
    int http_status, grpc_status;
    char grpc_message[160];
    uint8_t *req;
    size_t req_len, sent;
    uint8_t *body;
    size_t body_len, body_cap;
    int overflow;
    char *token; /* book: "Bearer ..." */
} conn_t;

typedef struct job {
    char *token, *facility_id, *start, *end;
} job_t;

static double t_warm, t_end, measured; /* measured: seconds counted (shorter if jobs ran out) */
static volatile sig_atomic_t stop;
static long n_ok, n_failed;
static char first_failure[320];
static samples_t lat, added, slowest, hold_lat, confirm_lat;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "facility_client: out of memory\n");
        exit(1);
    }
    return q;
}

static void sample(samples_t *s, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = v;
}

/* Percentile q (0-1) in ms of seconds samples (sorted here); 0 when empty. */
static double pct_ms(samples_t *s, double q)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, h2c_cmp_double);
    return s->v[(size_t)(q * (double)(s->n - 1))] * 1e3;
}

static void fail_note(const char *fmt, const char *what, const conn_t *c)
{
    if (!first_failure[0])
        snprintf(first_failure, sizeof first_failure, fmt, what, c->http_status, c->grpc_status,
                 c->grpc_message);
}

/* --- nghttp2 ------------------------------------------------------------------------------ */

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)s, (void)f, (void)flags;
    conn_t *c = ud;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        c->http_status = atoi((const char *)value);
    else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        c->grpc_status = atoi((const char *)value);
    else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
        snprintf(c->grpc_message, sizeof c->grpc_message, "%.*s",
                 (int)(valuelen < 150 ? valuelen : 150), (const char *)value);
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)s, (void)flags, (void)id;
    conn_t *c = ud;
    if (c->body_len + len > MAX_BODY) {
        c->overflow = 1;
        return 0;
    }
    if (c->body_len + len > c->body_cap) {
        while (c->body_cap < c->body_len + len)
            c->body_cap = c->body_cap ? 2 * c->body_cap : 65536;
        c->body = xrealloc(c->body, c->body_cap);
    }
    memcpy(c->body + c->body_len, data, len);
    c->body_len += len;
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)s, (void)id, (void)src;
    conn_t *c = ud;
    size_t n = c->req_len - c->sent;
    if (n > len)
        n = len;
    memcpy(buf, c->req + c->sent, n);
    c->sent += n;
    if (c->sent == c->req_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* The answer's message (after the 5-byte gRPC prefix) when the call succeeded, else NULL. */
static const uint8_t *answer(conn_t *c, uint32_t err, size_t *len)
{
    if (err || c->overflow || c->http_status != 200 || c->grpc_status != 0 || c->body_len < 5 ||
        c->body[0] != 0)
        return NULL;
    size_t n = (size_t)c->body[1] << 24 | (size_t)c->body[2] << 16 | (size_t)c->body[3] << 8 |
               c->body[4];
    if (n != c->body_len - 5)
        return NULL;
    *len = n;
    return c->body + 5;
}

static void (*on_call_end)(conn_t *c, uint32_t err, double t);

static int on_close(nghttp2_session *s, int32_t id, uint32_t err, void *ud)
{
    (void)s, (void)id;
    conn_t *c = ud;
    c->busy = 0;
    on_call_end(c, err, h2c_now());
    return 0;
}

static const char *g_host;
static char g_authority[128];

/* Starts one unary call of METHOD on c with the packed message msg (len bytes). */
static int start_call(conn_t *c, const char *method, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    c->req = xrealloc(c->req, len + 5);
    c->req[0] = 0;
    c->req[1] = (uint8_t)(len >> 24);
    c->req[2] = (uint8_t)(len >> 16);
    c->req[3] = (uint8_t)(len >> 8);
    c->req[4] = (uint8_t)len;
    protobuf_c_message_pack(msg, c->req + 5);
    c->req_len = len + 5;
    c->sent = 0;
    c->body_len = 0;
    c->overflow = 0;
    c->http_status = c->grpc_status = -1;
    c->grpc_message[0] = 0;
    char path[96];
    snprintf(path, sizeof path, "/renkei.v1.FacilityService/%s", method);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv hdrs[] = {NV(":method", "POST"),
                         NV(":scheme", "http"),
                         NV(":authority", g_authority),
                         NV(":path", path),
                         NV("content-type", "application/grpc"),
                         NV("te", "trailers"),
                         NV("authorization", c->token ? c->token : "")};
    size_t nh = sizeof hdrs / sizeof hdrs[0] - (c->token ? 0 : 1);
    nghttp2_data_provider prov = {.read_callback = read_body};
    c->t0 = h2c_now();
    c->busy = 1;
    return nghttp2_submit_request(c->s, NULL, hdrs, nh, &prov, NULL) < 0 ? -1 : 0;
}

/* --- search ------------------------------------------------------------------------------- */

static char ***id_sets;
static size_t *id_counts, n_sets;
static long next_call, windows;
static time_t base;
static long all_cached, statuses_ok, statuses_other;

/* The window of call n, as a TimeRange pointing into w. */
typedef struct window {
    char start[24], end[24];
    Renkei__V1__TimeRange range;
} window_t;

static void window_of(long n, window_t *w)
{
    time_t t = base + (time_t)(windows ? n % windows : n) * 60;
    time_t u = t + 4 * 3600;
    struct tm tm;
    strftime(w->start, sizeof w->start, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    strftime(w->end, sizeof w->end, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&u, &tm));
    w->range = (Renkei__V1__TimeRange)RENKEI__V1__TIME_RANGE__INIT;
    w->range.start = w->start;
    w->range.end = w->end;
}

static int search_next(conn_t *c)
{
    long n = next_call++;
    window_t w;
    window_of(n, &w);
    Renkei__V1__GetAvailabilityRequest r = RENKEI__V1__GET_AVAILABILITY_REQUEST__INIT;
    r.n_facility_ids = id_counts[(size_t)n % n_sets];
    r.facility_ids = id_sets[(size_t)n % n_sets];
    r.window = &w.range;
    return start_call(c, "GetAvailability", &r.base);
}

/* free: SearchFacilities near a point that moves with n (400 points over about 10 x 10 km
 * around the sims' default centre), free slots in the window of n, 50 candidates a page. */
static int free_next(conn_t *c)
{
    long n = next_call++;
    window_t w;
    window_of(n, &w);
    Renkei__V1__GeoPoint near = RENKEI__V1__GEO_POINT__INIT;
    near.latitude = 35.60 + (double)(n % 20) * 0.005;
    near.longitude = 139.49 + (double)(n / 20 % 20) * 0.005;
    Renkei__V1__PageRequest page = RENKEI__V1__PAGE_REQUEST__INIT;
    page.page_size = 50;
    Renkei__V1__SearchFacilitiesRequest r = RENKEI__V1__SEARCH_FACILITIES_REQUEST__INIT;
    r.near = &near;
    r.free_within = &w.range;
    r.page = &page;
    return start_call(c, "SearchFacilities", &r.base);
}

static int free_mode; /* the answers are SearchFacilitiesResponse */

static void search_end(conn_t *c, uint32_t err, double t)
{
    if (c->t0 < t_warm)
        return;
    size_t len;
    const uint8_t *msg = answer(c, err, &len);
    const ProtobufCMessageDescriptor *d = free_mode
                                              ? &renkei__v1__search_facilities_response__descriptor
                                              : &renkei__v1__get_availability_response__descriptor;
    ProtobufCMessage *m = msg ? protobuf_c_message_unpack(d, NULL, len, msg) : NULL;
    Renkei__V1__MunicipalityStatus **statuses = NULL;
    size_t n = 0;
    if (m && free_mode) {
        statuses = ((Renkei__V1__SearchFacilitiesResponse *)m)->statuses;
        n = ((Renkei__V1__SearchFacilitiesResponse *)m)->n_statuses;
    } else if (m) {
        statuses = ((Renkei__V1__GetAvailabilityResponse *)m)->statuses;
        n = ((Renkei__V1__GetAvailabilityResponse *)m)->n_statuses;
    }
    if (!n) {
        fail_note("%s: :status %d, grpc-status %d %s", m ? "no statuses" : d->short_name, c);
        n_failed++;
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    int max_ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (statuses[i]->latency_ms > max_ms)
            max_ms = statuses[i]->latency_ms;
        if (statuses[i]->status == RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_OK)
            statuses_ok++;
        else
            statuses_other++;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    double total = t - c->t0;
    n_ok++;
    all_cached += max_ms == 0;
    sample(&lat, total);
    sample(&slowest, max_ms / 1e3);
    sample(&added, total - max_ms / 1e3);
}

static int load_ids(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    static char line[MAX_LINE];
    while (fgets(line, sizeof line, f)) {
        char **ids = NULL;
        size_t n = 0;
        for (char *save, *tok = strtok_r(line, " \n", &save); tok;
             tok = strtok_r(NULL, " \n", &save)) {
            ids = xrealloc(ids, (n + 1) * sizeof *ids);
            ids[n++] = strdup(tok);
        }
        if (!n)
            continue;
        id_sets = xrealloc(id_sets, (n_sets + 1) * sizeof *id_sets);
        id_counts = xrealloc(id_counts, (n_sets + 1) * sizeof *id_counts);
        id_sets[n_sets] = ids;
        id_counts[n_sets++] = n;
    }
    fclose(f);
    return n_sets ? 0 : -1;
}

/* --- book --------------------------------------------------------------------------------- */

static job_t *jobs;
static long n_jobs, clients, jobs_left;

static int book_next(conn_t *c)
{
    if (c->job >= n_jobs)
        return 1; /* this client has no slot left */
    const job_t *j = &jobs[c->job];
    char key[64];
    snprintf(key, sizeof key, "bench-hold-%ld-%ld", (long)getpid(), c->job);
    Renkei__V1__IdempotencyKey k = RENKEI__V1__IDEMPOTENCY_KEY__INIT;
    k.key = key;
    Renkei__V1__TimeRange w = RENKEI__V1__TIME_RANGE__INIT;
    w.start = j->start;
    w.end = j->end;
    Renkei__V1__HoldSlotRequest r = RENKEI__V1__HOLD_SLOT_REQUEST__INIT;
    r.idempotency_key = &k;
    r.facility_id = j->facility_id;
    r.time = &w;
    r.attendees = 1;
    c->phase = 0;
    c->token = j->token;
    c->t_job = h2c_now();
    return start_call(c, "HoldSlot", &r.base);
}

static void job_failed(conn_t *c, const char *what)
{
    if (c->t_job >= t_warm) {
        fail_note("%s: :status %d, grpc-status %d %s", what, c);
        n_failed++;
    }
    c->job += clients;
}

static void book_end(conn_t *c, uint32_t err, double t)
{
    size_t len;
    const uint8_t *msg = answer(c, err, &len);
    if (c->phase == 0) {
        Renkei__V1__HoldSlotResponse *h = msg ? renkei__v1__hold_slot_response__unpack(NULL, len, msg) : NULL;
        if (!h || !h->booking || h->booking->state != RENKEI__V1__BOOKING_STATE__BOOKING_STATE_HELD) {
            job_failed(c, "HoldSlot");
        } else {
            if (c->t_job >= t_warm)
                sample(&hold_lat, t - c->t0);
            char key[64];
            snprintf(key, sizeof key, "bench-confirm-%ld-%ld", (long)getpid(), c->job);
            Renkei__V1__IdempotencyKey k = RENKEI__V1__IDEMPOTENCY_KEY__INIT;
            k.key = key;
            Renkei__V1__Yen fee = RENKEI__V1__YEN__INIT;
            fee.amount = h->booking->fee ? h->booking->fee->amount : 0;
            Renkei__V1__ConfirmBookingRequest r = RENKEI__V1__CONFIRM_BOOKING_REQUEST__INIT;
            r.idempotency_key = &k;
            r.booking_id = h->booking->id;
            r.accepted_fee = &fee;
            c->phase = 1;
            /* the call is submitted from inside nghttp2's callback: sent by the next pump */
            if (start_call(c, "ConfirmBooking", &r.base) < 0)
                job_failed(c, "submit ConfirmBooking");
        }
        if (h)
            renkei__v1__hold_slot_response__free_unpacked(h, NULL);
        return;
    }
    Renkei__V1__ConfirmBookingResponse *r =
        msg ? renkei__v1__confirm_booking_response__unpack(NULL, len, msg) : NULL;
    if (!r || !r->booking || r->booking->state != RENKEI__V1__BOOKING_STATE__BOOKING_STATE_CONFIRMED) {
        job_failed(c, "ConfirmBooking");
    } else {
        if (c->t_job >= t_warm) {
            n_ok++;
            sample(&confirm_lat, t - c->t0);
            sample(&lat, t - c->t_job);
        }
        c->job += clients;
    }
    if (r)
        renkei__v1__confirm_booking_response__free_unpacked(r, NULL);
}

static int load_jobs(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    static char line[MAX_LINE];
    while (fgets(line, sizeof line, f)) {
        char *save, *tok = strtok_r(line, " \n", &save), *fid = strtok_r(NULL, " \n", &save),
                    *start = strtok_r(NULL, " \n", &save), *end = strtok_r(NULL, " \n", &save);
        if (!tok || !fid || !start || !end)
            continue;
        jobs = xrealloc(jobs, (size_t)(n_jobs + 1) * sizeof *jobs);
        size_t tl = strlen(tok) + 8;
        jobs[n_jobs].token = xrealloc(NULL, tl);
        snprintf(jobs[n_jobs].token, tl, "Bearer %s", tok);
        jobs[n_jobs].facility_id = strdup(fid);
        jobs[n_jobs].start = strdup(start);
        jobs[n_jobs].end = strdup(end);
        n_jobs++;
    }
    fclose(f);
    return n_jobs ? 0 : -1;
}

/* --- the loop ----------------------------------------------------------------------------- */

/* Runs n clients for warmup + seconds, then until every call ended; next starts a client's
 * next call (-1 on failure, 1 when the client has nothing left to do). */
static int run(int port, int n, double warmup, double seconds, int (*next)(conn_t *))
{
    conn_t *cs = calloc((size_t)n, sizeof *cs);
    struct pollfd *p = calloc((size_t)n, sizeof *p);
    snprintf(g_authority, sizeof g_authority, "%s:%d", g_host, port);
    for (int i = 0; i < n; i++) {
        cs[i].job = i;
        cs[i].fd = h2c_connect(g_host, port);
        if (cs[i].fd < 0) {
            perror("facility_client: connect");
            return 1;
        }
        cs[i].s = h2c_session_new(&cs[i], on_header, on_data, on_close, NULL, 1 << 24);
    }
    t_warm = h2c_now() + warmup;
    t_end = t_warm + seconds;
    int done = 0;
    while (!done) {
        done = 1;
        double t = h2c_now();
        for (int i = 0; i < n; i++) {
            conn_t *c = &cs[i];
            if (!c->busy && t < t_end && !stop && c->fd >= 0) {
                int r = next(c);
                if (r < 0) {
                    fprintf(stderr, "facility_client: cannot submit a call\n");
                    return 1;
                }
            }
            if (c->busy)
                done = 0;
            if (c->fd >= 0 && h2c_pump(c->s, c->fd, 0) < 0) {
                fprintf(stderr, "facility_client: connection %d closed\n", i);
                return 1;
            }
            p[i].fd = c->fd;
            p[i].events = POLLIN | (nghttp2_session_want_write(c->s) ? POLLOUT : 0);
            p[i].revents = 0;
        }
        if (done)
            break;
        if (poll(p, (nfds_t)n, 100) <= 0)
            continue;
        for (int i = 0; i < n; i++)
            if (p[i].revents && h2c_pump(cs[i].s, cs[i].fd, p[i].revents) < 0) {
                fprintf(stderr, "facility_client: connection %d closed\n", i);
                return 1;
            }
    }
    double t = h2c_now();
    measured = (t < t_end ? t : t_end) - t_warm;
    for (int i = 0; i < n; i++) {
        jobs_left += cs[i].job < n_jobs ? (n_jobs - 1 - cs[i].job) / n + 1 : 0;
        nghttp2_session_terminate_session(cs[i].s, NGHTTP2_NO_ERROR);
        nghttp2_session_send(cs[i].s);
        nghttp2_session_del(cs[i].s);
        close(cs[i].fd);
    }
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int search = argc == 10 && strcmp(argv[1], "search") == 0;
    int book = argc == 8 && strcmp(argv[1], "book") == 0;
    free_mode = argc == 10 && strcmp(argv[1], "free") == 0;
    if (!search && !book && !free_mode) {
        fprintf(stderr, "usage: facility_client search|free HOST PORT IDS_FILE CLIENTS SECONDS "
                        "WARMUP BASE WINDOWS\n       facility_client book HOST PORT JOBS_FILE "
                        "CLIENTS SECONDS WARMUP\n");
        return 2;
    }
    g_host = argv[2];
    int port = atoi(argv[3]);
    clients = atol(argv[5]);
    double seconds = atof(argv[6]), warmup = atof(argv[7]);
    if (clients < 1 || seconds <= 0) {
        fprintf(stderr, "facility_client: CLIENTS and SECONDS must be positive\n");
        return 2;
    }
    if (search || free_mode) {
        base = (time_t)atoll(argv[8]);
        windows = atol(argv[9]);
        if (search && load_ids(argv[4]) < 0) {
            fprintf(stderr, "facility_client: no facility ids in %s\n", argv[4]);
            return 2;
        }
        on_call_end = search_end;
        if (run(port, (int)clients, warmup, seconds, search ? search_next : free_next))
            return 1;
        double p50 = pct_ms(&lat, 0.5), p99 = pct_ms(&lat, 0.99);
        printf("search %ld %ld %.1f %.2f %.2f %.2f %.2f %.2f %.2f %ld %ld %ld\n", n_ok, n_failed,
               (double)n_ok / measured, p50, p99, pct_ms(&added, 0.5), pct_ms(&added, 0.99),
               pct_ms(&slowest, 0.5), pct_ms(&slowest, 0.99), all_cached, statuses_ok,
               statuses_other);
    } else {
        if (load_jobs(argv[4]) < 0) {
            fprintf(stderr, "facility_client: no jobs in %s\n", argv[4]);
            return 2;
        }
        on_call_end = book_end;
        if (run(port, (int)clients, warmup, seconds, book_next))
            return 1;
        double p50 = pct_ms(&lat, 0.5), p99 = pct_ms(&lat, 0.99);
        printf("book %ld %ld %.1f %.2f %.2f %.2f %.2f %ld\n", n_ok, n_failed,
               (double)n_ok / measured, p50, p99, pct_ms(&hold_lat, 0.5),
               pct_ms(&confirm_lat, 0.5), jobs_left);
    }
    if (first_failure[0])
        fprintf(stderr, "facility_client: first failure: %s\n", first_failure);
    return 0;
}
