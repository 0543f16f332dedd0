// Micro-benchmarks of the runtime: what a greenlet per query costs.
//
// Targets (issue 2): a switch under 50 ns, spawn+join under 1 us, 100k parked greenlets under 16 KiB resident each.
// Run: build/bench/core_bench  (the 100k-greenlet case raises vm.max_map_count when run as root: every guarded stack
// takes two kernel mappings).
#include "core/engine/greenlet.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/queue.hpp"
#include "core/primitives/semaphore.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <fstream>
#include <vector>

using namespace greenfinch::core;
using namespace std::chrono_literals;

// One switch, measured as half of a main -> greenlet -> main round trip on the raw layer.
static void BM_RawSwitch(benchmark::State& state) {
    bool stop = false;
    auto g = make_raw_greenlet([&](std::any) -> std::any {
        while (!stop) RawGreenlet::main().switch_to();
        return {};
    });
    for (auto _ : state) {
        g->switch_to();
    }
    stop = true;
    g->switch_to();
    state.counters["ns_per_switch"] = benchmark::Counter(static_cast<double>(state.iterations()) * 2,
                                                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RawSwitch);

// spawn() a greenlet on the hub and join it: scheduling, a pooled coroutine, two switches, the link that wakes us.
static void BM_SpawnJoin(benchmark::State& state) {
    Hub hub;
    for (auto _ : state) {
        auto g = spawn([] { return 1; });
        g->join();
    }
}
BENCHMARK(BM_SpawnJoin);

// What the daemon pays per query greenlet: spawn a batch of 64 and let them all run to completion (no join).
static void BM_SpawnRunBatch64(benchmark::State& state) {
    Hub hub;
    int done = 0;
    for (auto _ : state) {
        for (int i = 0; i < 64; ++i) spawn([&done] { ++done; });
        sleep(0s);  // the 64 run, in order, before we are resumed
    }
    benchmark::DoNotOptimize(done);
    state.SetItemsProcessed(state.iterations() * 64);
    state.counters["ns_per_greenlet"] = benchmark::Counter(static_cast<double>(state.iterations()) * 64,
                                                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SpawnRunBatch64);

// Two greenlets handing control back and forth through Events: one wake-up per iteration.
static void BM_EventWake(benchmark::State& state) {
    Hub hub;
    Event ping;
    Event pong;
    bool stop = false;
    auto peer = spawn([&] {
        for (;;) {
            ping.wait();
            ping.clear();
            if (stop) return;
            pong.set();
        }
    });
    for (auto _ : state) {
        ping.set();
        pong.wait();
        pong.clear();
    }
    stop = true;
    ping.set();
    peer->join();
}
BENCHMARK(BM_EventWake);

// A request through one Queue and its reply through another.
static void BM_QueueRoundTrip(benchmark::State& state) {
    Hub hub;
    Queue<int> requests;
    Queue<int> replies;
    auto server = spawn([&] {
        for (;;) {
            int v = requests.get();
            if (v < 0) return;
            replies.put(v + 1);
        }
    });
    int i = 0;
    for (auto _ : state) {
        requests.put(i);
        benchmark::DoNotOptimize(i = replies.get());
    }
    requests.put(-1);
    server->join();
}
BENCHMARK(BM_QueueRoundTrip);

// A Semaphore(1) passed between two greenlets that each block on it in turn.
static void BM_SemaphoreHandoff(benchmark::State& state) {
    Hub hub;
    Semaphore sem(1);
    bool stop = false;
    sem.acquire();
    auto other = spawn([&] {
        while (!stop) {
            sem.acquire();
            sem.release();
            sleep(0s);
        }
    });
    sleep(0s);  // the other greenlet now blocks in acquire()
    for (auto _ : state) {
        sem.release();  // hand the unit to the waiter...
        sleep(0s);
        sem.acquire();  // ...and take it back once it released it
    }
    stop = true;
    sem.release();
    other->join();
}
BENCHMARK(BM_SemaphoreHandoff);

namespace {
long resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * ::sysconf(_SC_PAGESIZE);
}

void ensure_map_count(long wanted) {
    std::ifstream in("/proc/sys/vm/max_map_count");
    long current = 0;
    in >> current;
    if (current >= wanted) return;
    std::ofstream out("/proc/sys/vm/max_map_count");
    out << wanted;
}
}  // namespace

// Resident memory per parked greenlet: 100k greenlets each blocked on one Event.
static void BM_ParkedGreenletMemory(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    ensure_map_count(static_cast<long>(n) * 2 + 65536);
    for (auto _ : state) {
        Hub hub;
        Event release;
        std::vector<Ref<Greenlet>> gs;
        gs.reserve(n);
        const long before = resident_bytes();
        for (std::size_t i = 0; i < n; ++i) gs.push_back(spawn([&] { release.wait(); }));
        sleep(0s);  // all of them start and park
        const long after = resident_bytes();
        state.counters["parked"] = static_cast<double>(hub.live_greenlets());
        state.counters["bytes_per_greenlet"] = static_cast<double>(after - before) / static_cast<double>(n);
        release.set();
        joinall(std::vector<Ref<Greenlet>>(gs.begin(), gs.end()));
    }
}
BENCHMARK(BM_ParkedGreenletMemory)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
