// ResolverOptions: what one Resolver and its parts are told, reconfigurable on reload (Resolver::reconfigure) except
// the clock, which stays as it was built. Budgets and upstream slots belong to each route (upstream_routes.hpp).
#pragma once

#include "cache/policy.hpp"
#include "core/engine/hub.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>

namespace greenfinch::daemon {

// The steady clock in seconds, for the query log's timings and the warnings' rate limit.
double steady_seconds() noexcept;
// Unix time in seconds, for what is stamped with the wall clock: Redis values, metrics' timestamps.
double wall_seconds() noexcept;
// The same clock as the kernel last ticked it (CLOCK_MONOTONIC_COARSE, a few ms behind at most): TTLs count whole
// seconds, and this read costs a fraction of a precise one. The default ResolverOptions::clock.
double coarse_steady_seconds() noexcept;

struct ResolverOptions {
    cache::CachePolicy policy;
    bool prefetch = true;
    std::size_t udp_payload = 1232;  // the largest UDP answer we send, whatever the client offers
    std::uint32_t stale_ttl = 30;    // the TTL a stale answer is served with
    double stale_recheck = 30;       // after a failed refresh, seconds its stale answer is served at once
    // RFC 8767's client response timer: seconds a client whose answer is stale waits for its refresh before it gets
    // the stale answer, the refresh going on in the background (0: at once). From the route's budget up, the client
    // waits out the refresh as it would for a miss.
    double stale_client_timeout = 1.8;
    bool log_queries = false;  // one info line per query: client, name, type, rcode, source, time
    // Monotonic seconds, the clock cache entries are stamped with; tests substitute their own.
    std::function<double()> clock = &coarse_steady_seconds;
};

}  // namespace greenfinch::daemon
