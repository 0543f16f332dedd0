#include "daemon/worker_requests.hpp"

#include "core/event.hpp"

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
                                  std::function<void(WorkerHooks&, std::size_t index)> fn, core::Seconds timeout) {
    auto g = std::make_shared<Gather>();
    g->finished.assign(workers.size(), false);
    g->main = &core::Hub::current();
    core::Event done;
    g->done = &done;
    struct Leave {
        Gather& g;
        ~Leave() { g.done = nullptr; }
    } leave{*g};
    for (std::size_t i = 0; i < workers.size(); ++i) {
        {
            std::lock_guard lock(g->mutex);
            ++g->pending;
        }
        const bool posted = workers[i].post([g, fn, i](WorkerHooks& hooks) {
            fn(hooks, i);
            std::lock_guard lock(g->mutex);
            g->finished[i] = true;
            if (--g->pending == 0) {
                g->main->post([g] {
                    if (g->done) g->done->set();
                });
            }
        });
        if (!posted) {
            std::lock_guard lock(g->mutex);
            --g->pending;
        }
    }
    {
        std::lock_guard lock(g->mutex);
        if (g->pending == 0) return g->finished;
    }
    done.wait(timeout);
    std::lock_guard lock(g->mutex);
    return g->finished;
}

std::vector<std::optional<WorkerStats>> collect_stats(std::vector<WorkerControl>& workers, core::Seconds timeout) {
    // Each worker fills its own slot; a late one writes into this shared copy after we have stopped looking.
    auto slots = std::make_shared<std::vector<WorkerStats>>(workers.size());
    const std::vector<bool> finished = on_every_worker(
        workers, [slots](WorkerHooks& hooks, std::size_t i) { hooks.collect((*slots)[i]); }, timeout);
    std::vector<std::optional<WorkerStats>> out(workers.size());
    for (std::size_t i = 0; i < workers.size(); ++i) {
        if (finished[i]) out[i] = (*slots)[i];
    }
    return out;
}

}  // namespace greenfinch::daemon
