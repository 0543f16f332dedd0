// Greenlet behaviour that gevent's suite does not cover: C++ RAII on kill, exceptions that generic handlers cannot
// swallow, failures that stay in the greenlet, greenlets that nobody holds.
#include "core/engine/greenlet.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/timeout.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string_view>

using namespace greenfinch::core;
using namespace std::chrono_literals;

using greenfinch::test::Flag;

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
    } catch (const TimeoutExpired&) {}
    CHECK_FALSE(timeout_swallowed);
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
