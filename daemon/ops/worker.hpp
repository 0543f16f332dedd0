// Worker: one thread with its own hub serving its share of the traffic.
//
// With `workers = N` the daemon binds every listen address N times with SO_REUSEPORT, so the kernel spreads
// clients over N sockets, and each Worker runs a hub with its own sockets, c-ares channel and Resolver; the memory
// cache is shared, so a name one worker cached is a hit for all. Coalescing of in-flight queries is per worker (it
// lives on the worker's hub): a burst for one new name spread over N workers costs at most N upstream queries.
// The main thread keeps signals and the admin endpoint: it reaches each worker through WorkerControl, which hands
// requests (stop, collect statistics, reload, flush) to the worker's hub from any thread.
#pragma once

#include "cache/memory_cache.hpp"
#include "core/primitives/event.hpp"
#include "core/engine/hub.hpp"
#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"
#include "daemon/ops/config.hpp"
#include "daemon/serve/listeners.hpp"
#include "daemon/ops/worker_stats.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace greenfinch::daemon {

// What a running worker offers the main thread. Called only on the worker's own thread (through post()).
struct WorkerHooks {
    std::function<void(WorkerStats&)> collect;
    std::function<void(const Config&)> reload;
    // Drops one name (every type; `name` in presentation form) or, with nullopt, everything, from the shared cache
    // (Redis) if there is one. Parks the worker greenlet it runs in.
    std::function<void(const std::optional<std::string>& name)> flush_shared;
};

// Shared by the main thread and one worker; thread-safe.
class WorkerControl {
public:
    void request_stop();
    // Called by the worker, on its own thread, when its hub is up; returns true if a stop was already requested.
    bool attach(core::Hub& hub, core::Event& stop, WorkerHooks* hooks);
    void detach();
    // Runs `fn` with the worker's hooks in a new greenlet on the worker's hub (once it is up, if it is still
    // starting); false once the worker is stopping.
    bool post(std::function<void(WorkerHooks&)> fn);

private:
    void run_on_hub(std::function<void(WorkerHooks&)> fn);

    std::mutex mutex_;
    core::Hub* hub_ = nullptr;
    core::Event* stop_ = nullptr;
    WorkerHooks* hooks_ = nullptr;
    std::vector<std::function<void(WorkerHooks&)>> early_;
    bool stop_requested_ = false;
    bool detached_ = false;
};

struct WorkerResult {
    std::uint64_t answered = 0;
    bool drained = true;
};

// Runs one worker on the calling thread until its control asks it to stop; then drains (up to 2 s) and returns.
WorkerResult run_worker(const Config& config, cache::MemoryCache& cache, std::vector<ListenSockets> sockets,
                        WorkerControl& control);

}  // namespace greenfinch::daemon
