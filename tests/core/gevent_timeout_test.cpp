// Ports of gevent's Timeout behaviour (test__timeout, test__api_timeout, test__api, test__sleep0) to greenfinch's
// runtime; numbers refer to the table in docs/runtime.md ("Tested against gevent").
//
// C++ deviations from gevent:
// - A Timeout is scoped: it starts when constructed and is cancelled when it goes out of scope (gevent's `with`).
// - A firing Timeout raises TimeoutExpired{id}; `t.owns(e)` replaces gevent's `e is t`.
// - There is no "silent" Timeout(seconds, False): with_timeout(seconds, fn, fallback) is the counterpart.
// - Timeout(seconds, SomeExceptionClass) has no counterpart (C++ has no exception classes as values); only the
//   exception-instance form is ported.
#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/timeout.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

using namespace greenfinch::core;
using namespace greenfinch::test;
using namespace std::chrono_literals;

namespace {

constexpr double DELAY = 0.01;  // gevent's SMALL_TICK
constexpr Seconds T{DELAY};

struct IOError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parks the current greenlet until something throws into it (gevent's get_hub().switch()).
void park_forever() { Hub::current().switch_out(); }

}  // namespace

TEST_CASE("test__sleep0: a sleep(0) loop cannot starve a timer [#4]", "[gevent][timeout]") {
    Hub hub;
    const auto t0 = Clock::now();
    bool fired = false;
    long spins = 0;
    {
        Timeout t(T);  // gevent: with Timeout(0.01, False): while True: sleep(0)
        try {
            for (;;) {
                sleep(0s);
                ++spins;
            }
        } catch (const TimeoutExpired& e) {
            fired = t.owns(e);
        }
    }
    const double elapsed = since(t0);
    CHECK(fired);
    CHECK(spins > 0);
    CHECK(elapsed >= DELAY * 0.9);
    CHECK(elapsed < DELAY + 0.2);
}

TEST_CASE("test__timeout Test test_expires: a Timeout raises itself and can be restarted [#19]", "[gevent][timeout]") {
    Hub hub;
    Timeout timeout(T);
    auto park_and_check = [&] {
        try {
            park_forever();
            return false;  // "Must raise Timeout"
        } catch (const TimeoutExpired& e) {
            return timeout.owns(e);
        }
    };
    CHECK(park_and_check());
    CHECK_FALSE(timeout.pending());
    timeout.start();  // Restart
    CHECK(timeout.pending());
    CHECK(park_and_check());
    CHECK_FALSE(timeout.pending());
}

TEST_CASE(
    "test__timeout Test test_context_manager / test_context_manager_false: the block raises its own Timeout, or "
    "nothing when silent [#20]",
    "[gevent][timeout]") {
    Hub hub;
    SECTION("test_context_manager") {
        std::optional<std::uint64_t> id;
        std::optional<std::uint64_t> caught;
        try {
            Timeout timeout(T);
            id = timeout.id();
            park_forever();
        } catch (const TimeoutExpired& e) {
            caught = e.timeout_id;
        }
        REQUIRE(caught.has_value());
        CHECK(caught == id);
    }
    SECTION("test_context_manager_false (C++: with_timeout with a fallback)") {
        int result = 0;
        CHECK_NOTHROW(result = with_timeout(
                          T,
                          [] {
                              park_forever();
                              return 1;
                          },
                          2));
        CHECK(result == 2);
    }
    SECTION("test__api_timeout test_api: a silent Timeout(0.1) around sleep(0.2) ends after about 0.1 s") {
        constexpr double XDELAY = 0.05;
        const auto t0 = Clock::now();
        CHECK_NOTHROW(with_timeout(
            Seconds(XDELAY),
            [] {
                sleep(Seconds(XDELAY * 2));
                return true;
            },
            false));
        const double delta = since(t0);
        CHECK(delta >= XDELAY * 0.9);
        CHECK(delta < XDELAY * 2);
    }
}

TEST_CASE("test__timeout Test test_cancel: a cancelled Timeout never fires [#21]", "[gevent][timeout]") {
    Hub hub;
    Timeout timeout(T);
    CHECK(timeout.pending());
    timeout.cancel();
    CHECK_NOTHROW(sleep(T * 2));  // SHOULD_NOT_EXPIRE
    CHECK_FALSE(timeout.pending());
}

TEST_CASE("test__api_timeout Test test_api: no-op, expiry, custom exception, cancel inside, None [#22]",
          "[gevent][timeout]") {
    Hub hub;
    SECTION("nothing happens if the block finishes before the timeout expires") {
        Timeout t(T * 2);
        CHECK(t.pending());
        sleep(T);
        t.cancel();  // what leaving the block does
        CHECK_FALSE(t.pending());
        CHECK_NOTHROW(sleep(T * 2));  // the timer was actually cancelled
    }
    SECTION("an exception is raised if it's not, and it is the Timeout itself") {
        bool owned = false;
        std::optional<Timeout> t;
        try {
            t.emplace(T);
            sleep(T * 10);
        } catch (const TimeoutExpired& e) {
            owned = t->owns(e);
        }
        CHECK(owned);
        CHECK_FALSE(t->pending());
    }
    SECTION("you can customize the exception raised (instance)") {
        auto error = std::make_exception_ptr(IOError("Operation takes way too long"));
        const void* expected_address = nullptr;
        try {
            std::rethrow_exception(error);
        } catch (const IOError& e) {
            expected_address = &e;
        }
        const void* caught_address = nullptr;
        try {
            Timeout t(T, error);
            sleep(T * 10);
        } catch (const IOError& e) {
            caught_address = &e;
        }
        CHECK(caught_address == expected_address);  // the very instance given
        // Timeout(DELAY, ValueError) (an exception class) has no C++ counterpart.
    }
    SECTION("it's possible to cancel the timer inside the block") {
        Timeout timer(T);
        timer.cancel();
        CHECK_NOTHROW(sleep(T * 2));
    }
    SECTION("passing None as seconds disables the timer") {
        {
            Timeout t(std::nullopt);
            CHECK_FALSE(t.pending());
            CHECK_NOTHROW(sleep(T));
            CHECK_NOTHROW(t.start());  // start() is a no-op
            CHECK_FALSE(t.pending());
        }
        CHECK_NOTHROW(sleep(T));
    }
}

TEST_CASE("test__api_timeout Test test_nested_timeout: each level raises its own instance [#23]", "[gevent][timeout]") {
    Hub hub;
    SECTION("both silent: the shorter outer one ends both blocks") {
        bool inner_completed = false;
        int r = with_timeout(
            T,
            [&] {
                with_timeout(
                    T * 10,
                    [] {
                        sleep(T * 3 * 20);
                        return 0;
                    },
                    1);
                inner_completed = true;  // "should not get there"
                return 0;
            },
            2);
        CHECK(r == 2);
        CHECK_FALSE(inner_completed);
    }
    SECTION("outer shorter") {
        bool owned_by_t1 = false;
        {
            Timeout t1(T);
            {
                Timeout t2(T * 20);
                try {
                    sleep(T * 30);
                } catch (const TimeoutExpired& e) {
                    owned_by_t1 = t1.owns(e);
                    CHECK_FALSE(t2.owns(e));
                }
                CHECK_FALSE(t1.pending());
                CHECK(t2.pending());
                t2.cancel();  // leaving the block
                CHECK_FALSE(t2.pending());
            }
        }
        CHECK(owned_by_t1);
    }
    SECTION("inner shorter") {
        bool owned_by_t2 = false;
        Timeout t1(T * 20);
        {
            Timeout t2(T);
            try {
                sleep(T * 30);
            } catch (const TimeoutExpired& e) {
                owned_by_t2 = t2.owns(e);
                CHECK_FALSE(t1.owns(e));
            }
            CHECK(t1.pending());
            CHECK_FALSE(t2.pending());
        }
        CHECK(owned_by_t2);
        t1.cancel();
        CHECK_FALSE(t1.pending());
    }
}

TEST_CASE("test__timeout Test test_with_timeout / test__api Test test_nested_with_timeout: with_timeout [#24]",
          "[gevent][timeout]") {
    Hub hub;
    SECTION("expiry raises") {
        CHECK_THROWS_AS(with_timeout(T, [] { sleep(T * 20); }), TimeoutExpired);
    }
    SECTION("timeout_value is returned when its own timeout fired") {
        CHECK(with_timeout(
                  T,
                  [] {
                      sleep(T * 20);
                      return 0;
                  },
                  42) == 42);
    }
    SECTION("a function that finishes in time returns its own result") {
        CHECK(with_timeout(
                  T * 20,
                  [] {
                      sleep(T);
                      return 7;
                  },
                  42) == 7);
    }
    SECTION("test_nested_with_timeout: the outer timeout propagates through an inner with_timeout(value)") {
        auto func = [] {
            return with_timeout(
                T * 4,
                [] {
                    sleep(2s);
                    return 0;
                },
                1);
        };
        const auto t0 = Clock::now();
        CHECK_THROWS_AS(with_timeout(T * 2, func), TimeoutExpired);
        CHECK(since(t0) < 1.0);
    }
}

TEST_CASE("test__timeout: start() on a pending Timeout is an error [#26]", "[gevent][timeout]") {
    Hub hub;
    Timeout t(10s);
    REQUIRE(t.pending());
    CHECK_THROWS_AS(t.start(), std::logic_error);  // gevent: AssertionError('... already started ...')
    CHECK(t.pending());
    t.cancel();
    CHECK_NOTHROW(t.start());  // restartable once cancelled
    CHECK(t.pending());
}

TEST_CASE(
    "test__api_timeout test_timeout_calls_update_now / test_sleep_calls_update_now: timers count from the real "
    "now [§1.1]",
    "[gevent][timeout]") {
    Hub hub;
    sleep(0s);  // the loop has run once and cached its "now"
    auto busy_wait = [](double seconds) {
        const auto t0 = Clock::now();
        while (since(t0) < seconds) {}
    };
    constexpr double D = 0.03;
    SECTION("sleep") {
        busy_wait(0.05);  // the cached loop time is now 50 ms stale
        const auto t0 = Clock::now();
        sleep(Seconds(D));
        CHECK(since(t0) >= D * 0.9);
    }
    SECTION("Timeout") {
        busy_wait(0.05);
        const auto t0 = Clock::now();
        bool fired = false;
        try {
            Timeout t(Seconds{D});
            park_forever();
        } catch (const TimeoutExpired&) {
            fired = true;
        }
        CHECK(fired);
        CHECK(since(t0) >= D * 0.9);
    }
}
