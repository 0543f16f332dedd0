// Ports of gevent's Event / AsyncResult behaviour (test__event) to greenfinch's runtime; numbers refer to the table in
// docs/runtime.md ("Tested against gevent").
//
// C++ deviations from gevent:
// - There is no multi-object gevent.wait()/iwait(); "wait([e], timeout)" is ported as e.wait(timeout).
// - AsyncResult::get(block=false) throws TimeoutExpired{0}; a firing Timeout raises TimeoutExpired{id}.
// - AsyncResult has no rawlink()/linkcount().
#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/event.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace greenfinch::core;
using namespace greenfinch::test;
using namespace std::chrono_literals;

namespace {

struct MyException : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace

TEST_CASE("test__event test_set: a zero Timeout fires before a later set() [#25]", "[gevent][event]") {
    Hub hub;
    AsyncResult<std::string> event1;
    auto timer_exc = std::make_exception_ptr(MyException("interrupted"));
    const void* timer_exc_address = nullptr;
    try {
        std::rethrow_exception(timer_exc);
    } catch (const MyException& e) {
        timer_exc_address = &e;
    }
    auto g = spawn_later(0.2s, [&event1] { event1.set("hello event1"); });
    const void* caught = nullptr;
    const auto t0 = Clock::now();
    try {
        Timeout t(0s, timer_exc);
        event1.get();
    } catch (const MyException& e) {
        caught = &e;
    }
    CHECK(caught == timer_exc_address);  // assertIs(timer_exc, exc.exception)
    CHECK(since(t0) < 0.15);
    CHECK_FALSE(event1.ready());
    g->kill();
}

TEST_CASE("test__event TestEvent_SetThenClear (N=1/100/1000): set() then clear() still wakes every waiter [#27]",
          "[gevent][event]") {
    for (int n : {1, 100, 1000}) {
        CAPTURE(n);
        Hub hub;
        Event e;
        std::vector<Ref<Greenlet>> waiters;
        std::vector<GreenletPtr<bool>> typed;
        for (int i = 0; i < n; ++i) {
            typed.push_back(spawn([&e] { return e.wait(); }));
            waiters.push_back(typed.back());
        }
        sleep(0s);  // gevent: sleep(0.001); every waiter is parked in wait()
        e.set();
        e.clear();
        auto done = joinall(waiters, 5s);
        REQUIRE(done.size() == static_cast<std::size_t>(n));
        int returned_true = 0;
        for (auto& g : typed) returned_true += g->get() ? 1 : 0;
        CHECK(returned_true == n);
    }
}

TEST_CASE(
    "test__event TestEventBasics test_wait_while_notifying: a wait() during notification needs no loop "
    "iteration [#28]",
    "[gevent][event]") {
    Hub hub;
    Event event;
    std::vector<int> results;
    auto wait_then_append = [&](int arg) {
        event.wait();
        results.push_back(arg);
    };
    spawn(wait_then_append, 1);
    spawn(wait_then_append, 2);
    sleep(0s);  // gevent.idle(): both are waiting
    ev_check check;
    ev_check_init(&check,
                  [](struct ev_loop*, ev_check* w, int) { static_cast<std::vector<int>*>(w->data)->push_back(4); });
    check.data = &results;
    ev_check_start(hub.loop(), &check);
    const auto iterations = hub.loop_iterations();
    event.set();
    wait_then_append(3);
    CHECK(results == std::vector<int>{1, 2, 3});
    // Note that the check watcher DID NOT run: no trip around the event loop.
    CHECK(hub.loop_iterations() == iterations);
    ev_check_stop(hub.loop(), &check);
}

TEST_CASE(
    "test__event TestGeventWaitOnEvent test_set_during_wait (issue 771): after clear() a wait times out "
    "[#29]",
    "[gevent][event]") {
    Hub hub;
    Event event;
    bool res = false, ready_after_wait = false, ready_after_clear = true, second_wait = true, ready_at_end = true;
    auto waiter = spawn([&] {
        auto s = spawn([&event] { event.set(); });
        // let the setter set() the event; when wait() returns we run inside the notification callback
        res = event.wait();
        ready_after_wait = event.is_set();
        s->join();  // make sure it's dead
        // Clear the event. Now we can't wait for the event without another set to happen.
        event.clear();
        ready_after_clear = event.is_set();
        // C++: no gevent.wait([e], timeout); Event::wait(timeout) stands for it (false = "e not in the result").
        second_wait = event.wait(0.01s);
        ready_at_end = event.is_set();
    });
    REQUIRE(waiter->join(2s));
    CHECK(res);
    CHECK(ready_after_wait);
    CHECK_FALSE(ready_after_clear);
    CHECK_FALSE(second_wait);
    CHECK_FALSE(ready_at_end);
}

TEST_CASE("test__event TestEventWait / TestAsyncResultWait / TestAsyncResultGet: waits time out after about T [#30]",
          "[gevent][event]") {
    Hub hub;
    constexpr double T = 0.03;
    SECTION("Event().wait(timeout) returns false") {
        Event e;
        const auto t0 = Clock::now();
        CHECK_FALSE(e.wait(Seconds(T)));
        const double elapsed = since(t0);
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
    }
    SECTION("AsyncResult().wait(timeout) returns not ready") {
        AsyncResult<int> ar;
        const auto t0 = Clock::now();
        CHECK_FALSE(ar.wait(Seconds(T)));
        const double elapsed = since(t0);
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
    }
    SECTION("AsyncResult().get(timeout) raises a timeout") {
        AsyncResult<int> ar;
        const auto t0 = Clock::now();
        CHECK_THROWS_AS(ar.get_for(Seconds(T)), TimeoutExpired);
        const double elapsed = since(t0);
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
    }
    SECTION("AsyncResult get: the caller's Timeout instance is not lost") {
        AsyncResult<int> ar;
        Timeout outer(1ms);
        bool owned = false;
        try {
            ar.get_for(1s);
        } catch (const TimeoutExpired& e) {
            owned = outer.owns(e);
        }
        CHECK(owned);
    }
    SECTION("test_set_with_timeout: with_timeout(get) returns the fallback") {
        AsyncResult<int> event2;
        CHECK(with_timeout(
                  Seconds(T), [&] { return event2.get(); }, -1) == -1);
    }
    SECTION("a set Event returns true at once") {
        Event e;
        e.set();
        const auto t0 = Clock::now();
        CHECK(e.wait(Seconds(T)));
        CHECK(since(t0) < T);
    }
}

TEST_CASE("test__event TestAsyncResult test_set_exc: the waiter catches the very exception object [#31]",
          "[gevent][event]") {
    Hub hub;
    std::vector<std::pair<std::string, const void*>> log;
    AsyncResult<int> e;
    CHECK_FALSE(e.exception());
    auto waiter = spawn([&] {
        try {
            e.get();
        } catch (const MyException& exc) {
            log.emplace_back("caught", &exc);
        }
    });
    auto obj = std::make_exception_ptr(MyException("obj"));
    e.set_exception(obj);
    sleep(0s);
    REQUIRE(log.size() == 1);
    const void* obj_address = nullptr;
    try {
        std::rethrow_exception(obj);
    } catch (const MyException& exc) {
        obj_address = &exc;
    }
    CHECK(log[0].first == "caught");
    CHECK(log[0].second == obj_address);
    CHECK(e.ready());
    CHECK_FALSE(e.successful());
    CHECK(e.exception() == obj);
    CHECK(waiter->ready());
}

TEST_CASE("test__event: Event waiters wake in the order they started waiting [§1.6]", "[gevent][event]") {
    Hub hub;
    Event e;
    std::vector<int> order;
    std::vector<Ref<Greenlet>> gs;
    for (int i = 0; i < 5; ++i) {
        gs.push_back(spawn([&e, &order, i] {
            e.wait();
            order.push_back(i);
        }));
    }
    sleep(0s);
    e.set();
    CHECK(order.empty());  // set() never switches: notification is deferred
    joinall(gs, 2s);
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}
