// Ports of gevent's greenlet behaviour (test__order, test__api, test__greenlet, test__joinall) to greenfinch's
// runtime; numbers refer to the table in docs/runtime.md ("Tested against gevent").
//
// C++ deviations from gevent, tested as such:
// - get() on a greenlet killed with GreenletExit throws GreenletKilled (gevent returns the GreenletExit instance).
// - get(block=false) on an unfinished greenlet throws TimeoutExpired{0} (gevent raises a fresh Timeout()).
// - join() returns bool (gevent returns None).
// - gevent's `bool(g)` / `started` is alive(); RawGreenlet::started() means "has been switched into".
#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/event.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace greenfinch::core;
using namespace greenfinch::test;
using namespace std::chrono_literals;

namespace {

struct ExpectedError : std::runtime_error {
    ExpectedError(const std::string& what, int attr = 0) : std::runtime_error(what), myattr(attr) {}
    int myattr;
};

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

}  // namespace

TEST_CASE("test__order TestSleep0: spawned greenlets interleave at sleep(0) [#1]", "[gevent][greenlet]") {
    Hub hub;
    std::vector<std::string> lst;
    auto sleep0 = [&lst](std::string param) {
        lst.push_back(param + "A");
        sleep(0s);
        lst.push_back(param + "B");
    };
    auto g1 = spawn(sleep0, std::string("1"));
    auto g2 = spawn(sleep0, std::string("2"));
    CHECK(lst.empty());  // spawned greenlets start only once the spawner yields
    hub.run();           // gevent.wait()
    CHECK(joined(lst) == "1A 2A 1B 2B");
    CHECK(g1->ready());
    CHECK(g2->ready());
}

TEST_CASE(
    "test__api TestTimers test_timer_fired / test_spawn_is_not_cancelled: spawn is deferred, a child outlives "
    "its parent [#2]",
    "[gevent][greenlet]") {
    Hub hub;
    SECTION("test_timer_fired") {
        std::vector<int> lst{1};
        bool func_ran = false;
        auto func = spawn([&] {
            func_ran = true;
            auto popper = spawn_later(10ms, [&] { lst.pop_back(); });
            sleep(20ms);
            return popper;
        });
        CHECK_FALSE(func_ran);  // "Func has not run yet"
        CHECK(lst == std::vector<int>{1});
        sleep(0s);  // run callbacks but do not wait
        CHECK(func_ran);
        GreenletPtr<void> popper = func->get();  // gevent: sleep(0.1), then the timer has fired
        REQUIRE(popper->join(2s));
        CHECK(lst.empty());
    }
    SECTION("test_spawn_is_not_cancelled") {
        std::vector<int> lst{1};
        Event popped;
        auto func = spawn([&] {
            spawn([&] {
                lst.pop_back();
                popped.set();
            });
            // exiting immediately, but lst.pop must still be called
        });
        REQUIRE(func->join(2s));
        REQUIRE(popped.wait(2s));
        CHECK(lst.empty());
    }
}

TEST_CASE(
    "test__order test_greenlet_link (Test/Test3/Test4/TestM): links run in registration order, before join() "
    "returns [#3]",
    "[gevent][greenlet]") {
    for (int count : {2, 3, 4, 1000}) {
        CAPTURE(count);
        Hub hub;
        std::vector<int> lst;
        auto g = spawn([&lst] { lst.push_back(0); });
        for (int i = 1; i < count; ++i) g->link([&lst, i](Greenlet&) { lst.push_back(i); });
        REQUIRE(g->join(2s));
        std::vector<int> expected(static_cast<std::size_t>(count));
        std::iota(expected.begin(), expected.end(), 0);
        CHECK(lst == expected);
    }
}

TEST_CASE("test__greenlet TestBasic test_simple_exit: the greenlet state table [#5]", "[gevent][greenlet]") {
    Hub hub;
    std::vector<Greenlet*> link_test;
    auto g = make_greenlet(
        [](Seconds delay, int return_value) {
            sleep(delay);
            return return_value;
        },
        Seconds(0.01), 5);
    g->rawlink([&link_test](Greenlet& gr) { link_test.push_back(&gr); });

    // created
    CHECK_FALSE(g->alive());
    CHECK_FALSE(g->dead());
    CHECK_FALSE(g->started());
    CHECK_FALSE(g->ready());
    CHECK_FALSE(g->successful());
    CHECK_FALSE(g->value().has_value());
    CHECK_FALSE(g->exception());

    g->start();
    CHECK(g->alive());  // changed
    CHECK_FALSE(g->dead());
    CHECK_FALSE(g->ready());
    CHECK_FALSE(g->successful());
    CHECK_FALSE(g->value().has_value());
    CHECK_FALSE(g->exception());

    sleep(0s);  // gevent: sleep(0.001); the start callback runs before this yield returns
    CHECK(g->alive());
    CHECK(g->started());
    CHECK_FALSE(g->dead());
    CHECK_FALSE(g->ready());
    CHECK_FALSE(g->successful());
    CHECK_FALSE(g->value().has_value());
    CHECK_FALSE(g->exception());
    CHECK(link_test.empty());

    REQUIRE(g->join(2s));     // gevent: sleep(0.02)
    CHECK_FALSE(g->alive());  // changed
    CHECK(g->dead());         // changed
    CHECK(g->ready());        // changed
    CHECK(g->successful());   // changed
    REQUIRE(g->value().has_value());
    CHECK(*g->value() == 5);  // changed
    CHECK_FALSE(g->exception());
    CHECK(g->get() == 5);
    CHECK(link_test == std::vector<Greenlet*>{g.get()});
    sleep(0s);
    CHECK(link_test.size() == 1);  // the link fires once
}

TEST_CASE("test__greenlet TestBasic test_error_exit: a failure stays in the greenlet and is reported once [#6]",
          "[gevent][greenlet]") {
    Hub hub;
    ErrorLog errors(hub);
    std::vector<Greenlet*> link_test;
    auto g = make_greenlet(
        [](Seconds delay, int return_value) -> int {
            sleep(delay);
            throw ExpectedError("test_error_exit", return_value);
        },
        Seconds(0.001), 5);
    g->rawlink([&link_test](Greenlet& gr) { link_test.push_back(&gr); });
    g->start();
    sleep(0s);
    REQUIRE(g->join(2s));  // the spawner is unaffected: nothing propagates to it
    CHECK_FALSE(g->alive());
    CHECK(g->dead());
    CHECK(g->ready());
    CHECK_FALSE(g->successful());
    CHECK_FALSE(g->value().has_value());  // not changed
    REQUIRE(g->exception());
    int myattr = 0;
    try {
        std::rethrow_exception(g->exception());
    } catch (const ExpectedError& e) {
        myattr = e.myattr;
    }
    CHECK(myattr == 5);
    CHECK_THROWS_AS(g->get(), ExpectedError);
    CHECK(link_test == std::vector<Greenlet*>{g.get()});
    REQUIRE(errors.entries.size() == 1);
    CHECK(errors.entries[0].first == "greenlet");
    CHECK(errors.entries[0].second == "test_error_exit");
}

namespace {

enum class StartMode { Created, Started, StartedLater, Running };

const char* name_of(StartMode m) {
    switch (m) {
        case StartMode::Created: return "TestKill (never started)";
        case StartMode::Started: return "TestKillAfterStart";
        case StartMode::StartedLater: return "TestKillAfterStartLater";
        case StartMode::Running: return "TestKillWhileRunning";
    }
    return "?";
}

// TestKill._do_test: kill (or killall) a greenlet, block or not, with GreenletExit or another exception; it must be
// dead and ready, its function must not run (on), its link fires once, and killing it again does not hurt.
void do_kill_test(StartMode mode, bool use_killall, bool block, bool with_error) {
    INFO(name_of(mode) << " killall=" << use_killall << " block=" << block << " error=" << with_error);
    Hub hub;
    ErrorLog errors(hub);
    std::vector<int> result;
    int links = 0;
    Greenlet* linked = nullptr;
    Event link_ran;
    auto g = make_greenlet([&result, mode] {
        if (mode == StartMode::Running) sleep(10s);  // dies here with the kill's exception
        result.push_back(1);
    });
    g->link([&](Greenlet& gr) {
        ++links;
        linked = &gr;
        link_ran.set();
    });

    if (mode == StartMode::Started || mode == StartMode::Running) g->start();
    if (mode == StartMode::StartedLater) g->start_later(2s);
    if (mode == StartMode::Running) {
        sleep(0s);
        REQUIRE(g->started());
    }

    std::exception_ptr exc = with_error ? std::make_exception_ptr(ExpectedError("kill")) : nullptr;
    auto killer = [&] {
        if (use_killall) {
            std::vector<Ref<Greenlet>> gs{g};
            if (block) {
                killall(gs, KillWith{exc});
            } else {
                killall_nowait(gs, KillWith{exc});
            }
        } else if (block) {
            g->kill(KillWith{exc});
        } else {
            g->kill_nowait(KillWith{exc});
        }
    };
    auto check_killed = [&] {
        CHECK_FALSE(g->alive());
        CHECK(g->ready());
        CHECK(g->dead());  // also for a greenlet that never ran (gevent's __assertKilled)
        if (with_error) {
            CHECK_FALSE(g->successful());
            CHECK_FALSE(g->killed());
            CHECK(g->exception());
            CHECK_THROWS_AS(g->get(), ExpectedError);
        } else {
            CHECK(g->successful());
            CHECK(g->killed());  // gevent: value is a GreenletExit instance
            CHECK_FALSE(g->exception());
            CHECK_THROWS_AS(g->get(), GreenletKilled);  // C++: no GreenletExit value to return
        }
    };

    const auto t0 = Clock::now();
    killer();
    if (block) CHECK(since(t0) < 1.0);  // returns promptly, long before the greenlet's sleep(10)
    if (!block) sleep(1ms);             // must spin the loop to take effect (if it was scheduled)
    check_killed();
    sleep(0s);
    sleep(1ms);  // spin the loop to make sure it doesn't run
    check_killed();
    killer();  // kill second time must not hurt
    check_killed();

    REQUIRE(link_ran.wait(2s));
    sleep(0s);
    CHECK(result.empty());
    CHECK(links == 1);
    CHECK(linked == g.get());
    CHECK(errors.count("greenlet") == (with_error ? 1u : 0u));

    if (mode == StartMode::StartedLater) {
        // The cancelled start timer must not keep the loop alive.
        const auto t1 = Clock::now();
        hub.run();
        CHECK(since(t1) < 1.0);
    }
}

}  // namespace

TEST_CASE(
    "test__greenlet TestKill / TestKillAfterStart / TestKillAfterStartLater: a greenlet killed before its "
    "first run never runs [#7]",
    "[gevent][greenlet]") {
    for (StartMode mode : {StartMode::Created, StartMode::Started, StartMode::StartedLater}) {
        for (bool use_killall : {false, true}) {
            for (bool block : {true, false}) {
                for (bool with_error : {false, true}) do_kill_test(mode, use_killall, block, with_error);
            }
        }
    }
}

TEST_CASE("test__greenlet TestKillWhileRunning: killing a blocked greenlet raises at its suspension point [#8]",
          "[gevent][greenlet]") {
    for (bool use_killall : {false, true}) {
        for (bool block : {true, false}) {
            for (bool with_error : {false, true}) do_kill_test(StartMode::Running, use_killall, block, with_error);
        }
    }
}

TEST_CASE("test__api Test test_killing_dormant: kill() returns after the victim's handlers ran [#9]",
          "[gevent][greenlet]") {
    Hub hub;
    std::vector<std::string> state;
    auto g = spawn([&state] {
        try {
            state.push_back("start");
            sleep(0.3s);
        } catch (const GreenletExit&) {
            state.push_back("except");  // catching GreenletExit
        }
        state.push_back("finished");
    });
    sleep(0s);  // gevent: sleep(DELAY / 2)
    REQUIRE(state == std::vector<std::string>{"start"});
    const auto t0 = Clock::now();
    g->kill();
    // will not get there, unless switching is explicitly scheduled by kill
    CHECK(state == std::vector<std::string>{"start", "except", "finished"});
    CHECK(since(t0) < 0.25);
    CHECK(g->ready());
    CHECK(g->successful());
    CHECK_FALSE(g->killed());  // it swallowed the GreenletExit and returned normally
}

TEST_CASE(
    "test__greenlet TestGet / test__event TestAsyncResult test_nonblocking_get: get(block=false) on an "
    "unfinished greenlet or unset AsyncResult raises a timeout [#10]",
    "[gevent][greenlet]") {
    Hub hub;
    Event never;
    auto g = spawn([&never] {
        never.wait();
        return 1;
    });
    sleep(0s);
    // C++ deviation: TimeoutExpired{0} stands for gevent's fresh Timeout().
    try {
        g->get_nowait();
        FAIL("get(block=false) must throw");
    } catch (const TimeoutExpired& e) {
        CHECK(e.timeout_id == 0);
    }
    CHECK(g->alive());

    AsyncResult<int> ar;
    try {
        ar.get_nowait();
        FAIL("get(block=false) must throw");
    } catch (const TimeoutExpired& e) {
        CHECK(e.timeout_id == 0);
    }
    CHECK_THROWS_AS(ar.get_nowait(), TimeoutExpired);
    g->kill();
}

TEST_CASE(
    "test__greenlet TestJoin / TestJoinAll / TestJoinAll0: join(timeout) returns after the timeout without "
    "raising [#11]",
    "[gevent][greenlet]") {
    Hub hub;
    constexpr double T = 0.03;
    SECTION("TestJoin") {
        auto g = spawn([] { sleep(10s); });
        const auto t0 = Clock::now();
        CHECK_FALSE(g->join(Seconds(T)));  // C++: join returns bool (gevent: None)
        const double elapsed = since(t0);
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
        CHECK(g->alive());
        g->kill();
    }
    SECTION("TestJoinAll") {
        auto g = spawn([] { sleep(10s); });
        std::vector<Ref<Greenlet>> gs{g};
        const auto t0 = Clock::now();
        auto done = joinall(gs, Seconds(T));
        const double elapsed = since(t0);
        CHECK(done.empty());
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
        g->kill();
    }
    SECTION("TestJoinAll0: a greenlet never started") {
        auto g = make_greenlet([] {});
        std::vector<Ref<Greenlet>> gs{g};
        const auto t0 = Clock::now();
        auto done = joinall(gs, Seconds(T));
        const double elapsed = since(t0);
        CHECK(done.empty());
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
    }
    SECTION("outer timeout is not lost") {
        auto g = spawn([] { sleep(10s); });
        Timeout outer(1ms);
        bool caught_outer = false;
        try {
            g->join(1s);
        } catch (const TimeoutExpired& e) {
            caught_outer = outer.owns(e);
        }
        CHECK(caught_outer);
        g->kill();
    }
}

TEST_CASE("test__greenlet TestGet (AbstractGenericGetTestCase): get() raises its own or the caller's Timeout [#12]",
          "[gevent][greenlet]") {
    Hub hub;
    constexpr double T = 0.02;
    auto g = spawn([] {
        sleep(10s);
        return 1;
    });
    SECTION("test_raises_timeout_number") {
        Timeout unrelated(10s);
        const auto t0 = Clock::now();
        try {
            g->get_for(Seconds(T));
            FAIL("get(timeout) must throw");
        } catch (const TimeoutExpired& e) {
            CHECK_FALSE(unrelated.owns(e));
            CHECK(e.timeout_id != 0);
        }
        const double elapsed = since(t0);
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
    }
    SECTION("test_raises_timeout_Timeout: the caller's Timeout instance is the one raised") {
        Timeout t(Seconds{T});
        bool owned = false;
        try {
            g->get();
        } catch (const TimeoutExpired& e) {
            owned = t.owns(e);
        }
        CHECK(owned);
    }
    SECTION("test_raises_timeout_Timeout_exc_customized") {
        bool caught = false;
        try {
            Timeout t(Seconds{T}, std::make_exception_ptr(std::runtime_error("expected error")));
            g->get();
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "expected error";
        }
        CHECK(caught);
    }
    SECTION("test_outer_timeout_is_not_lost") {
        Timeout outer(1ms);
        bool owned = false;
        try {
            g->get_for(1s);
        } catch (const TimeoutExpired& e) {
            owned = outer.owns(e);
        }
        CHECK(owned);
    }
    CHECK(g->alive());
    g->kill();
}

TEST_CASE(
    "test__greenlet TestStuff test_joinall_exception_order / test_wait_error: joinall(raise_error) raises the "
    "first failure [#13]",
    "[gevent][greenlet]") {
    Hub hub;
    ErrorLog errors(hub);
    Event fail_first;  // gevent: first() sleeps 0.1 s; here it fails only once released, deterministically later
    auto a = spawn([&fail_first] {
        fail_first.wait();
        throw ExpectedError("first");
    });
    auto b = spawn([] { throw ExpectedError("second"); });
    std::vector<Ref<Greenlet>> gs{a, b};
    std::string raised;
    try {
        joinall(gs, {.raise_error = true});
    } catch (const ExpectedError& e) {
        raised = e.what();
    }
    CHECK(raised == "second");
    CHECK_FALSE(a->ready());

    // test_wait_error: an already failed greenlet raises at once
    std::vector<Ref<Greenlet>> only_b{b};
    CHECK_THROWS_AS(joinall(only_b, {.raise_error = true}), ExpectedError);

    fail_first.set();
    auto done = joinall(gs);
    CHECK(done.size() == 2);
    CHECK_THROWS_WITH(a->get(), "first");
    CHECK(errors.count("greenlet") == 2);
}

TEST_CASE("test__greenlet TestStuff test_joinall_count_raise_error: joinall(count=1) returns after one [#14]",
          "[gevent][greenlet]") {
    Hub hub;
    ErrorLog errors(hub);
    auto sleeper = spawn([] {
        for (;;) sleep(0.1s);
    });
    auto raiser = spawn([] { throw ExpectedError("count"); });
    std::vector<Ref<Greenlet>> gs{sleeper, raiser};
    auto done = joinall(gs, {.count = 1});
    REQUIRE(done.size() == 1);
    CHECK(done[0] == Ref<Greenlet>(raiser));
    CHECK(raiser->ready());
    CHECK_FALSE(sleeper->ready());
    // Clean up our mess
    sleeper->kill();
    CHECK(sleeper->ready());
}

TEST_CASE("test__joinall Test test: joinall accepts duplicates [#15]", "[gevent][greenlet]") {
    Hub hub;
    auto a = spawn([] {});
    auto b = spawn([] {});
    std::vector<Ref<Greenlet>> gs{a, b, a};
    const auto t0 = Clock::now();
    auto done = joinall(gs, 2s);
    CHECK(since(t0) < 1.0);  // no hang
    CHECK(a->ready());
    CHECK(b->ready());
    CHECK(done.size() == 3);
}

namespace {
// gevent's AsyncResult.__call__(source): an AsyncResult used as a link target.
Greenlet::LinkFn link_target(AsyncResult<int>& ar) {
    return [&ar](Greenlet& g) {
        if (g.successful()) {
            ar.set(*static_cast<GreenletOf<int>&>(g).value());
        } else {
            ar.set_exception(g.exception());
        }
    };
}
}  // namespace

TEST_CASE(
    "test__event TestAsyncResultAsLinkTarget / test__greenlet TestLink: link, link_value and link_exception "
    "[#16]",
    "[gevent][greenlet]") {
    Hub hub;
    ErrorLog errors(hub);
    constexpr Seconds DELAY{0.02};
    SECTION("test_set") {
        auto g = spawn([] { return 1; });
        AsyncResult<int> s1, s2, s3;
        g->link(link_target(s1));
        g->link_value(link_target(s2));
        g->link_exception(link_target(s3));
        CHECK(s1.get() == 1);
        CHECK(s2.get() == 1);
        CHECK(with_timeout(
                  DELAY, [&] { return s3.get(); }, -1) == -1);  // X
    }
    SECTION("test_set_exception") {
        auto g = spawn([]() -> int { throw ExpectedError("TestAsyncResultAsLinkTarget.test_set_exception"); });
        AsyncResult<int> s1, s2, s3;
        g->link(link_target(s1));
        g->link_value(link_target(s2));
        g->link_exception(link_target(s3));
        CHECK_THROWS_AS(s1.get(), ExpectedError);
        CHECK(with_timeout(
                  DELAY, [&] { return s2.get(); }, -1) == -1);
        CHECK_THROWS_AS(s3.get(), ExpectedError);
    }
    SECTION("test_link_to_asyncresult: linking after death still fires") {
        auto p = spawn([] { return 100; });
        AsyncResult<int> event;
        p->link(link_target(event));
        CHECK(event.get() == 100);
        for (int i = 0; i < 3; ++i) {
            AsyncResult<int> event2;
            p->link(link_target(event2));
            CHECK(event2.get() == 100);
        }
    }
}

TEST_CASE("test__greenlet TestStuff test_multiple_listeners_error: a failing link does not stop the others [#17]",
          "[gevent][greenlet]") {
    Hub hub;
    ErrorLog errors(hub);
    std::vector<int> results;
    auto add_listeners = [&](const auto& p, Event& done) {
        p->link([&results](Greenlet&) {
            results.push_back(10);
            throw ExpectedError("listener1");
        });
        p->link([&results](Greenlet&) {
            results.push_back(20);
            throw ExpectedError("listener2");
        });
        p->link([](Greenlet&) { throw ExpectedError("listener3"); });
        p->link([&done](Greenlet&) { done.set(); });  // runs after the three (links start in order)
    };
    SECTION("greenlet that returns") {
        auto p = spawn([] { return 5; });
        Event done;
        add_listeners(p, done);
        REQUIRE(done.wait(2s));
        CHECK(results == std::vector<int>{10, 20});
        CHECK(errors.entries.size() == 3);  // the three link failures, reported only
    }
    SECTION("greenlet that raises") {
        auto p = spawn([]() -> int { throw ExpectedError("test_multiple_listeners_error"); });
        Event done;
        add_listeners(p, done);
        REQUIRE(done.wait(2s));
        CHECK(results == std::vector<int>{10, 20});
        CHECK(errors.entries.size() == 4);  // p itself + the three links
    }
    SECTION("rawlink: failures on the hub are reported and the next rawlinks still run") {
        auto p = spawn([] { return 5; });
        p->rawlink([&results](Greenlet&) {
            results.push_back(10);
            throw ExpectedError("listener1");
        });
        p->rawlink([&results](Greenlet&) {
            results.push_back(20);
            throw ExpectedError("listener2");
        });
        p->rawlink([](Greenlet&) { throw ExpectedError("listener3"); });
        REQUIRE(p->join(2s));  // join's own rawlink comes after the three
        CHECK(results == std::vector<int>{10, 20});
        CHECK(errors.count("link") == 3);
    }
}

TEST_CASE(
    "test__greenlet TestStuff test_multiple_listeners_error_unlink_Greenlet_rawlink: a link unlinked during "
    "notification does not fire [#18]",
    "[gevent][greenlet]") {
    Hub hub;
    ErrorLog errors(hub);
    auto p = spawn([] { return 5; });
    std::vector<int> results;
    Greenlet::LinkId id1 = 0, id2 = 0;
    id1 = p->rawlink([&](Greenlet& g) {
        g.unlink(id2);
        results.push_back(5);
        throw ExpectedError("listener1");
    });
    id2 = p->rawlink([&](Greenlet& g) {
        g.unlink(id1);
        results.push_back(5);
        throw ExpectedError("listener2");
    });
    p->rawlink([](Greenlet&) { throw ExpectedError("listener3"); });
    REQUIRE(p->join(2s));
    sleep(10ms);
    CHECK(results == std::vector<int>{5});
    CHECK(errors.count("link") == 2);
    // The AsyncResult_rawlink variant has no counterpart (AsyncResult has no rawlink in C++).
}

TEST_CASE(
    "test__greenlet TestStuff test_multiple_listeners_error_unlink_Greenlet_link: a link() unlinked during "
    "notification does not fire [#18]",
    "[gevent][greenlet]") {
    Hub hub;
    ErrorLog errors(hub);
    auto p = spawn([] { return 5; });
    std::vector<int> results;
    Greenlet::LinkId id1 = 0, id2 = 0;
    id1 = p->link([&](Greenlet& g) {
        g.unlink(id2);
        results.push_back(5);
        throw ExpectedError("listener1");
    });
    id2 = p->link([&](Greenlet& g) {
        g.unlink(id1);
        results.push_back(5);
        throw ExpectedError("listener2");
    });
    p->link([](Greenlet&) { throw ExpectedError("listener3"); });
    Event done;
    p->link([&done](Greenlet&) { done.set(); });
    REQUIRE(done.wait(2s));
    sleep(10ms);  // gevent: sleep(DELAY * 10)
    CHECK(results == std::vector<int>{5});
    CHECK(errors.count("greenlet") == 2);  // listener1 and listener3 failed in their own greenlets
}

TEST_CASE("test__greenlet TestStart test_start: start() is idempotent and a no-op after death [§1.3]",
          "[gevent][greenlet]") {
    Hub hub;
    int runs = 0;
    auto g = spawn([&runs] {
        ++runs;
        sleep(1ms);
    });
    g->start();  // already pending: no second run
    sleep(0s);
    CHECK(g->started());
    g->start();
    REQUIRE(g->join(2s));
    g->start();  // cannot start again
    sleep(0s);
    sleep(1ms);
    CHECK(runs == 1);
    CHECK(g->ready());
}

TEST_CASE("greenlet.py Greenlet.kill(timeout): kill never raises, even when the victim outlives the timeout [§1.3]",
          "[gevent][greenlet]") {
    Hub hub;
    int shots = 0;
    Event stop;
    auto stubborn = spawn([&] {
        while (!stop.is_set()) {
            try {
                stop.wait();
            } catch (const GreenletExit&) {
                ++shots;  // swallowed: it goes on waiting
            }
        }
    });
    sleep(0s);
    constexpr double T = 0.02;
    const auto t0 = Clock::now();
    CHECK_NOTHROW(stubborn->kill_and_wait(Seconds(T)));
    const double elapsed = since(t0);
    CHECK(elapsed >= T * 0.9);
    CHECK(elapsed < T + 0.2);
    CHECK(shots == 1);
    CHECK(stubborn->alive());
    stop.set();
    REQUIRE(stubborn->join(1s));
    CHECK(stubborn->successful());
    CHECK_FALSE(stubborn->killed());
}

TEST_CASE(
    "test__greenletset test_killall_iterable_argument_timeout_started / _not_started / killall order: killall "
    "[§1.4]",
    "[gevent][greenlet]") {
    Hub hub;
    std::vector<std::string> log;
    auto f = [&log](std::string name) {
        try {
            sleep(10s);
        } catch (const GreenletExit&) {
            log.push_back(name);
            sleep(10s);  // swallows the first kill and keeps sleeping
        }
    };
    SECTION("test_killall_iterable_argument_timeout_not_started: unstarted greenlets die at once") {
        auto p1 = spawn(f, std::string("p1"));
        auto p2 = spawn(f, std::string("p2"));
        std::vector<Ref<Greenlet>> s{p1, p2};
        const auto t0 = Clock::now();
        CHECK_NOTHROW(killall_and_wait(s, 0.02s));
        CHECK(since(t0) < 0.015);
        CHECK(p1->ready());
        CHECK(p2->ready());
        CHECK(log.empty());  // they never ran
    }
    SECTION("test_killall_iterable_argument_timeout_started: survivors past the timeout make killall raise") {
        auto p1 = spawn(f, std::string("p1"));
        auto p2 = spawn(f, std::string("p2"));
        auto p3 = spawn(f, std::string("p3"));
        std::vector<Ref<Greenlet>> s{p3, p1, p2};
        sleep(0s);  // get them all running
        constexpr double T = 0.02;
        const auto t0 = Clock::now();
        CHECK_THROWS_AS(killall_and_wait(s, Seconds(T)), TimeoutExpired);
        const double elapsed = since(t0);
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
        CHECK(log == std::vector<std::string>{"p3", "p1", "p2"});  // thrown into in iteration order
        for (auto& g : s) CHECK(g->alive());
        killall(s);  // the second kill is not swallowed
        for (auto& g : s) CHECK(g->ready());
    }
    SECTION("killall(block=false): effect after the loop spins") {
        auto p1 = spawn([] { sleep(10s); });
        auto p2 = spawn([] { sleep(10s); });
        std::vector<Ref<Greenlet>> s{p1, p2};
        sleep(0s);
        killall_nowait(s);
        CHECK(p1->alive());
        CHECK(p2->alive());
        sleep(1ms);
        CHECK(p1->killed());
        CHECK(p2->killed());
    }
}
