// WorkerStats: one worker's counters at one moment, copied on the worker's own thread (WorkerControl::post) so
// that the main thread never reads counters another thread is writing. Counters only grow; gauges are as of the copy.
#pragma once

#include "cache/cache.hpp"
#include "cache/redis_cache.hpp"
#include "cache/redis_client.hpp"
#include "daemon/resolve/resolver.hpp"
#include "daemon/serve/tcp_service.hpp"
#include "daemon/serve/udp_service.hpp"

#include <cstdint>

namespace greenfinch::daemon {

struct WorkerStats {
    Resolver::Stats resolver;
    UdpService::Stats udp;  // over every listener of the worker
    TcpService::Stats tcp;
    std::uint64_t upstream_in_flight = 0;
    std::uint64_t live_greenlets = 0;
    bool redis_configured = false;
    bool redis_up = false;
    cache::RedisClient::Stats redis;
    cache::RedisCache::Extra redis_values;
    cache::CacheStats redis_lookups;
};

}  // namespace greenfinch::daemon
