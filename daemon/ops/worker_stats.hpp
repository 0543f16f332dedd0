// WorkerStats: one worker's counters at one moment, copied on the worker's own thread (WorkerControl::post) so
// that the main thread never reads counters another thread is writing. Counters only grow; gauges are as of the copy.
// add_up() is the one place workers' figures are summed, for the metrics and the statistics log line alike.
#pragma once

#include "cache/cache.hpp"
#include "cache/redis_cache.hpp"
#include "cache/redis_client.hpp"
#include "daemon/resolve/resolver_stats.hpp"
#include "daemon/resolve/upstream_routes.hpp"
#include "daemon/serve/tcp_service.hpp"
#include "daemon/serve/udp_service.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace greenfinch::daemon {

struct WorkerStats {
    ResolverStats resolver;
    UdpService::Stats udp;  // over every listener of the worker
    TcpService::Stats tcp;
    std::uint64_t upstream_in_flight = 0;
    std::uint64_t live_greenlets = 0;
    bool redis_configured = false;
    std::uint64_t redis_up = 0;  // 1 while this worker's Redis connection is up; summed, the workers whose is
    cache::RedisClient::Stats redis;
    cache::RedisCache::Extra redis_values;
    cache::CacheStats redis_lookups;
    std::vector<std::pair<std::string, RouteStats>> routes;  // by zone ("." first), in the configuration's order

    WorkerStats& operator+=(const WorkerStats& other);  // routes are summed by zone name
};

struct WorkerTotals {
    WorkerStats sum;            // over the workers that answered
    std::size_t answering = 0;  // workers that answered in time
    std::size_t workers = 0;    // all of them
};

// `workers[i]` is nullopt for a worker that did not answer in time: it is left out of the sums, and counted.
WorkerTotals add_up(const std::vector<std::optional<WorkerStats>>& workers);

}  // namespace greenfinch::daemon
