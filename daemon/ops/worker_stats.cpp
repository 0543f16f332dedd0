#include "daemon/ops/worker_stats.hpp"

#include <algorithm>

namespace greenfinch::daemon {

WorkerStats& WorkerStats::operator+=(const WorkerStats& o) {
    resolver += o.resolver;
    udp += o.udp;
    tcp += o.tcp;
    upstream_in_flight += o.upstream_in_flight;
    live_greenlets += o.live_greenlets;
    redis_configured = redis_configured || o.redis_configured;
    redis_up += o.redis_up;
    redis += o.redis;
    redis_values += o.redis_values;
    redis_lookups += o.redis_lookups;
    for (const auto& [zone, stats] : o.routes) {
        auto same = std::find_if(routes.begin(), routes.end(), [&](const auto& r) { return r.first == zone; });
        if (same == routes.end()) {
            routes.emplace_back(zone, stats);
        } else {
            same->second += stats;
        }
    }
    return *this;
}

WorkerTotals add_up(const std::vector<std::optional<WorkerStats>>& workers) {
    WorkerTotals t;
    t.workers = workers.size();
    for (const auto& w : workers) {
        if (!w) continue;
        ++t.answering;
        t.sum += *w;
    }
    return t;
}

}  // namespace greenfinch::daemon
