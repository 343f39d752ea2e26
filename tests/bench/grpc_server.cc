// grpc_server.cc — the reference for tests/bench/grpc: a minimal server on the C++ gRPC library
// (Debian grpc++ 1.51) implementing grpc.health.v1.Health/Check with the callback API. It
// answers SERVING for "" and "grpc.health.v1.Health" and NOT_FOUND for anything else, as
// renkeid does. Watch is left UNIMPLEMENTED (the benchmark does not call it).
//
// Built only by tests/bench/grpc, in a temporary folder, with the stubs protoc and
// grpc_cpp_plugin generate from proto/grpc/health/v1/health.proto at that moment.
//
// Usage: grpc_server PORT      listens on 127.0.0.1:PORT (h2c), prints "listening PORT",
//                              shuts down on SIGTERM or SIGINT.
// SO_REUSEPORT is switched off (gRPC sets it by default), so a second server on the same port
// fails instead of silently sharing it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <pthread.h>

#include "grpc/health/v1/health.grpc.pb.h"

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

class HealthService final : public Health::CallbackService {
    grpc::ServerUnaryReactor *Check(grpc::CallbackServerContext *ctx,
                                    const HealthCheckRequest *req,
                                    HealthCheckResponse *resp) override
    {
        grpc::ServerUnaryReactor *reactor = ctx->DefaultReactor();
        if (!req->service().empty() && req->service() != "grpc.health.v1.Health") {
            reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
            return reactor;
        }
        resp->set_status(HealthCheckResponse::SERVING);
        reactor->Finish(grpc::Status::OK);
        return reactor;
    }
};

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2 || std::atoi(argv[1]) <= 0) {
        std::fprintf(stderr, "usage: grpc_server PORT\n");
        return 2;
    }
    // Block the stop signals in every thread (gRPC's threads inherit the mask); main waits.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    std::string addr = std::string("127.0.0.1:") + argv[1];
    HealthService service;
    int bound = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(addr, grpc::InsecureServerCredentials(), &bound);
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || bound == 0) {
        std::fprintf(stderr, "grpc_server: cannot listen on %s\n", addr.c_str());
        return 1;
    }
    std::printf("listening %d\n", bound);
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    return 0;
}
