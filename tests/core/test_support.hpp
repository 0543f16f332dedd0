// Helpers shared by the runtime's tests.
#pragma once

#include "core/errors.hpp"
#include "core/hub.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace greenfinch::test {

using Clock = std::chrono::steady_clock;

// Seconds since t0, for checking that a timeout took about as long as it should.
inline double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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

}  // namespace greenfinch::test
