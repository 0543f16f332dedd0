// Ports of gevent's Semaphore / BoundedSemaphore / RLock behaviour (test__semaphore, lock_tests, lock.py) to
// greenfinch's runtime; numbers refer to the table in docs/runtime.md ("Tested against gevent").
//
// C++ deviations from gevent:
// - ValueError is std::invalid_argument; RLock's RuntimeError is std::logic_error.
// - Semaphore has no rawlink(): #43 is ported with greenlets that acquire.
#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/semaphore.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace greenfinch::core;
using namespace greenfinch::test;
using namespace std::chrono_literals;

namespace {}  // namespace

TEST_CASE("test__semaphore TestSemaphore test_acquire_returns_false_after_timeout (issue 39) [#42]",
          "[gevent][semaphore]") {
    Hub hub;
    Semaphore s(0);
    constexpr double T = 0.01;
    const auto t0 = Clock::now();
    const bool result = s.try_acquire_for(Seconds(T));
    const double elapsed = since(t0);
    CHECK(result == false);
    CHECK(elapsed >= T * 0.9);
    CHECK(elapsed < T + 0.2);
    CHECK_FALSE(s.try_acquire());    // blocking=False
    CHECK(s.wait(Seconds(T)) == 0);  // wait() returns the counter, 0 after a timeout
    CHECK(s.waiters() == 0);         // the timed-out waiters are gone
    CHECK_THROWS_AS(Semaphore(-1), std::invalid_argument);
}

TEST_CASE("test__semaphore TestSemaphore test_release_twice: each release wakes a waiter [#43]",
          "[gevent][semaphore]") {
    Hub hub;
    // gevent rawlinks 'a', releases, rawlinks 'b', releases; Semaphore has no rawlink here, so two greenlets that
    // acquire stand for the two links.
    Semaphore s(0);
    std::vector<std::string> result;
    auto a = spawn([&] {
        s.acquire();
        result.push_back("a");
    });
    sleep(0s);  // 'a' is waiting
    s.release();
    auto b = spawn([&] {
        s.acquire();
        result.push_back("b");
    });
    s.release();
    std::vector<Ref<Greenlet>> both{a, b};
    CHECK(joinall(both, 1s).size() == 2);
    std::sort(result.begin(), result.end());  // the order, though, is not guaranteed
    CHECK(result == std::vector<std::string>{"a", "b"});
    CHECK(s.counter() == 0);
}

TEST_CASE(
    "test__semaphore TestSemaphoreFair (simplified): waiters are served FIFO and a late arriver queues behind "
    "[#44]",
    "[gevent][semaphore]") {
    Hub hub;
    Semaphore sem(1);
    REQUIRE(sem.acquire());  // held by main
    std::vector<std::string> log;
    auto worker = [&](std::string name) {
        sem.acquire();
        log.push_back(name);
        sleep(0s);  // hold it across a yield, so that the unit is not free when the late arriver comes
        sem.release();
    };
    std::vector<Ref<Greenlet>> gs{spawn(worker, std::string("A")), spawn(worker, std::string("B")),
                                  spawn(worker, std::string("C"))};
    sleep(0s);  // spin: all three are waiting, in spawn order
    CHECK(sem.waiters() == 3);
    CHECK(log.empty());
    sem.release();
    gs.push_back(spawn(worker, std::string("D")));  // arrives after the release, while A holds the unit
    CHECK(joinall(gs, 2s).size() == 4);
    CHECK(log == std::vector<std::string>{"A", "B", "C", "D"});
    CHECK(sem.counter() == 1);
}

namespace {
struct FairCtx {
    Semaphore* sem;
    std::vector<bool>* should_quit;
};
void acquire_then_spawn(FairCtx c);
void release_then_spawn(FairCtx c) {
    c.sem->release();
    if (!c.should_quit->empty()) return;
    auto g = spawn(acquire_then_spawn, c);
    g->join();
}
void acquire_then_spawn(FairCtx c) {
    if (!c.should_quit->empty()) return;
    c.sem->acquire();
    auto g = spawn(release_then_spawn, c);
    g->join();
}
void acquire_then_exit(FairCtx c) {
    c.sem->acquire();
    c.should_quit->push_back(true);
}
}  // namespace

TEST_CASE(
    "test__semaphore TestSemaphoreFair test_fair_or_hangs (issue 1487): an unfair lock would spin forever "
    "[#44]",
    "[gevent][semaphore]") {
    Hub hub;
    Semaphore sem(1);
    std::vector<bool> should_quit;
    FairCtx c{&sem, &should_quit};
    auto keep_going1 = spawn(acquire_then_spawn, c);
    auto keep_going2 = spawn(acquire_then_spawn, c);
    auto exiting = spawn(acquire_then_exit, c);
    std::vector<Ref<Greenlet>> all{keep_going1, keep_going2, exiting};
    // If the lock isn't fair, this hangs, spinning between the last two greenlets.
    CHECK_THROWS_AS(joinall(all), LoopExit);
    CHECK(exiting->ready());
    CHECK(keep_going2->ready());
    CHECK_FALSE(keep_going1->ready());

    sem.release();
    keep_going1->kill();
    keep_going2->kill();
    exiting->kill();
    sleep(0s);
}

TEST_CASE("lock_tests BoundedSemaphoreTests test_release_unacquired: over-release raises [#45]",
          "[gevent][semaphore]") {
    Hub hub;
    BoundedSemaphore s(1);
    CHECK_THROWS_AS(s.release(), std::invalid_argument);  // "Semaphore released too many times"
    CHECK(s.acquire());
    CHECK_NOTHROW(s.release());
    CHECK_THROWS_AS(s.release(), std::invalid_argument);
    CHECK(s.counter() == 1);

    Lock lock;  // a BoundedSemaphore(1)
    CHECK_THROWS_AS(lock.release(), std::invalid_argument);

    Semaphore plain(1);  // a plain Semaphore may over-release
    CHECK_NOTHROW(plain.release());
    CHECK(plain.counter() == 2);
}

TEST_CASE(
    "lock_tests RLockTests / lock.py RLock.release: only the owner releases, after as many releases as acquires "
    "[#46]",
    "[gevent][semaphore]") {
    Hub hub;
    RLock lock;
    Event held, release_now;
    auto g1 = spawn([&] {
        lock.acquire();
        lock.acquire();  // re-entrant for its owner
        held.set();
        release_now.wait();
        lock.release();
        const bool locked_after_first = lock.locked();
        lock.release();
        return std::make_pair(locked_after_first, lock.locked());
    });
    REQUIRE(held.wait(1s));
    CHECK(lock.locked());
    // Another greenlet cannot release it ...
    auto g2 = spawn([&lock] {
        try {
            lock.release();
            return false;
        } catch (const std::logic_error&) {  // gevent: RuntimeError("cannot release un-acquired lock")
            return true;
        }
    });
    CHECK(g2->get());
    CHECK_THROWS_AS(lock.release(), std::logic_error);  // ... nor can main
    // ... and cannot take it meanwhile.
    CHECK_FALSE(lock.try_acquire_for(10ms));
    CHECK(lock.locked());

    release_now.set();
    const auto [locked_after_first, locked_after_second] = g1->get();
    CHECK(locked_after_first);  // still held after the first of two releases
    CHECK_FALSE(locked_after_second);
    CHECK(lock.try_acquire());
    lock.release();
    CHECK_FALSE(lock.locked());
}
