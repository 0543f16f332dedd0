// LogThrottle: one log line per interval for a condition that can recur on every query (a dead upstream under
// load), with the number of occurrences held back since the last line, so the log says how bad it is without
// becoming the bottleneck or burying everything else.
#pragma once

#include <cstdint>
#include <optional>

namespace greenfinch::daemon {

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

}  // namespace greenfinch::daemon
