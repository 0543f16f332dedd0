#include "daemon/ops/worker_requests.hpp"

#include "core/primitives/event.hpp"

#include <memory>
#include <mutex>

namespace greenfinch::daemon {

namespace {
// What the waiting greenlet and the workers share; it outlives whichever side finishes last.
struct Gather {
    std::mutex mutex;
    std::vector<bool> finished;
    std::size_t pending = 0;
    core::Hub* main = nullptr;
    core::Event* done = nullptr;  // touched on the main hub's thread only; null once the waiter left
};
}  // namespace

std::vector<bool> on_every_worker(std::vector<WorkerControl>& workers,
                                  std::function<void(RunningWorker&, std::size_t index)> fn, core::Seconds timeout) {
    auto g = std::make_shared<Gather>();
    g->finished.assign(workers.size(), false);
    g->main = &core::Hub::current();
    core::Event done;
    g->done = &done;
    struct Leave {
        Gather& g;
        ~Leave() { g.done = nullptr; }
    } leave{*g};
    // Count every worker before posting to any: a fast worker must not bring the count to zero while later ones
    // are still to be asked.
    if (workers.empty()) return {};
    g->pending = workers.size();
    auto finish_one = [](const std::shared_ptr<Gather>& gather) {  // with gather->mutex held
        if (--gather->pending == 0) {
            gather->main->post([gather] {
                if (gather->done) gather->done->set();
            });
        }
    };
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const bool posted = workers[i].post([g, fn, i, finish_one](RunningWorker& worker) {
            fn(worker, i);
            std::lock_guard lock(g->mutex);
            g->finished[i] = true;
            finish_one(g);
        });
        if (!posted) {
            std::lock_guard lock(g->mutex);
            finish_one(g);
        }
    }
    done.wait(timeout);
    std::lock_guard lock(g->mutex);
    return g->finished;
}

std::vector<std::optional<WorkerStats>> collect_stats(std::vector<WorkerControl>& workers, core::Seconds timeout) {
    // Each worker fills its own slot; a late one writes into this shared copy after we have stopped looking.
    auto slots = std::make_shared<std::vector<WorkerStats>>(workers.size());
    const std::vector<bool> finished = on_every_worker(
        workers, [slots](RunningWorker& worker, std::size_t i) { (*slots)[i] = worker.collect_stats(); }, timeout);
    std::vector<std::optional<WorkerStats>> out(workers.size());
    for (std::size_t i = 0; i < workers.size(); ++i) {
        if (finished[i]) out[i] = (*slots)[i];
    }
    return out;
}

}  // namespace greenfinch::daemon
