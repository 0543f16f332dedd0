// The raw layer under the hub: explicit switches, throw, parents, the trace hook, unwinding on the last drop, and each
// greenlet's own exceptions-being-handled state.
#include "core/engine/raw_greenlet.hpp"
#include "core/engine/greenlet.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace greenfinch::core;
using namespace std::chrono_literals;

TEST_CASE("raw: switch passes values both ways and a finished greenlet returns to its parent") {
    std::vector<std::string> log;
    auto g = make_raw_greenlet([&](std::any arg) -> std::any {
        log.push_back("start " + std::any_cast<std::string>(arg));
        std::any back = RawGreenlet::main().switch_to(std::string("ping"));
        log.push_back("got " + std::any_cast<std::string>(back));
        return 7;
    });
    REQUIRE_FALSE(g->started());
    std::any first = g->switch_to(std::string("a"));
    CHECK(std::any_cast<std::string>(first) == "ping");
    CHECK(g->active());
    std::any result = g->switch_to(std::string("pong"));
    CHECK(std::any_cast<int>(result) == 7);
    CHECK(g->dead());
    CHECK(log == std::vector<std::string>{"start a", "got pong"});
}

TEST_CASE("raw: switching to a dead greenlet goes to its parent") {
    auto parent = make_raw_greenlet([](std::any v) -> std::any {
        // The dead child's switch lands here, carrying the value.
        return std::any_cast<int>(v) + 1;
    });
    auto child = make_raw_greenlet([](std::any) -> std::any { return {}; }, parent);
    // Run the child to completion with the main greenlet as a temporary parent.
    child->set_parent(Ref<RawGreenlet>(&RawGreenlet::main()));
    child->switch_to();
    REQUIRE(child->dead());
    child->set_parent(parent);
    // parent's parent is main, so parent's return value comes back to us.
    std::any r = child->switch_to(41);
    CHECK(std::any_cast<int>(r) == 42);
    CHECK(parent->dead());
}

TEST_CASE("raw: throw raises at the suspension point and an escaping exception reaches the parent") {
    bool caught = false;
    auto g = make_raw_greenlet([&](std::any) -> std::any {
        try {
            RawGreenlet::main().switch_to();
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "boom";
        }
        throw std::logic_error("escaped");
    });
    g->switch_to();
    CHECK_THROWS_WITH(g->throw_in(std::make_exception_ptr(std::runtime_error("boom"))), "escaped");
    CHECK(caught);
    CHECK(g->dead());
}

TEST_CASE("raw: throwing into an unstarted greenlet kills it before its first line") {
    bool ran = false;
    auto g = make_raw_greenlet([&](std::any) -> std::any {
        ran = true;
        return {};
    });
    std::any r = g->throw_in();  // GreenletExit comes back to the parent as a value
    CHECK_FALSE(ran);
    CHECK(g->dead());
    CHECK(std::any_cast<GreenletExit>(&r) != nullptr);
}

TEST_CASE("raw: the trace hook sees every switch and throw with origin and target") {
    std::vector<std::pair<TraceEvent, bool>> seen;  // (event, target is main)
    RawGreenlet* main = &RawGreenlet::main();
    auto previous = RawGreenlet::set_trace(
        [&](TraceEvent ev, RawGreenlet&, RawGreenlet& target) { seen.emplace_back(ev, &target == main); });
    auto g = make_raw_greenlet([&](std::any) -> std::any {
        try {
            main->switch_to();
        } catch (const std::runtime_error&) {}
        return {};
    });
    g->switch_to();                                                 // main -> g
    g->throw_in(std::make_exception_ptr(std::runtime_error("x")));  // main -> g (throw), g ends -> main
    RawGreenlet::set_trace(std::move(previous));
    REQUIRE(seen.size() == 4);
    CHECK(seen[0] == std::make_pair(TraceEvent::Switch, false));
    CHECK(seen[1] == std::make_pair(TraceEvent::Switch, true));
    CHECK(seen[2] == std::make_pair(TraceEvent::Throw, false));
    CHECK(seen[3] == std::make_pair(TraceEvent::Switch, true));
}

TEST_CASE("raw: dropping the last handle of a suspended greenlet unwinds it, running RAII and catch blocks") {
    struct Guard {
        bool* flag;
        ~Guard() { *flag = true; }
    };
    bool destroyed = false;
    bool saw_exit = false;
    {
        auto g = make_raw_greenlet([&](std::any) -> std::any {
            Guard guard{&destroyed};
            try {
                RawGreenlet::main().switch_to();
            } catch (const GreenletExit&) {
                saw_exit = true;
                throw;
            }
            return {};
        });
        g->switch_to();
        REQUIRE(g->active());
        REQUIRE_FALSE(destroyed);
    }
    CHECK(saw_exit);
    CHECK(destroyed);
}

TEST_CASE("raw: a parent cycle is refused") {
    auto a = make_raw_greenlet([](std::any) -> std::any { return {}; });
    auto b = make_raw_greenlet([](std::any) -> std::any { return {}; }, a);
    CHECK_THROWS_AS(a->set_parent(b), GreenletError);
}

TEST_CASE("raw: coroutines are reused, so steady-state starts map no new stack") {
    auto run_one = [] {
        auto g = make_raw_greenlet([](std::any) -> std::any { return 1; });
        g->switch_to();
    };
    run_one();
    const auto mapped = RawGreenlet::thread_stacks().mapped_count();
    for (int i = 0; i < 1000; ++i) run_one();
    CHECK(RawGreenlet::thread_stacks().mapped_count() == mapped);
}

TEST_CASE("each greenlet has its own exceptions-being-handled state: a rethrow after blocking in a catch block") {
    // The C++ runtime tracks caught exceptions per thread; without a per-greenlet copy, A's `throw;` would rethrow
    // C's exception, and A leaving its handler would free C's exception object while C still uses it.
    Hub hub;
    std::string a_rethrew, c_saw;
    auto a = spawn([&] {
        try {
            throw std::runtime_error("A");
        } catch (...) {
            sleep(20ms);
            try {
                throw;
            } catch (const std::runtime_error& e) {
                a_rethrew = e.what();
            }
        }
    });
    auto c = spawn([&] {
        try {
            throw std::runtime_error("C");
        } catch (const std::exception& e) {
            sleep(40ms);
            c_saw = e.what();
        }
    });
    joinall(std::vector<Ref<Greenlet>>{a, c});
    CHECK(a_rethrew == "A");
    CHECK(c_saw == "C");
}
