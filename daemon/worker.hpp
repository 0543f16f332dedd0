// Worker: one thread with its own hub serving its share of the traffic.
//
// With `workers = N` the daemon binds every listen address N times with SO_REUSEPORT, so the kernel spreads
// clients over N sockets, and each Worker runs a hub with its own sockets, c-ares channel and Resolver; the memory
// cache is shared, so a name one worker cached is a hit for all. Coalescing of in-flight queries is per worker (it
// lives on the worker's hub): a burst for one new name spread over N workers costs at most N upstream queries. The main thread keeps only signals: it asks each
// worker to stop through WorkerControl, which hands the request to the worker's hub from any thread.
#pragma once

#include "cache/memory_cache.hpp"
#include "core/event.hpp"
#include "core/hub.hpp"
#include "core/tcp.hpp"
#include "core/udp_socket.hpp"
#include "daemon/config.hpp"

#include <cstdint>
#include <mutex>
#include <vector>

namespace greenfinch::daemon {

// One listen address, bound for one worker.
struct ListenSockets {
    core::UdpSocket udp;
    core::TcpListener tcp;
};

// Binds every listen address `workers` times (SO_REUSEPORT when more than one); a port 0 is resolved by the first
// binding and reused by the others. Addresses that cannot be bound are logged and skipped; throws if none can.
std::vector<std::vector<ListenSockets>> bind_listeners(const std::vector<std::string>& listen, int workers);

// Shared by the main thread and one worker; thread-safe.
class WorkerControl {
public:
    void request_stop();
    // Called by the worker, on its own thread, when its hub is up; returns true if a stop was already requested.
    bool attach(core::Hub& hub, core::Event& stop);
    void detach();

private:
    std::mutex mutex_;
    core::Hub* hub_ = nullptr;
    core::Event* stop_ = nullptr;
    bool stop_requested_ = false;
};

struct WorkerResult {
    std::uint64_t answered = 0;
    bool drained = true;
};

// Runs one worker on the calling thread until its control asks it to stop; then drains (up to 2 s) and returns.
WorkerResult run_worker(const Config& config, cache::MemoryCache& cache, std::vector<ListenSockets> sockets,
                        WorkerControl& control);

}  // namespace greenfinch::daemon
