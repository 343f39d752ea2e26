/*
 * error.c — names for the RK_* return codes, for logs and API error bodies.
 */
#include "core/error.h"

const char *rk_error_name(int code)
{
    switch (code) {
    case RK_OK:
        return "ok";
    case RK_AGAIN:
        return "again";
    case RK_EINVAL:
        return "invalid";
    case RK_ENOTFOUND:
        return "not_found";
    case RK_EUNAVAILABLE:
        return "unavailable";
    case RK_ETIMEOUT:
        return "timeout";
    case RK_ETOOBIG:
        return "too_big";
    case RK_EIO:
        return "io";
    case RK_ECONFLICT:
        return "conflict";
    case RK_EDENIED:
        return "denied";
    case RK_ESHUTDOWN:
        return "shutdown";
    }
    return "unknown";
}
