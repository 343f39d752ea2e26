/*
 * sim_fault.c — fault configuration and decisions (see sim_fault.h).
 */
#include "sim_fault.h"

#include "core/mem.h"
#include "sim_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int number(const json_t *obj, const char *key, double min, double max, double *out,
                  const char *where, char *why, size_t why_len)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > max) {
        snprintf(why, why_len, "config: sim.faults.%s%s: must be a number from %g to %g", where,
                 key, min, max);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

static int only_keys(const json_t *obj, const char *const *allowed, const char *where, char *why,
                     size_t why_len)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, key) == 0;
        if (!ok) {
            snprintf(why, why_len, "config: sim.faults.%s%s: unknown key", where, key);
            return -1;
        }
    }
    return 0;
}

int sim_fault_parse(sim_fault_config_t *f, const json_t *faults, char *why, size_t why_len)
{
    memset(f, 0, sizeof(*f));
    if (why_len)
        why[0] = '\0';
    if (!faults)
        return 0;
    static const char *const top[] = {"latency", "error_rate", "outages", "outage_file", NULL};
    if (!json_is_object(faults)) {
        snprintf(why, why_len, "config: sim.faults: must be an object");
        return -1;
    }
    if (only_keys(faults, top, "", why, why_len))
        return -1;
    const json_t *latency = json_object_get(faults, "latency");
    if (latency) {
        static const char *const keys[] = {"distribution", "fixed_ms", "jitter_ms", "median_ms",
                                           "sigma",        "max_ms",   NULL};
        const char *dist = json_string_value(json_object_get(latency, "distribution"));
        if (!json_is_object(latency) || only_keys(latency, keys, "latency.", why, why_len) ||
            !dist || (strcmp(dist, "fixed") && strcmp(dist, "lognormal"))) {
            if (!*why)
                snprintf(why, why_len,
                         "config: sim.faults.latency.distribution: must be "
                         "\"fixed\" or \"lognormal\"");
            return -1;
        }
        f->distribution = strcmp(dist, "fixed") == 0 ? SIM_LATENCY_FIXED : SIM_LATENCY_LOGNORMAL;
        f->max_ms = 600000;
        if (number(latency, "fixed_ms", 0, 600000, &f->fixed_ms, "latency.", why, why_len) ||
            number(latency, "jitter_ms", 0, 600000, &f->jitter_ms, "latency.", why, why_len) ||
            number(latency, "median_ms", 0, 600000, &f->median_ms, "latency.", why, why_len) ||
            number(latency, "sigma", 0, 10, &f->sigma, "latency.", why, why_len) ||
            number(latency, "max_ms", 0, 600000, &f->max_ms, "latency.", why, why_len))
            return -1;
    }
    if (number(faults, "error_rate", 0, 1, &f->error_rate, "", why, why_len))
        return -1;
    const json_t *outages = json_object_get(faults, "outages");
    if (outages) {
        if (!json_is_array(outages) || json_array_size(outages) > SIM_FAULT_MAX_OUTAGES) {
            snprintf(why, why_len, "config: sim.faults.outages: must be an array of at most %d",
                     SIM_FAULT_MAX_OUTAGES);
            return -1;
        }
        size_t i;
        const json_t *o;
        json_array_foreach(outages, i, o)
        {
            static const char *const keys[] = {"start_s", "duration_s", NULL};
            double start = -1, duration = -1;
            if (!json_is_object(o) || only_keys(o, keys, "outages[].", why, why_len) ||
                number(o, "start_s", 0, 1e9, &start, "outages[].", why, why_len) ||
                number(o, "duration_s", 0, 1e9, &duration, "outages[].", why, why_len) ||
                start < 0 || duration < 0) {
                if (!*why)
                    snprintf(why, why_len,
                             "config: sim.faults.outages[%zu]: needs start_s and "
                             "duration_s",
                             i);
                return -1;
            }
            f->outages[f->n_outages].start_s = start;
            f->outages[f->n_outages].duration_s = duration;
            f->n_outages++;
        }
    }
    const json_t *file = json_object_get(faults, "outage_file");
    if (file) {
        if (!json_is_string(file)) {
            snprintf(why, why_len, "config: sim.faults.outage_file: must be a string");
            return -1;
        }
        if (*json_string_value(file))
            f->outage_file = rk_xstrdup(json_string_value(file));
    }
    return 0;
}

void sim_fault_free(sim_fault_config_t *f)
{
    free(f->outage_file);
    f->outage_file = NULL;
}

int sim_fault_in_outage(const sim_fault_config_t *f, double seconds_since_start,
                        int outage_file_exists)
{
    if (outage_file_exists)
        return 1;
    for (size_t i = 0; i < f->n_outages; i++) {
        if (seconds_since_start >= f->outages[i].start_s &&
            seconds_since_start < f->outages[i].start_s + f->outages[i].duration_s)
            return 1;
    }
    return 0;
}

uint64_t sim_fault_latency_ms(const sim_fault_config_t *f, uint64_t *rng)
{
    double ms = 0;
    switch (f->distribution) {
    case SIM_LATENCY_NONE:
        return 0;
    case SIM_LATENCY_FIXED:
        ms = f->fixed_ms + f->jitter_ms * sim_unit(rng);
        break;
    case SIM_LATENCY_LOGNORMAL: {
        /* Box-Muller: one standard normal from two uniforms (u1 in (0, 1]). */
        double u1 = 1.0 - sim_unit(rng), u2 = sim_unit(rng);
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        ms = f->median_ms * exp(f->sigma * z);
        if (ms > f->max_ms)
            ms = f->max_ms;
        break;
    }
    }
    return (uint64_t)(ms + 0.5);
}

int sim_fault_error(const sim_fault_config_t *f, uint64_t *rng)
{
    return f->error_rate > 0 && sim_unit(rng) < f->error_rate;
}
