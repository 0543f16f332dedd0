// Turning a stored answer into the answer one client gets.
//
// A cached response was stored as the upstream sent it (with our query's ID and the name's case as the first asker
// wrote it). write_answer() copies it for a client: the client's ID, the client's spelling of the name (DNS is
// case-insensitive, but clients check the echo, and 0x20 randomisation relies on it), every TTL reduced by the time
// spent in cache (or replaced, for a stale answer), the client's RD bit, and, if it is larger than the client can take over UDP, a
// truncated reply (TC=1, no records) so the client retries over TCP. An EDNS client may also be told why it got what
// it got (an EDE, RFC 8914), when that fits within its limit: an EDE never costs a client its answer.
//
// prepare_forwarded_answer() makes an upstream's response what we store, once, so that serving it costs nothing more:
// its flags and its OPT record speak for this server, not the upstream.
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
    std::optional<EdeCode> ede{};              // an EDE for an EDNS client, left out if it does not fit `limit`
};

// Writes the rewritten answer into `out` and returns its size; 0 if `out` is too small even for a truncated reply.
// `stored` is the stored response and `parsed` its parse (ttl_offsets are used; they stay valid for the copy).
std::size_t write_answer(std::span<const std::byte> stored, const Message& parsed, const AnswerRewrite& rewrite,
                         std::span<std::byte> out) noexcept;

// Rewrites `wire`, an upstream's response to the query we asked, and `parsed`, its parse, into the answer a forwarder
// stores: AA clear (a forwarder is not authoritative), Z clear (reserved), RA set (we are a recursive service), AD
// kept only when DO was asked (RFC 6840 5.8), and, as its last record, the OPT record `ours` describes (our payload
// size, version 0, DO as asked: RFC 3225), keeping only the upstream's extended rcode bits. The upstream's options
// and unknown flags are gone, and an upstream that sent no OPT gets ours added, so every EDNS client gets one back.
// False (and `wire` unusable) if the result would not be a message: the caller takes the answer for a malformed one.
bool prepare_forwarded_answer(std::vector<std::byte>& wire, Message& parsed, const OptRecord& ours);

}  // namespace greenfinch::dns
