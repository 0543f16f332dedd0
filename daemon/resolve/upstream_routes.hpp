// UpstreamRoutes: an upstream group for each forward zone, [upstream] servers being route 0, the zone ".".
//
// Each route is a group of its own: its servers' health and failover (its own Upstream), its own bound on questions
// out at once (a slow corporate server over a VPN cannot take the slots the internet's names need), its own budget
// and its own counters, which the metrics label with the zone. The routes of one hub are built together and replaced
// together on reload; a query keeps the route it started on (through a shared pointer) until it is done.
#pragma once

#include "core/engine/hub.hpp"
#include "core/primitives/semaphore.hpp"
#include "upstream/upstream.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace greenfinch::daemon {

struct RouteStats {
    std::uint64_t queries = 0;   // questions sent to the route's servers
    std::uint64_t failures = 0;  // of those, with no usable answer (timeouts included)
    std::uint64_t timeouts = 0;  // resolutions through the route that ran out of budget

    RouteStats& operator+=(const RouteStats& o) noexcept {
        queries += o.queries;
        failures += o.failures;
        timeouts += o.timeouts;
        return *this;
    }
};

struct UpstreamRoute {
    struct Options {
        std::string zone;  // presentation form with the final dot: "corp.example.", "." for [upstream]
        std::unique_ptr<upstream::Upstream> upstream;
        core::Seconds budget{2.0};  // the whole budget of one resolution through the route
        int max_inflight = 1000;
    };
    explicit UpstreamRoute(Options options)
        : zone(std::move(options.zone)),
          upstream(std::move(options.upstream)),
          budget(options.budget),
          slots(options.max_inflight) {}

    const std::string zone;
    const std::unique_ptr<upstream::Upstream> upstream;
    const core::Seconds budget;
    core::Semaphore slots;
    RouteStats stats;
};

// The routes of one hub, indexed as the policy's forward zones are (policy/routing.hpp: Verdict::zone).
using UpstreamRoutes = std::vector<std::shared_ptr<UpstreamRoute>>;

}  // namespace greenfinch::daemon
