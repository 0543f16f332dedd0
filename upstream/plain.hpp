// Plain DNS to the configured resolvers (UDP, and TCP for a truncated answer), as an Upstream.
//
// make_plain_upstream() is the only way above this layer to one: the implementation (upstream/ares_upstream.hpp)
// is c-ares, which nothing above upstream/ sees.
#pragma once

#include "core/engine/hub.hpp"
#include "core/io/socket_address.hpp"
#include "upstream/upstream.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace greenfinch::upstream {

struct PlainOptions {
    std::vector<core::SocketAddress> servers;        // tried in order; at least one
    std::chrono::milliseconds attempt_timeout{800};  // per try, per server, before the next one is tried
    int tries = 2;                                   // rounds over the server list
    std::uint16_t udp_payload = 1232;                // what the queries' OPT records advertise
    core::Seconds probe_interval{1.0};               // how often a server found down is tried again
    core::Seconds edns_retry{30.0};                  // the least life of a channel that lost EDNS before it is replaced
};

// Throws std::invalid_argument without servers, std::runtime_error if c-ares refuses the configuration.
std::unique_ptr<Upstream> make_plain_upstream(core::Hub& hub, PlainOptions options);

}  // namespace greenfinch::upstream
