/*
 * connect.h — a blocking libpq connection for start-up work (migrations, loading tenants),
 * before the event loop runs. Never used on the loop: that is pool.h's job.
 */
#ifndef RK_STORE_CONNECT_H
#define RK_STORE_CONNECT_H

#include <libpq-fe.h>
#include <stddef.h>

/**
 * Connects, retrying every 200 ms while PostgreSQL is starting or not yet reachable, for at
 * most timeout_ms. Returns the connection (the caller PQfinish()es it) or NULL with err set.
 */
PGconn *rk_store_connect_blocking(const char *conninfo, int timeout_ms, char *err, size_t err_len);

#endif
