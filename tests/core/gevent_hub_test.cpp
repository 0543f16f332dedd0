// Ports of gevent's hub behaviour (test__hub, test__signal, hub.py) to greenfinch's runtime; numbers refer to the
// table in docs/runtime.md ("Tested against gevent").
//
// C++ deviations from gevent:
// - gevent's Waiter (switch/throw/get mailbox) has no public counterpart; #55 is ported on the two things that play
//   its role here: AsyncResult as a one-shot mailbox, and Hub::ParkTicket/resume_later (a wake-up queued before the
//   park is not lost, a stale one wakes nothing).
// - A libev C callback must not throw (nothing may unwind through libev), so #54's failing timer fails through a hub
//   callback it schedules.
// - signal_handler(SIGALRM, 1) (non-callable) is SignalHandler with an empty function: std::invalid_argument.
#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/io/signal.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/queue.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/time.h>

#include <chrono>
#include <csignal>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace greenfinch::core;
using namespace greenfinch::test;
using namespace std::chrono_literals;

namespace {

struct ExpectedException : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One SIGALRM after `seconds` (gevent: signal.alarm(1)).
void alarm_in(double seconds) {
    itimerval it{};
    it.it_value.tv_sec = static_cast<time_t>(seconds);
    it.it_value.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(it.it_value.tv_sec)) * 1e6);
    REQUIRE(setitimer(ITIMER_REAL, &it, nullptr) == 0);
}

}  // namespace

TEST_CASE("test__hub TestExceptionInMainloop test_sleep: an error in the loop is reported and the hub goes on [#54]",
          "[gevent][hub]") {
    Hub hub;
    ErrorLog errors(hub);
    static constexpr double DELAY = 0.05;
    auto timed_sleep = [] {
        const auto t0 = Clock::now();
        sleep(Seconds(DELAY));
        return since(t0);
    };
    double delay = timed_sleep();
    CHECK(delay >= DELAY * 0.9);
    CHECK(delay < DELAY + 0.2);

    // A 1 ms timer whose work fails.
    ev_timer t;
    ev_timer_init(
        &t,
        [](struct ev_loop*, ev_timer* w, int) {
            static_cast<Hub*>(w->data)->run_callback(
                [] { throw ExpectedException("TestExceptionInMainloop.test_sleep/fail"); });
        },
        0.001, 0.);
    t.data = &hub;
    ev_timer_start(hub.loop(), &t);

    delay = timed_sleep();
    ev_timer_stop(hub.loop(), &t);
    CHECK(delay >= DELAY * 0.9);
    CHECK(delay < DELAY + 0.2);
    REQUIRE(errors.entries.size() == 1);  // expect_one_error()
    CHECK(errors.entries[0].first == "callback");
    CHECK(errors.entries[0].second == "TestExceptionInMainloop.test_sleep/fail");

    // Same for a callback scheduled directly, and for a failing rawlink: reported, the loop goes on.
    hub.run_callback([] { throw ExpectedException("callback"); });
    auto g = spawn([] { return 1; });
    g->rawlink([](Greenlet&) { throw ExpectedException("rawlink"); });
    delay = timed_sleep();
    CHECK(delay >= DELAY * 0.9);
    CHECK(delay < DELAY + 0.2);
    CHECK(errors.entries.size() == 3);
    CHECK(g->get() == 1);
}

TEST_CASE("test__hub TestWaiter test: a wake-up that comes before the wait is stored, not lost [#55]",
          "[gevent][hub]") {
    Hub hub;
    SECTION("switch(25) then get() == 25 (AsyncResult as the one-shot mailbox)") {
        AsyncResult<int> waiter;
        waiter.set(25);
        CHECK(waiter.get() == 25);
    }
    SECTION("throw(ZeroDivisionError) then get() raises") {
        AsyncResult<int> waiter;
        waiter.set_exception(std::make_exception_ptr(std::domain_error("ZeroDivisionError")));
        CHECK_THROWS_AS(waiter.get(), std::domain_error);
    }
    SECTION("a greenlet waiting in get() is woken, and can be killed while waiting") {
        AsyncResult<int> waiter;
        auto g = spawn([&waiter] { return waiter.get(); });
        sleep(0s);
        CHECK_FALSE(g->ready());
        g->kill();
        CHECK(g->killed());
    }
    SECTION("ParkTicket: resume_later() before switch_out() is not lost; a stale ticket wakes nothing") {
        auto ticket = Hub::ticket();
        hub.resume_later(ticket);
        const auto t0 = Clock::now();
        hub.switch_out();  // returns: the wake-up was queued before the park
        CHECK(since(t0) < 0.5);
        // That park is over, so the ticket is stale: it must not end a later park early.
        hub.resume_later(ticket);
        constexpr double T = 0.03;
        const auto t1 = Clock::now();
        CHECK_FALSE(hub.park(Seconds(T)));  // false: ran to its timeout
        CHECK(since(t1) >= T * 0.9);
    }
}

TEST_CASE(
    "test__signal TestSignal test_alarm / test_handler: an exception escaping a signal handler is raised in "
    "main [#56]",
    "[gevent][hub]") {
    Hub hub;
    ErrorLog errors(hub);
    // test_handler: a handler that is not callable is refused
    CHECK_THROWS_AS(SignalHandler(SIGALRM, SmallFunction<void()>{}), std::invalid_argument);

    int calls = 0;
    SignalHandler sig(SIGALRM, [&calls] {
        ++calls;
        throw ExpectedException("TestSignal");
    });
    // sig.ref is False: the watcher alone does not keep the loop alive
    const auto t0 = Clock::now();
    hub.run();
    CHECK(since(t0) < 0.5);

    // test(), twice: also check that the handler stays installed
    for (int round = 1; round <= 2; ++round) {
        CAPTURE(round);
        alarm_in(0.02);  // gevent: signal.alarm(1)
        const auto t1 = Clock::now();
        std::string raised;
        try {
            sleep(2s);
        } catch (const ExpectedException& ex) {
            raised = ex.what();
        }
        CHECK(raised == "TestSignal");
        CHECK(since(t1) < 1.5);
        CHECK(calls == round);
    }
    REQUIRE(errors.entries.size() == 2);
    CHECK(errors.entries[0].first == "signal handler");

    // The same exception stops Hub::run() in main ("how a fatal handler failure stops Hub::run()").
    auto keeper = spawn([] { sleep(2s); });  // keeps the loop alive
    alarm_in(0.02);
    const auto t2 = Clock::now();
    std::string raised;
    try {
        hub.run();
    } catch (const ExpectedException& ex) {
        raised = ex.what();
    }
    CHECK(raised == "TestSignal");
    CHECK(since(t2) < 1.5);
    CHECK(calls == 3);
    keeper->kill();
    CHECK(keeper->killed());
}

TEST_CASE("hub.py Hub.switch: a blocking call in a hub callback raises BlockingSwitchOutError [§1.1]",
          "[gevent][hub]") {
    Hub hub;
    std::vector<std::string> caught;
    auto expect_blocking_error = [&caught](const char* what, auto&& fn) {
        try {
            fn();
            caught.push_back(std::string(what) + ": no error");
        } catch (const BlockingSwitchOutError&) {
            caught.push_back(what);
        }
    };
    Event e;
    Queue<int> q;
    hub.run_callback([&] {
        expect_blocking_error("sleep(0)", [] { sleep(0s); });
        expect_blocking_error("sleep(T)", [] { sleep(10ms); });
        expect_blocking_error("Event::wait", [&e] { e.wait(); });
        expect_blocking_error("Queue::get", [&q] { q.get(); });
        expect_blocking_error("Timeout", [] { Timeout t(1s); });
    });
    Event never;
    auto other = spawn([&never] { never.wait(); });
    auto g = spawn([] { return 1; });
    // rawlinks run on the hub: joining an unfinished greenlet there must raise too
    g->rawlink([&](Greenlet&) { expect_blocking_error("join in rawlink", [&other] { other->join(); }); });
    REQUIRE(g->join(1s));
    sleep(0s);
    CHECK(caught ==
          std::vector<std::string>{"sleep(0)", "sleep(T)", "Event::wait", "Queue::get", "Timeout", "join in rawlink"});
    CHECK(other->alive());  // the failed join left no link behind that could misfire
    other->kill();
    CHECK(other->killed());
}

TEST_CASE("hub.py Hub.run / gevent.wait(): run() returns once nothing is left that could wake anything [§1.1]",
          "[gevent][hub]") {
    Hub hub;
    std::vector<int> order;
    spawn([&order] {
        sleep(20ms);
        order.push_back(2);
    });
    spawn([&order] {
        sleep(0s);
        order.push_back(1);
    });
    const auto t0 = Clock::now();
    hub.run();
    CHECK(since(t0) >= 0.018);
    CHECK(order == std::vector<int>{1, 2});
    CHECK(hub.live_greenlets() == 0);
    hub.run();  // nothing left: returns at once
    CHECK(since(t0) < 0.5);
}
