/*
 * request.c — request and response helpers shared by every front end and handler.
 */
#include "net/request.h"

#include "core/log.h"
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

void rk_response_header(rk_request_t *req, const char *name, const char *value)
{
    if (req->n_response_headers == req->response_headers_cap) {
        size_t cap = req->response_headers_cap ? req->response_headers_cap * 2 : 8;
        rk_header_t *grown = rk_arena_alloc(req->arena, cap * sizeof(*grown));
        if (req->n_response_headers)
            memcpy(grown, req->response_headers,
                   req->n_response_headers * sizeof(*req->response_headers));
        req->response_headers = grown;
        req->response_headers_cap = cap;
    }
    rk_header_t *h = &req->response_headers[req->n_response_headers++];
    h->name = rk_arena_strdup(req->arena, name);
    h->value = rk_arena_strdup(req->arena, value);
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
    char *text = json_dumps(obj, JSON_COMPACT);
    rk_response_set(req, status, "application/json", text, strlen(text));
    free(text);
    json_decref(obj);
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
