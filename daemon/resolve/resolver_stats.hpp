// ResolverStats: one resolver's counters, which the Resolver and its parts (UpstreamFetch, the flights) count into.
// Counters only grow. operator+= adds another worker's, so that totals are summed in one place.
#pragma once

#include <array>
#include <cstdint>

namespace greenfinch::daemon {

struct ResolverStats {
    std::uint64_t queries = 0;
    std::uint64_t cache_hits = 0;
    std::uint64_t cache_misses = 0;
    std::uint64_t shared_cache_hits = 0;  // memory misses the shared cache (Redis) answered
    std::uint64_t stale_served = 0;
    std::uint64_t prefetches = 0;
    std::uint64_t coalesced = 0;
    std::uint64_t flights_taken_over = 0;  // coalesced queries that asked again: their leader was gone first
    std::uint64_t upstream_queries = 0;
    std::uint64_t upstream_failures = 0;
    std::uint64_t upstream_timeouts = 0;
    std::uint64_t servfail = 0;
    std::uint64_t formerr = 0;
    std::uint64_t dropped = 0;
    std::uint64_t local_answers = 0;    // from the operator's local data
    std::uint64_t special_answers = 0;  // RFC 6303 / RFC 6761 names
    std::uint64_t blocked_answers = 0;  // names on a block list
    std::uint64_t cname_blocked = 0;    // upstream answers whose CNAME chain led to a blocked name
    std::uint64_t rebind_filtered = 0;  // upstream answers rebinding protection took records from
    std::uint64_t rebind_records_removed = 0;
    // Answers sent, by transport (Transport's value) and RCODE.
    std::array<std::array<std::uint64_t, 16>, 2> responses{};
    // Time from sending a query upstream to its answer (or failure): counts at or below each bound, then the total;
    // the sum in seconds. Prometheus' cumulative buckets come from these.
    static constexpr std::array<double, 11> kLatencyBounds{0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                           0.1,   0.2,   0.5,   1.0,  2.0};
    std::array<std::uint64_t, kLatencyBounds.size() + 1> upstream_latency{};
    double upstream_latency_sum = 0;

    void record_upstream_latency(double seconds) noexcept;
    ResolverStats& operator+=(const ResolverStats& other) noexcept;
};

}  // namespace greenfinch::daemon
