/*
 * tests/bench/oidc_argon2.c — the argon2id bound of tests/bench/oidc: how many hashes per
 * second THREADS threads compute with the hub's parameters (m = 19 MiB, t = 2, p = 1; see
 * hub/identity/password.h), each hashing in a loop for SECONDS.
 *
 * Build: cc -O2 -pthread -o oidc_argon2 oidc_argon2.c -largon2
 * Run:   oidc_argon2 THREADS SECONDS   → prints "hashes N seconds S per_second R"
 */
#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M_KIB 19456 /* RK_IDENTITY_ARGON2_M_KIB */
#define T_COST 2
#define PARALLELISM 1

static double seconds;
static struct timespec start;

static double elapsed(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
}

static void *loop(void *arg)
{
    long *count = arg;
    const char password[] = "correct horse battery staple";
    unsigned char salt[16], tag[32];
    memset(salt, 0x5a, sizeof(salt));
    while (elapsed() < seconds) {
        salt[0]++;
        if (argon2id_hash_raw(T_COST, M_KIB, PARALLELISM, password, strlen(password), salt,
                              sizeof(salt), tag, sizeof(tag)) != ARGON2_OK) {
            fprintf(stderr, "oidc_argon2: argon2id_hash_raw failed\n");
            exit(1);
        }
        (*count)++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[1]) < 1 || atoi(argv[1]) > 64 || atof(argv[2]) <= 0) {
        fprintf(stderr, "usage: oidc_argon2 THREADS SECONDS\n");
        return 2;
    }
    int n = atoi(argv[1]);
    seconds = atof(argv[2]);
    pthread_t threads[64];
    long counts[64] = {0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < n; i++)
        if (pthread_create(&threads[i], NULL, loop, &counts[i]) != 0) {
            fprintf(stderr, "oidc_argon2: pthread_create failed\n");
            return 1;
        }
    long total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        total += counts[i];
    }
    double s = elapsed();
    printf("hashes %ld seconds %.3f per_second %.2f\n", total, s, (double)total / s);
    return 0;
}
