// One resource record in the zone-file presentation form of RFC 1035 5.1, read into wire form.
//
// A line is `owner [TTL] [CLASS] TYPE RDATA`, TTL and class in either order and both optional (TTL 3600, class IN;
// no other class is taken). There is no $ORIGIN and no previous owner to fall back on: every name, the owner and the
// names inside RDATA, is absolute whether or not it ends in a dot. Outside quotes, `;` starts a comment and `(` `)`
// are dropped (a record folded onto one line); `\X` and `\DDD` escape a byte in names and strings. TTLs may carry
// BIND's units (1h30m). Typed RDATA is read for A, AAAA, NS, CNAME, PTR, MX, TXT (one or more strings), SRV, SOA and
// CAA; every type, those included, may be given in RFC 3597's generic form (`TYPE65 \# 4 0a0b0c0d`), which is checked
// for the types whose RDATA a reader parses (addresses and names), so a record can always be served as it was read.
// Bad input is an error value with a short problem for a human, never an exception.
#pragma once

#include "dns/message.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace greenfinch::dns {

inline constexpr std::uint32_t kDefaultZoneTtl = 3600;
inline constexpr std::uint32_t kMaxTtl = 0x7fffffff;  // RFC 2181 8
inline constexpr std::uint16_t kTypeCAA = 257;

struct ZoneRecord {
    std::vector<std::byte> owner;  // wire form, lowercased
    std::uint16_t type = 0;
    std::uint16_t rclass = kClassIN;
    std::uint32_t ttl = kDefaultZoneTtl;
    std::vector<std::byte> rdata;  // wire form; names in it uncompressed, in the case they were written
};

struct ZoneTextError {
    std::string problem;  // "bad IPv4 address", "unknown type FOO"
};

std::variant<ZoneRecord, ZoneTextError> parse_zone_line(std::string_view line);

// Whether `rdata` is what a reader of `rtype` expects (addresses of their size, names where names go, TXT strings that
// fill it exactly); the types a reader does not parse always fit.
bool rdata_fits_type(std::uint16_t rtype, std::span<const std::byte> rdata) noexcept;

}  // namespace greenfinch::dns
