// Asking a Resolver directly, as a UDP client would, for resolver tests.
#pragma once

#include "daemon/resolve/resolver.hpp"
#include "dns/bytes.hpp"
#include "dns/message.hpp"
#include "tests/dns/wire_builder.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <string>

namespace greenfinch::test {

inline const daemon::QueryOrigin& udp_client() {
    static const core::SocketAddress peer = *core::SocketAddress::parse("127.0.0.1:40000");
    static const daemon::QueryOrigin origin{peer, daemon::Transport::Udp};
    return origin;
}

// The one route of a resolver without forward zones: [upstream] servers, as zone ".".
inline daemon::UpstreamRoutes one_route(std::unique_ptr<upstream::Upstream> upstream, double budget = 2.0,
                                        int max_inflight = 1000) {
    return {std::make_shared<daemon::UpstreamRoute>(daemon::UpstreamRoute::Options{
        .zone = ".", .upstream = std::move(upstream), .budget = core::Seconds(budget), .max_inflight = max_inflight})};
}

// A policy that forwards everything and answers nothing itself.
inline policy::PolicySnapshot forward_all() { return std::make_shared<const policy::Policy>(); }

struct Resolved {
    dns::Message m;
    std::vector<std::byte> wire;
    std::uint32_t first_ttl() const { return dns::read_u32(wire, m.ttl_offsets.at(0)); }
};

inline Resolved resolve(daemon::Resolver& resolver, const std::string& name, std::uint16_t id = 1,
                        unsigned qtype = dns::type::A) {
    const std::vector<std::byte> q = Wire().header(id, 0x0100, 1, 0, 0, 0).question(name, qtype);
    std::array<std::byte, 4096> out{};
    const std::size_t n = resolver.resolve(q, udp_client(), out);
    Resolved a;
    a.wire.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    REQUIRE(dns::parse_message(a.wire, a.m) == dns::ParseStatus::Ok);
    return a;
}

}  // namespace greenfinch::test
