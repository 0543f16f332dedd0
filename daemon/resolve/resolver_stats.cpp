#include "daemon/resolve/resolver_stats.hpp"

#include <algorithm>
#include <cstddef>

namespace greenfinch::daemon {

void ResolverStats::record_upstream_latency(double seconds) noexcept {
    seconds = std::max(seconds, 0.0);  // the hub's time follows the wall clock, which may be stepped back meanwhile
    std::size_t i = 0;
    while (i < kLatencyBounds.size() && seconds > kLatencyBounds[i]) ++i;
    ++upstream_latency[i];
    upstream_latency_sum += seconds;
}

ResolverStats& ResolverStats::operator+=(const ResolverStats& o) noexcept {
    queries += o.queries;
    cache_hits += o.cache_hits;
    cache_misses += o.cache_misses;
    shared_cache_hits += o.shared_cache_hits;
    stale_served += o.stale_served;
    prefetches += o.prefetches;
    coalesced += o.coalesced;
    flights_taken_over += o.flights_taken_over;
    upstream_queries += o.upstream_queries;
    upstream_failures += o.upstream_failures;
    upstream_timeouts += o.upstream_timeouts;
    servfail += o.servfail;
    formerr += o.formerr;
    dropped += o.dropped;
    local_answers += o.local_answers;
    special_answers += o.special_answers;
    blocked_answers += o.blocked_answers;
    cname_blocked += o.cname_blocked;
    rebind_filtered += o.rebind_filtered;
    rebind_records_removed += o.rebind_records_removed;
    for (std::size_t t = 0; t < responses.size(); ++t) {
        for (std::size_t r = 0; r < responses[t].size(); ++r) responses[t][r] += o.responses[t][r];
    }
    for (std::size_t i = 0; i < upstream_latency.size(); ++i) upstream_latency[i] += o.upstream_latency[i];
    upstream_latency_sum += o.upstream_latency_sum;
    return *this;
}

}  // namespace greenfinch::daemon
