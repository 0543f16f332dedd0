// Runtime behaviour that gevent's suite does not cover: C++ RAII on kill, the hub's own rules, threads, stacks.
#include "core/primitives/event.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/queue.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <thread>

using namespace greenfinch::core;
using namespace std::chrono_literals;

namespace {
struct Flag {
    bool& set;
    ~Flag() { set = true; }
};
}  // namespace

TEST_CASE("kill unwinds the greenlet's stack: destructors and catch blocks run") {
    Hub hub;
    bool destroyed = false;
    bool caught = false;
    Event parked;
    auto g = spawn([&] {
        Flag f{destroyed};
        try {
            parked.set();
            Event never;
            never.wait();
        } catch (const GreenletExit&) {
            caught = true;
            throw;
        }
    });
    parked.wait();
    g->kill();
    CHECK(g->ready());
    CHECK(g->successful());
    CHECK(g->killed());
    CHECK(destroyed);
    CHECK(caught);
}

TEST_CASE("GreenletExit and TimeoutExpired are not std::exceptions") {
    Hub hub;
    bool swallowed = false;
    auto g = spawn([&] {
        try {
            sleep(10s);
        } catch (const std::exception&) {
            swallowed = true;
        }
    });
    sleep(0s);
    g->kill();
    CHECK_FALSE(swallowed);
    CHECK(g->killed());

    bool timeout_swallowed = false;
    try {
        Timeout t(1ms);
        try {
            sleep(1s);
        } catch (const std::exception&) {
            timeout_swallowed = true;
        }
    } catch (const TimeoutExpired&) {
    }
    CHECK_FALSE(timeout_swallowed);
}

TEST_CASE("blocking on the hub's own stack is refused loudly") {
    Hub hub;
    std::string error;
    hub.set_error_handler([&](std::string_view, std::exception_ptr e) { error = describe(e); });
    bool reached = false;
    hub.run_callback([&] {
        sleep(10ms);
        reached = true;
    });
    hub.run();
    CHECK_FALSE(reached);
    CHECK(error.find("blocking function") != std::string::npos);
}

TEST_CASE("a greenlet's failure never unwinds its spawner and is reported once") {
    Hub hub;
    int reports = 0;
    hub.set_error_handler([&](std::string_view where, std::exception_ptr) {
        if (where == "greenlet") ++reports;
    });
    auto g = spawn([] { throw std::runtime_error("bad"); });
    g->join();
    sleep(0s);
    CHECK(reports == 1);
    CHECK_FALSE(g->successful());
    CHECK_THROWS_WITH(g->get(), "bad");
    CHECK_THROWS_WITH(g->get(), "bad");
    CHECK(reports == 1);
}

TEST_CASE("hub destruction unwinds greenlets still parked on it") {
    bool destroyed = false;
    {
        Hub hub;
        spawn([&] {
            Flag f{destroyed};
            Event never;
            never.wait();
        });
        sleep(0s);
        CHECK(hub.live_greenlets() == 1);
    }
    CHECK(destroyed);
}

TEST_CASE("a detached greenlet runs to completion without anyone holding it") {
    Hub hub;
    Event done;
    int result = 0;
    spawn([&] {
        sleep(1ms);
        result = 1;
        done.set();
    });
    done.wait();
    CHECK(result == 1);
    sleep(0s);
    CHECK(hub.live_greenlets() == 0);
}

TEST_CASE("another thread hands the hub a callback and wakes it (ev_async)") {
    Hub hub;
    Event woken;
    auto keep = hub.keep_alive();
    std::atomic<bool> started{false};
    std::thread other([&] {
        started = true;
        hub.post([&] { woken.set(); });
    });
    CHECK(woken.wait(5s));
    other.join();
    CHECK(started);
}

TEST_CASE("each thread runs its own hub independently") {
    std::atomic<int> total{0};
    auto worker = [&] {
        Hub hub;
        Queue<int> q;
        auto producer = spawn([&] {
            for (int i = 1; i <= 100; ++i) q.put(i);
        });
        int sum = 0;
        for (int i = 0; i < 100; ++i) sum += q.get();
        producer->join();
        total += sum;
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    CHECK(total == 2 * 5050);
}

TEST_CASE("a stack overflow faults on the guard page instead of corrupting memory") {
    // In a child process: recurse without bound inside a greenlet; it must die of SIGSEGV (or SIGBUS).
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::signal(SIGSEGV, SIG_DFL);  // undo a sanitizer's handler: we want the kernel's verdict
        std::signal(SIGBUS, SIG_DFL);
        Hub hub;
        auto g = spawn([] {
            struct Recurse {
                static int down(volatile char* prev, int depth) {
                    volatile char frame[512];
                    frame[0] = static_cast<char>(depth);
                    if (prev) frame[1] = prev[0];
                    // The bound is never reached: 64 KiB of stack runs out first.
                    return depth < (1 << 30) ? down(frame, depth + 1) + frame[1] : 0;
                }
            };
            return Recurse::down(nullptr, 0);
        });
        g->join();
        ::_exit(0);  // not reached
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK((WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS));
}

TEST_CASE("the guard page sits right below each pooled stack") {
    // Touching the byte below the lowest usable address must fault: checked in a child process.
    StackPool pool(StackPool::Config{64 * 1024, 4});
    auto sc = pool.allocate();
    char* low = static_cast<char*>(StackPool::lowest_usable(sc));
    low[0] = 1;  // the lowest usable byte is writable
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::signal(SIGSEGV, SIG_DFL);
        *(low - 1) = 1;
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    pool.deallocate(sc);
    CHECK(pool.free_count() == 1);
}

TEST_CASE("spawning in steady state takes stacks from the pool, mapping nothing new") {
    Hub hub;
    for (int i = 0; i < 10; ++i) spawn([] { sleep(0s); });
    sleep(0s);
    sleep(0s);
    const auto mapped = RawGreenlet::thread_stacks().mapped_count();
    for (int round = 0; round < 100; ++round) {
        std::vector<Ref<Greenlet>> gs;
        for (int i = 0; i < 10; ++i) gs.push_back(spawn([] { sleep(0s); }));
        joinall(gs);
    }
    CHECK(RawGreenlet::thread_stacks().mapped_count() == mapped);
}

TEST_CASE("Hub::run() returns on stop() even while timers are pending, and when nothing is left") {
    Hub hub;
    auto sleeper = spawn([] { sleep(10s); });
    spawn([&] { hub.stop(); });
    hub.run();  // would take 10 s without stop()
    CHECK_FALSE(sleeper->ready());
    sleeper->kill();
    int ran = 0;
    spawn([&] { ++ran; });
    hub.run();  // nothing but one short greenlet: returns once it is done
    CHECK(ran == 1);
    CHECK(hub.live_greenlets() == 0);
}

TEST_CASE("a blocked main greenlet that nothing can wake gets LoopExit") {
    Hub hub;
    Event never;
    CHECK_THROWS_AS(never.wait(), LoopExit);
}
