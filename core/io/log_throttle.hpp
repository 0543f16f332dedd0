// LogThrottle: one log line per interval for a condition that can recur on every query (a dead upstream under
// load), with the number of occurrences held back since the last line, so the log says how bad it is without
// becoming the bottleneck or burying everything else.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace greenfinch::core {

class LogThrottle {
public:
    explicit LogThrottle(double interval_seconds) : interval_(interval_seconds) {}

    // Counts one occurrence at `now` (seconds, monotonic). When a line may be written, returns how many occurrences
    // were held back since the previous line; otherwise nullopt.
    std::optional<std::uint64_t> admit(double now) noexcept {
        if (last_ && now - *last_ < interval_) {
            ++held_;
            return std::nullopt;
        }
        last_ = now;
        const std::uint64_t held = held_;
        held_ = 0;
        return held;
    }

private:
    double interval_;
    std::optional<double> last_;
    std::uint64_t held_ = 0;
};

// A warning for a failure that repeats while its cause lasts (accept() out of file descriptors, retried every 100 ms):
// the first line at once, then at most one per interval, which says how many it stands for.
class ThrottledWarning {
public:
    explicit ThrottledWarning(double interval_seconds = 10.0) : throttle_(interval_seconds) {}

    void operator()(double now, std::string_view message) {
        const std::optional<std::uint64_t> held = throttle_.admit(now);
        if (!held) return;
        if (*held == 0) {
            spdlog::warn("{}", message);
        } else {
            spdlog::warn("{} (and {} more times since the last such line)", message, *held);
        }
    }

private:
    LogThrottle throttle_;
};

}  // namespace greenfinch::core
