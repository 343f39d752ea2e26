/*
 * sim_fault.h — fault injection for the sim: latency, errors and outages, from config.
 *
 * So that the hub's deadlines, circuit breakers and stale-if-error paths can be tested against
 * something that misbehaves on purpose. The "faults" config object:
 *   latency     {"distribution": "fixed", "fixed_ms": F, "jitter_ms": J}: F plus uniform [0, J];
 *               {"distribution": "lognormal", "median_ms": M, "sigma": S, "max_ms": X}:
 *               M·e^(S·N(0,1)), at most X;
 *   error_rate  0–1: that share of calls answers UNAVAILABLE (after its latency);
 *   outages     [{"start_s": A, "duration_s": D}, …]: seconds after start during which every
 *               call answers UNAVAILABLE at once and health says NOT_SERVING;
 *   outage_file a path whose existence means "down", the same way (touch it, remove it).
 * Decisions take the random state and the clock as arguments: pure, so tests can check them.
 */
#ifndef SIM_FAULT_H
#define SIM_FAULT_H

#include <stddef.h>
#include <stdint.h>

struct json_t;

#define SIM_FAULT_MAX_OUTAGES 16

typedef enum { SIM_LATENCY_NONE, SIM_LATENCY_FIXED, SIM_LATENCY_LOGNORMAL } sim_latency_t;

typedef struct sim_fault_config {
    sim_latency_t distribution;
    double fixed_ms, jitter_ms;
    double median_ms, sigma, max_ms;
    double error_rate;
    struct {
        double start_s, duration_s;
    } outages[SIM_FAULT_MAX_OUTAGES];
    size_t n_outages;
    char *outage_file; /* owned; NULL = none */
} sim_fault_config_t;

/** Reads the "faults" object (NULL = no faults). 0, or -1 with "config: sim.faults.…" in why. */
int sim_fault_parse(sim_fault_config_t *f, const struct json_t *faults, char *why, size_t why_len);
void sim_fault_free(sim_fault_config_t *f);
/** 1 when seconds_since_start falls in an outage window, or outage_file_exists. */
int sim_fault_in_outage(const sim_fault_config_t *f, double seconds_since_start,
                        int outage_file_exists);
/** A latency drawn from the distribution, in milliseconds. */
uint64_t sim_fault_latency_ms(const sim_fault_config_t *f, uint64_t *rng);
/** 1 when this call should fail (error_rate). */
int sim_fault_error(const sim_fault_config_t *f, uint64_t *rng);

#endif
