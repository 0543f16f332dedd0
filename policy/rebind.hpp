// DNS rebinding protection: upstream answers may not point clients at addresses on their own side of the network.
//
// A rebinding attack gives a name the attacker controls, once a browser has loaded the attacker's page, an address
// inside the victim's network (a router's admin page, a service on loopback), so that the page's scripts reach it
// under the same origin. filter_rebinding() removes from an upstream answer, before it is cached, every A and AAAA
// record (class IN, in any section) whose address is_rebinding_address() says is such an address. Which names may
// keep them (rebind_allow zones, forward zones to internal servers) is the caller's decision, from the question.
//
// Which addresses count: those that reach the host itself or its local networks, and those no public host has.
// - IPv4: 0.0.0.0/8 (0.0.0.0 reaches the host's own services on Linux and macOS), 10/8, 100.64/10 (shared address
//   space, RFC 6598), 127/8, 169.254/16, 172.16/12, 192.168/16, 224/4 (multicast: the local segment's groups) and
//   240/4 (reserved, and the broadcast address). That is dnsmasq's --stop-dns-rebind set without its documentation
//   networks (routed nowhere, so nothing to reach) plus the multicast and reserved ranges of Unbound's suggested
//   private-address list. Left out on purpose: 192.0.0.0/24 (ipv4only.arpa answers 192.0.0.170 and .171 for NAT64
//   prefix discovery, RFC 7050) and 198.18/15 (benchmarking, but also the range that "fake IP" proxies answer with).
// - IPv6: :: and ::1, fe80::/10 (link-local), fec0::/10 (site-local, deprecated but never global), fc00::/7 (unique
//   local), ff00::/8 (multicast); ::ffff:0:0/96 (IPv4-mapped: a socket connects to the IPv4 address inside) and
//   64:ff9b::/96 (the NAT64 well-known prefix, which RFC 6052 3.1 forbids for non-global addresses: a translator
//   that does not enforce it would carry the client to the address inside) when the IPv4 address inside counts.
//   Not looked into: 6to4 (2002::/16) and Teredo, which reach their embedded addresses only through relays.
#pragma once

#include "dns/message.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace greenfinch::policy {

enum class LoopbackAnswers : std::uint8_t {
    rebinding,  // 127/8 and ::1 are removed like the rest
    allowed,    // kept (dnsmasq's --rebind-localhost-ok): DNS blocklists (RFC 5782) answer 127.0.0.x
};

struct RebindRules {
    LoopbackAnswers loopback = LoopbackAnswers::rebinding;
};

// `rdata` is an A record's (4 bytes) or an AAAA record's (16); any other size is no address, and false.
bool is_rebinding_address(std::span<const std::byte> rdata, const RebindRules& rules = {}) noexcept;

enum class RebindStatus : std::uint8_t {
    unchanged,  // nothing to remove: keep the original message (nothing was copied)
    filtered,   // `wire` and `parsed` hold the message without those records
    failed,     // there were records to remove, but the message could not be rebuilt (larger than 65535 bytes once its
                // names are written out, or `parsed` not the parse of `wire`): the original must not be used either
};

struct RebindResult {
    RebindStatus status = RebindStatus::unchanged;
    std::size_t dropped = 0;
    std::vector<std::byte> wire;  // filtered only
    dns::Message parsed;          // filtered only: the parse of `wire`
};

// `wire` must be what parse_message() accepted into `parsed`. The header stays as it was (rcode included: an
// answer whose every record went is NOERROR with no answer records, NODATA), but for AD, which is cleared: the
// message is no longer the one the upstream validated. Records of other types stay; so do RRSIGs over a set that
// lost records, which a validating client then rightly finds bogus.
RebindResult filter_rebinding(std::span<const std::byte> wire, const dns::Message& parsed,
                              const RebindRules& rules = {});

}  // namespace greenfinch::policy
