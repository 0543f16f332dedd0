// The DNS message header (RFC 1035 4.1.1) and the minimal responses a server gives without resolving anything.
//
// Pure functions over bytes: nothing here trusts its input or does I/O. An error is a value (nullopt / 0), never an
// exception, since malformed packets are routine on a DNS port.
#pragma once

#include "dns/edns.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace greenfinch::dns {

inline constexpr std::size_t kHeaderSize = 12;

// The header holds an rcode's low 4 bits; an extended one (from 16) keeps the rest in the OPT record (RFC 6891 6.1.3).
enum class Rcode : std::uint8_t {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
    BadVers = 16,
};

// The ID and the flags: the first four bytes of a message, all that a reader who sees a message only in part (the
// head of a TCP message) needs to tell whose answer it is and how it went.
struct MessageHead {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;

    bool qr() const noexcept { return (flags & 0x8000) != 0; }
    std::uint8_t opcode() const noexcept { return static_cast<std::uint8_t>((flags >> 11) & 0x0f); }
    bool tc() const noexcept { return (flags & 0x0200) != 0; }
    bool rd() const noexcept { return (flags & 0x0100) != 0; }
    Rcode rcode() const noexcept { return static_cast<Rcode>(flags & 0x000f); }
};
inline constexpr std::size_t kMessageHeadSize = 4;

struct Header : MessageHead {
    std::uint16_t qdcount = 0;
    std::uint16_t ancount = 0;
    std::uint16_t nscount = 0;
    std::uint16_t arcount = 0;
};

std::optional<MessageHead> parse_message_head(std::span<const std::byte> message) noexcept;
std::optional<Header> parse_header(std::span<const std::byte> message) noexcept;

// The length of the question section that starts right after the header (one question, an uncompressed name as
// queries carry), or nullopt if it runs past the end or breaks the name rules.
std::optional<std::size_t> question_length(std::span<const std::byte> message) noexcept;

// Whether a response of ours speaks for the zone (AA, RFC 1035 4.1.1): a forwarder's never does; local data may.
enum class Authority : std::uint8_t { NotAuthoritative, Authoritative };

inline constexpr std::uint16_t kOpcodeBits = 0x7800, kFlagQr = 0x8000, kFlagAa = 0x0400, kFlagTc = 0x0200,
                               kFlagRd = 0x0100, kFlagRa = 0x0080, kFlagZ = 0x0040, kFlagAd = 0x0020, kFlagCd = 0x0010;

// Writes into `out` a response to `query` with the given rcode and no records: the query's ID, opcode, RD and question
// echoed back, and for a standard query its CD bit and RA=1 (we are a recursive service). FORMERR drops the question
// when it cannot be parsed; NOTIMP needs none (an unknown opcode may come without one), and RA, AD and CD, defined for
// QUERY only, stay clear in it. `opt`, if given, is written after the question (a client that spoke
// EDNS must get an OPT back, or it may take us for a server without EDNS), with its EDE if that fits too. An extended
// rcode (BADVERS) needs `opt`, which carries its high bits; without room for one it becomes FORMERR. Returns the
// response size, or 0 when `query` is not a query at all (too short for a header, or already a response), which a
// server drops.
std::size_t make_error_response(std::span<const std::byte> query, Rcode rcode, std::span<std::byte> out,
                                const std::optional<OptRecord>& opt = std::nullopt,
                                Authority authority = Authority::NotAuthoritative) noexcept;

}  // namespace greenfinch::dns
