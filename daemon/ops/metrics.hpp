// Metrics: the daemon's counters in Prometheus' text exposition format (version 0.0.4), summed over workers.
//
// Counters are the workers' own, never reset, so rates come out right across scrapes; gauges are as of the scrape.
// A worker that did not answer in time is left out of the sums and counted in greenfinch_workers_unresponsive.
#pragma once

#include "cache/cache.hpp"
#include "daemon/ops/worker_stats.hpp"
#include "policy/policy_loader.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace greenfinch::daemon {

// The policy in force and how reloads went, which the main thread knows.
struct PolicyStatus {
    const policy::LoadedPolicy& loaded;
    double loaded_at = 0;  // Unix time
    std::uint64_t reloads = 0;
    std::uint64_t reloads_refused = 0;
};

std::string render_metrics(const std::vector<std::optional<WorkerStats>>& workers, const cache::CacheStats& memory,
                           const PolicyStatus& policy);

}  // namespace greenfinch::daemon
