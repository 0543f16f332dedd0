// ServerHealth: which upstream a forwarded query should try first.
//
// compat(c-ares 1.18): c-ares tries a channel's servers in order, always from the first: with the first upstream
// dead, every forwarded query would wait out one attempt timeout before c-ares moved on. This follows each server from the channel's
// own traffic instead: a server is down once a query sent to it has gone unanswered for longer than an attempt
// timeout with nothing heard from it since. A query starts at the first server, in the configured order, that is not
// down. A server that is down gets one query per probe interval (the first one interval after it stopped answering),
// which pays the attempt timeout if it is still dead and then moves on; any answer from a server makes it preferred
// again.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

namespace greenfinch::upstream {

class ServerHealth {
public:
    ServerHealth(std::size_t servers, double attempt_timeout, double probe_interval = 1.0)
        : servers_(servers),
          attempt_timeout_(attempt_timeout),
          probe_interval_(probe_interval) {}

    // A query went to `server` at `now` (seconds).
    void sent(std::size_t server, double now) noexcept {
        State& s = servers_[server];
        if (s.unanswered++ == 0) s.oldest_unanswered = now;
    }
    // Something came back from `server`: it is alive.
    void heard(std::size_t server) noexcept { servers_[server].unanswered = 0; }
    bool down(std::size_t server, double now) const noexcept {
        const State& s = servers_[server];
        return s.unanswered > 0 && now - s.oldest_unanswered > attempt_timeout_;
    }
    // The server to start a query at `now`.
    std::size_t first_to_try(double now) noexcept {
        for (std::size_t i = 0; i < servers_.size(); ++i) {
            if (!down(i, now)) return i;
            if (now - std::max(servers_[i].last_probe, servers_[i].oldest_unanswered) >= probe_interval_) {
                servers_[i].last_probe = now;
                return i;
            }
        }
        return 0;
    }

private:
    struct State {
        std::size_t unanswered = 0;    // queries sent since the server was last heard from
        double oldest_unanswered = 0;  // when the first of them went
        double last_probe = -std::numeric_limits<double>::infinity();
    };
    std::vector<State> servers_;
    double attempt_timeout_;
    double probe_interval_;
};

}  // namespace greenfinch::upstream
