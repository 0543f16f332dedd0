// The hub's own rules that gevent's suite does not cover: no blocking on its stack, destruction that unwinds what is
// parked, callbacks posted from other threads, one hub per thread, run() and LoopExit.
#include "core/engine/hub.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/queue.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using namespace greenfinch::core;
using namespace std::chrono_literals;

using greenfinch::test::Flag;

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

TEST_CASE("hub destruction runs nothing else while it unwinds, and does not wait for a greenlet that parks again") {
    const auto t0 = std::chrono::steady_clock::now();
    int ticks_during_destruction = 0;
    bool unwinding = false;
    bool destructor_ran = false;
    {
        Hub hub;
        spawn([&] {
            Flag f{destructor_ran};
            try {
                sleep(10s);
            } catch (const GreenletExit&) {
                unwinding = true;
                sleep(300ms);  // parks again in its handler: not waited for, its stack is unwound by force
                throw;
            }
        });
        spawn([&] {
            for (;;) {
                sleep(10ms);
                if (unwinding) ++ticks_during_destruction;
            }
        });
        sleep(20ms);
    }
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.25);
    CHECK(ticks_during_destruction == 0);
    CHECK(destructor_ran);
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
