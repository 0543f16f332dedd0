// Requests from the main thread to every worker: run something on each worker's hub and wait, on the calling
// greenlet (the main hub's), until all have done it or a timeout passes. A worker that does not answer in time
// (its hub stuck) is reported, never waited for: the watchdog and the metrics rely on that.
#pragma once

#include "daemon/ops/worker_control.hpp"
#include "daemon/ops/worker_stats.hpp"

#include <functional>
#include <optional>
#include <vector>

namespace greenfinch::daemon {

// Runs `fn(worker, index)` on every worker; returns, per worker, whether it finished within `timeout`.
std::vector<bool> on_every_worker(std::vector<WorkerControl>& workers,
                                  std::function<void(RunningWorker&, std::size_t index)> fn, core::Seconds timeout);

// Every worker's statistics; nullopt for a worker that did not answer within `timeout`.
std::vector<std::optional<WorkerStats>> collect_stats(std::vector<WorkerControl>& workers, core::Seconds timeout);

}  // namespace greenfinch::daemon
