// The hub's idle wait: unbounded while no timer lies beyond libev's cap on a wait, bounded by the cap otherwise.
// The tests read the timeout straight from the kernel (/proc/self/task/TID/syscall) while the hub sleeps.
#include "core/engine/hub.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/timeout.hpp"
#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

using namespace greenfinch;
using namespace std::chrono_literals;

namespace {
// Parks the hub's thread on an Event that only another thread's post() sets, and returns the timeout the hub's
// thread slept with meanwhile.
std::optional<int> idle_wait_timeout(core::Hub& hub) {
    core::Event posted;
    const pid_t tid = static_cast<pid_t>(::gettid());
    std::optional<int> seen;
    auto keep = hub.keep_alive();
    std::thread watcher([&] {
        seen = test::blocked_epoll_timeout(tid);
        hub.post([&] { posted.set(); });
    });
    posted.wait();
    watcher.join();
    return seen;
}
}  // namespace

TEST_CASE("hub: with no timer pending, an idle hub sleeps without a deadline") {
    core::Hub hub;
    CHECK(hub.idle_wait_unbounded());
    const auto waits = hub.unbounded_waits();
    CHECK(idle_wait_timeout(hub) == -1);
    CHECK(hub.unbounded_waits() > waits);
}

TEST_CASE("hub: a timer beyond libev's cap keeps the idle wait at the cap, even after it is cancelled") {
    core::Hub hub;
    {
        core::Timeout far(core::Seconds(120.0));
        CHECK_FALSE(hub.idle_wait_unbounded());
        CHECK(idle_wait_timeout(hub) == 59743);  // libev's MAX_BLOCKTIME, 59.743 s
    }
    // Cancelled: the hub does not track which timer stopped, so the wait stays bounded until it would have fired.
    CHECK_FALSE(hub.idle_wait_unbounded());
    CHECK(idle_wait_timeout(hub) == 59743);
}

TEST_CASE("hub: a timer within the cap bounds the wait itself, and leaves later idle waits unbounded") {
    core::Hub hub;
    {
        core::Timeout near(core::Seconds(30.0));
        CHECK(hub.idle_wait_unbounded());
        const auto timeout = idle_wait_timeout(hub);
        REQUIRE(timeout);
        CHECK(*timeout > 29000);
        CHECK(*timeout <= 30000);
    }
    CHECK(idle_wait_timeout(hub) == -1);
}
