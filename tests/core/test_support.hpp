// Helpers shared by the runtime's tests.
#pragma once

#include "core/engine/errors.hpp"
#include "core/engine/hub.hpp"

#include <sys/syscall.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace greenfinch::test {

using Clock = std::chrono::steady_clock;

// Seconds since t0, for checking that a timeout took about as long as it should.
inline double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Waits (up to 5 s) until thread `tid` of this process is blocked in epoll_pwait, as a hub sleeping for events is,
// and returns that call's timeout argument in ms (read from /proc/self/task/TID/syscall); nullopt if it never gets
// there. The kernel shows the int argument as the 32-bit register value it is (-1 as 0xffffffff).
inline std::optional<int> blocked_epoll_timeout(pid_t tid) {
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
        std::ifstream in(path);
        long number = -1;
        std::string fd, events, maxevents, timeout;
        if (in >> number >> fd >> events >> maxevents >> timeout && number == SYS_epoll_pwait) {
            return static_cast<int>(static_cast<std::uint32_t>(std::stoull(timeout, nullptr, 16)));
        }
        std::this_thread::yield();
    }
    return std::nullopt;
}

// Captures what the hub reports through its error handler (and keeps the test output quiet).
struct ErrorLog {
    explicit ErrorLog(core::Hub& h) : hub(h) {
        hub.set_error_handler([this](std::string_view where, std::exception_ptr e) {
            entries.emplace_back(std::string(where), core::describe(e));
        });
    }
    ~ErrorLog() { hub.set_error_handler({}); }
    ErrorLog(const ErrorLog&) = delete;
    ErrorLog& operator=(const ErrorLog&) = delete;

    std::size_t count(std::string_view where) const {
        return static_cast<std::size_t>(
            std::count_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == where; }));
    }

    core::Hub& hub;
    std::vector<std::pair<std::string, std::string>> entries;
};

// Sets `set` when it goes out of scope: tells whether a greenlet's stack was unwound.
struct Flag {
    bool& set;
    ~Flag() { set = true; }
};

}  // namespace greenfinch::test
