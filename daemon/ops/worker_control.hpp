// WorkerControl: how the main thread reaches one worker's hub from its own thread.
//
// A worker attaches itself once its hub is up and detaches before it drains. post() hands a function to the
// worker's hub, where it runs in a greenlet of its own with the RunningWorker (what the main thread may ask of a
// worker: its statistics, a reload, a flush of the shared cache); a request posted while the worker is still starting
// waits for it to attach, one posted once it is stopping is refused. request_stop() wakes the worker's stop Event.
// Shared by the main thread and one worker; thread-safe.
#pragma once

#include "core/engine/hub.hpp"
#include "core/primitives/event.hpp"
#include "daemon/ops/config.hpp"
#include "daemon/ops/worker_stats.hpp"
#include "policy/policy.hpp"

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace greenfinch::daemon {

// What a running worker offers the main thread; called only on the worker's own thread (through post()).
class RunningWorker {
public:
    virtual ~RunningWorker() = default;
    virtual WorkerStats collect_stats() const = 0;
    virtual void reload(const ConfigSnapshot& next, const policy::PolicySnapshot& policy) = 0;
    // Drops one name (every type; `name` in presentation form) or, with nullopt, everything, from the shared cache
    // (Redis) if there is one. Parks the worker greenlet it runs in.
    virtual void flush_shared(const std::optional<std::string>& name) = 0;
};

class WorkerControl {
public:
    void request_stop();
    // Called by the worker, on its own thread, when its hub is up; returns true if a stop was already requested.
    bool attach(core::Hub& hub, core::Event& stop, RunningWorker& worker);
    void detach();
    // Runs `fn` with the worker in a new greenlet on the worker's hub (once it is up, if it is still starting);
    // false once the worker is stopping.
    bool post(std::function<void(RunningWorker&)> fn);

private:
    void run_on_hub(std::function<void(RunningWorker&)> fn);

    std::mutex mutex_;
    core::Hub* hub_ = nullptr;
    core::Event* stop_ = nullptr;
    RunningWorker* worker_ = nullptr;
    std::vector<std::function<void(RunningWorker&)>> early_;
    bool stop_requested_ = false;
    bool detached_ = false;
};

}  // namespace greenfinch::daemon
