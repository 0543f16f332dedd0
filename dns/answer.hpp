// Turning a stored answer into the answer one client gets.
//
// A cached response was stored as the upstream sent it (with our query's ID and the name's case as the first asker
// wrote it). write_answer() copies it for a client: the client's ID, the client's spelling of the name (DNS is
// case-insensitive, but clients check the echo, and 0x20 randomisation relies on it), every TTL reduced by the time
// spent in cache (or replaced, for a stale answer), the client's RD bit, and, if it is larger than the client can take over UDP, a
// truncated reply (TC=1, no records) so the client retries over TCP.
#pragma once

#include "dns/message.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace greenfinch::dns {

// The largest UDP response `query`'s sender accepts: 512 without EDNS, else its advertised size (at least 512),
// capped at `cap`.
std::size_t udp_limit(const Message& query, std::size_t cap) noexcept;

struct AnswerRewrite {
    std::uint16_t id;                          // the client's
    std::span<const std::byte> client_qname;   // the client's question name, as it wrote it
    std::uint32_t age = 0;                     // seconds since the answer was stored
    std::optional<std::uint32_t> fixed_ttl{};  // set every TTL to this instead (serve-stale: RFC 8767 suggests 30)
    std::size_t limit = 65535;                 // the client's size limit (udp_limit()), or 65535 over TCP
    bool client_edns = true;                   // false: the client sent no OPT, so it gets none back (RFC 6891 7)
    bool client_rd = true;                     // the client's RD bit, which the response echoes (RFC 1035 4.1.1)
};

// Writes the rewritten answer into `out` and returns its size; 0 if `out` is too small even for a truncated reply.
// `stored` is the stored response and `parsed` its parse (ttl_offsets are used; they stay valid for the copy).
std::size_t write_answer(std::span<const std::byte> stored, const Message& parsed, const AnswerRewrite& rewrite,
                         std::span<std::byte> out) noexcept;

}  // namespace greenfinch::dns
