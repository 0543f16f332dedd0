#include "daemon/ops/worker_control.hpp"

#include "core/engine/greenlet.hpp"

#include <utility>

namespace greenfinch::daemon {

void WorkerControl::request_stop() {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    if (hub_) hub_->post([stop = stop_] { stop->set(); });
}

bool WorkerControl::attach(core::Hub& hub, core::Event& stop, RunningWorker& worker) {
    std::lock_guard lock(mutex_);
    hub_ = &hub;
    stop_ = &stop;
    worker_ = &worker;
    for (auto& fn : early_) run_on_hub(std::move(fn));
    early_.clear();
    return stop_requested_;
}

void WorkerControl::detach() {
    std::lock_guard lock(mutex_);
    detached_ = true;
    hub_ = nullptr;
    stop_ = nullptr;
    worker_ = nullptr;
}

bool WorkerControl::post(std::function<void(RunningWorker&)> fn) {
    std::lock_guard lock(mutex_);
    if (stop_requested_ || detached_) return false;
    if (!hub_) {
        early_.push_back(std::move(fn));  // the worker is still starting: it runs these once attached
        return true;
    }
    run_on_hub(std::move(fn));
    return true;
}

void WorkerControl::run_on_hub(std::function<void(RunningWorker&)> fn) {
    // The worker outlives anything run on its hub: it drains before it (and its hub) go.
    hub_->post([worker = worker_, fn = std::move(fn)] { core::spawn([worker, fn] { fn(*worker); }); });
}

}  // namespace greenfinch::daemon
