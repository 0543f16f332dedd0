// Message: a DNS message parsed and validated in one pass over the wire bytes, without copying them.
//
// parse_message() checks everything a forwarder relies on before it caches or answers: the header, exactly one
// question, and every resource record of every section: its name (see name.hpp), that its fixed fields and RDATA
// lie inside the message, that RDATA holding names (NS, CNAME, PTR, DNAME, MX, SOA, SRV) parses to exactly its
// RDLENGTH, fixed sizes for A and AAAA, and at most one OPT record, only in the additional section, owned by the
// root, with its options inside it. What it keeps is what the daemon needs: the question, EDNS (payload size, DO),
// the offset of every TTL except OPT's (for aging), the smallest TTL, and the authority's SOA (negative caching).
//
// A Message can be reused: parse_message() clears it, and keeps the capacity of ttl_offsets, so parsing a query
// (whose only record is usually OPT) allocates nothing.
#pragma once

#include "dns/bytes.hpp"
#include "dns/header.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace greenfinch::dns {

namespace type {
inline constexpr std::uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28, SRV = 33,
                               DNAME = 39, OPT = 41, DS = 43, RRSIG = 46, ANY = 255;
}  // namespace type
inline constexpr std::uint16_t kClassIN = 1;

struct Question {
    std::size_t name_offset = kHeaderSize;
    std::size_t name_length = 0;  // wire length: nothing precedes it but the header, so it is never compressed
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    std::size_t end = 0;  // offset just past QCLASS
};

struct Edns {
    bool present = false;
    std::uint16_t udp_size = 0;  // the sender's advertised payload size, as sent
    std::uint8_t extended_rcode = 0;
    std::uint8_t version = 0;
    bool dnssec_ok = false;
    std::size_t offset = 0;  // where the OPT record starts
};

struct Soa {
    std::uint32_t ttl = 0;
    std::uint32_t minimum = 0;
};

struct Message {
    Header header;
    Question question;
    Edns edns;
    std::vector<std::uint16_t> ttl_offsets;  // every record's TTL field, OPT's excepted
    std::optional<std::uint32_t> min_ttl;    // over those records (RFC 2181: a TTL with the top bit set counts as 0)
    std::optional<Soa> soa;                  // the first SOA of the authority section
    std::size_t end = 0;                     // offset just past the last record; bytes after it are ignored

    bool checking_disabled() const noexcept { return (header.flags & 0x0010) != 0; }
    bool truncated() const noexcept { return (header.flags & 0x0200) != 0; }
};

enum class ParseStatus : std::uint8_t {
    Ok,
    FormErr,  // malformed, but with a header: a query gets FORMERR
    Drop,     // too short to carry even a header: nothing to answer
};

ParseStatus parse_message(std::span<const std::byte> wire, Message& out);

}  // namespace greenfinch::dns
