// Worker: one thread with its own hub serving its share of the traffic.
//
// With `workers = N` the daemon binds every listen address N times with SO_REUSEPORT, so the kernel spreads
// clients over N sockets, and each Worker runs a hub with its own sockets, upstream and Resolver; the memory cache is
// shared, so a name one worker cached is a hit for all. Coalescing of in-flight queries is per worker (it lives on
// the worker's hub): a burst for one new name spread over N workers costs at most N upstream queries.
//
// A Worker is made on the thread it serves, and everything it owns lives on that thread's hub: the upstream, the
// Redis tier (with the Redis backend: a connection of its own behind the shared memory cache), the upstream routes (one
// per forward zone, daemon/resolve/upstream_routes.hpp), the resolver and a service per listening socket. serve() runs until its WorkerControl asks it to stop, then drains; meanwhile the main
// thread reaches it only through that control (collect_stats, reload, flush_shared, on the worker's own thread).
#pragma once

#include "cache/memory_cache.hpp"
#include "cache/redis_cache.hpp"
#include "cache/redis_client.hpp"
#include "core/engine/hub.hpp"
#include "daemon/ops/config.hpp"
#include "daemon/ops/worker_control.hpp"
#include "daemon/ops/worker_stats.hpp"
#include "daemon/resolve/resolver.hpp"
#include "daemon/serve/listeners.hpp"
#include "daemon/serve/tcp_service.hpp"
#include "daemon/serve/udp_service.hpp"
#include "policy/policy.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace greenfinch::daemon {

struct WorkerResult {
    std::uint64_t answered = 0;
    bool drained = true;  // every query in flight at the stop finished within the drain budget
};

class Worker final : public RunningWorker {
public:
    // Builds everything on the calling thread's new hub and starts serving `sockets` under `policy`, which every
    // worker shares.
    Worker(ConfigSnapshot config, policy::PolicySnapshot policy, cache::MemoryCache& cache,
           std::vector<ListenSockets> sockets);
    ~Worker() override;
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Serves until `control` asks for a stop; then stops reading and lets the queries in flight finish, for up to
    // 2 s over every listener together.
    WorkerResult serve(WorkerControl& control);

    WorkerStats collect_stats() const override;
    // What a reload may change in place: the resolver's options, serve-stale, the policy, and the upstream routes
    // (new ones when [upstream] or [[forward]] changed; an old one goes once its last query has left it).
    void reload(const ConfigSnapshot& next, const policy::PolicySnapshot& policy) override;
    void flush_shared(const std::optional<std::string>& name) override;

private:
    core::Hub hub_;  // first in, last out: everything below lives on it
    ConfigSnapshot config_;
    std::optional<cache::RedisClient> redis_;
    std::optional<cache::RedisCache> shared_;
    Resolver resolver_;
    Responder responder_;
    std::vector<std::unique_ptr<UdpService>> udp_;
    std::vector<std::unique_ptr<TcpService>> tcp_;
};

}  // namespace greenfinch::daemon
