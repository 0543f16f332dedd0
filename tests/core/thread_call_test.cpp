// call_on_thread: a blocking call on a thread of its own, waited for cooperatively.
#include "core/io/thread_call.hpp"
#include "core/engine/greenlet.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <stdexcept>
#include <thread>

using namespace greenfinch::core;
using namespace std::chrono_literals;

TEST_CASE("call_on_thread: the call runs on another thread while the hub serves other greenlets") {
    Hub hub;
    std::promise<void> release;
    auto gate = release.get_future().share();
    // Only a greenlet that runs while the caller is parked can open the gate the call blocks on.
    auto opener = spawn([&] { release.set_value(); });
    const auto thread = call_on_thread(
        [gate] {
            gate.wait();
            return std::this_thread::get_id();
        },
        10s);
    REQUIRE(thread);
    CHECK(*thread != std::this_thread::get_id());
    CHECK(opener->dead());
}

TEST_CASE("call_on_thread: what the call throws is thrown in the caller") {
    Hub hub;
    CHECK_THROWS_WITH(call_on_thread([]() -> int { throw std::runtime_error("no such host"); }, 10s), "no such host");
}

TEST_CASE("call_on_thread: a caller that stops waiting leaves the call to finish on its own") {
    Hub hub;
    std::promise<void> release;
    auto gate = release.get_future().share();
    auto ended = std::make_shared<std::promise<void>>();
    auto ended_future = ended->get_future();
    auto blocked = [gate, ended] {
        gate.wait();
        ended->set_value();
        return 1;
    };

    SECTION("timed out") { CHECK_FALSE(call_on_thread(blocked, 0.02s)); }
    SECTION("killed") {
        auto caller = spawn([&] { return call_on_thread(blocked, 10s).has_value(); });
        sleep(0s);  // the caller parks
        caller->kill();
        CHECK(caller->dead());
        CHECK_THROWS_AS(caller->get(), GreenletKilled);
    }
    release.set_value();
    ended_future.wait();  // the call ran to its end after its caller had gone, and reached nothing of the caller's
    sleep(0s);            // nor is anything left for the hub to run on its behalf
    CHECK(call_on_thread([] { return 2; }, 10s) == 2);
}
