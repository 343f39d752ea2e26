/*
 * request.c — request and response helpers shared by every front end and handler.
 */
#include "net/request.h"

#include "core/log.h"
#include "net/router.h"
#include "net/server.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <string.h>

static void free_evbuffer_cb(void *buf)
{
    evbuffer_free(buf);
}

rk_request_t *rk_request_new(struct rk_server *server)
{
    rk_arena_t *arena = rk_arena_new();
    rk_request_t *req = rk_arena_calloc(arena, 1, sizeof(*req));
    req->arena = arena;
    req->server = server;
    req->path = "/";
    req->query = "";
    req->peer = "";
    req->protocol = "HTTP/1.1";
    req->status = 200;
    req->started_ns = rk_now_ns();
    req->response_body = evbuffer_new();
    rk_arena_on_free(arena, free_evbuffer_cb, req->response_body);
    return req;
}

const char *rk_request_header(const rk_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

static void header_list_add(rk_arena_t *arena, rk_header_t **list, size_t *n, size_t *cap,
                            const char *name, const char *value)
{
    if (*n == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 8;
        rk_header_t *grown = rk_arena_alloc(arena, grown_cap * sizeof(*grown));
        if (*n)
            memcpy(grown, *list, *n * sizeof(*grown));
        *list = grown;
        *cap = grown_cap;
    }
    rk_header_t *h = &(*list)[(*n)++];
    h->name = rk_arena_strdup(arena, name);
    h->value = rk_arena_strdup(arena, value);
}

void rk_response_header(rk_request_t *req, const char *name, const char *value)
{
    header_list_add(req->arena, &req->response_headers, &req->n_response_headers,
                    &req->response_headers_cap, name, value);
}

void rk_response_trailer(rk_request_t *req, const char *name, const char *value)
{
    header_list_add(req->arena, &req->response_trailers, &req->n_response_trailers,
                    &req->response_trailers_cap, name, value);
}

void rk_response_set(rk_request_t *req, int status, const char *content_type, const void *body,
                     size_t len)
{
    req->status = status;
    if (content_type)
        rk_response_header(req, "content-type", content_type);
    evbuffer_drain(req->response_body, evbuffer_get_length(req->response_body));
    if (len)
        evbuffer_add(req->response_body, body, len);
}

void rk_response_error(rk_request_t *req, int status, const char *code, const char *message)
{
    json_t *obj = json_pack("{s:s, s:s}", "error", code, "message", message ? message : "");
    if (!obj) /* the message quoted client bytes that are not UTF-8 */
        obj = json_pack("{s:s, s:s}", "error", code, "message",
                        "the request holds text that is not valid UTF-8");
    char *text = json_dumps(obj, JSON_COMPACT);
    rk_response_set(req, status, "application/json", text, strlen(text));
    free(text);
    json_decref(obj);
}

void rk_response_stream_begin(rk_request_t *req)
{
    if (req->streaming)
        return;
    req->streaming = 1;
    if (req->transport)
        req->transport->stream_begin(req, req->transport_ctx);
}

void rk_response_stream_flush(rk_request_t *req)
{
    if (req->transport && req->streaming)
        req->transport->stream_flush(req, req->transport_ctx);
}

int rk_request_client_gone(const rk_request_t *req)
{
    return req->transport == NULL;
}

void rk_response_too_large(rk_request_t *req)
{
    if (req->route && req->route->too_large) {
        req->route->too_large(req);
        return;
    }
    const char *ct = rk_request_header(req, "content-type");
    if (ct && strncmp(ct, "application/grpc", 16) == 0) {
        req->status = 200;
        rk_response_header(req, "content-type", ct);
        rk_response_trailer(req, "grpc-status", "8");
        rk_response_trailer(req, "grpc-message", "the request message is larger than allowed");
        return;
    }
    rk_response_error(req, 413, "body_too_large", "the request body is larger than allowed");
}

void rk_request_send_early(rk_request_t *req)
{
    if (req->transport)
        req->transport->send(req, req->transport_ctx);
    rk_request_detach(req);
}

void rk_request_detach(rk_request_t *req)
{
    req->transport = NULL;
    req->transport_ctx = NULL;
}

void rk_request_finish(rk_request_t *req)
{
    rk_server_request_done(req->server, req);
    if (req->transport)
        req->transport->send(req, req->transport_ctx);
    rk_arena_free(req->arena);
}
