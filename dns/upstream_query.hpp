// The query a forwarder sends upstream for a cache key.
//
// It is built from the key alone, so what the first client happened to send never reaches the upstream or the
// cache: not its ID, its RD bit, or its EDNS options (a cookie, its client subnet, a padding request). The key's
// name, type, class and CD bit, RD=1, and an OPT record with our UDP payload size and the key's DO bit: one query
// per key, whose answer suits every client that shares the key. The OPT record, always last and without options,
// is what c-ares strips when an upstream without EDNS answers FORMERR (ARES_FLAG_EDNS).
#pragma once

#include "dns/header.hpp"
#include "dns/query_key.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <span>

namespace greenfinch::dns {

inline constexpr std::size_t kMaxUpstreamQuerySize = kHeaderSize + kMaxNameLength + 4 + kOptRecordSize;
using UpstreamQueryBuffer = std::array<std::byte, kMaxUpstreamQuerySize>;

// Writes the query (ID 0: the sender draws one) and returns its bytes, a prefix of `out`.
std::span<const std::byte> write_upstream_query(const QueryKey& key, std::uint16_t udp_payload,
                                                UpstreamQueryBuffer& out) noexcept;

// The same query without its OPT record, for an upstream that answered it FORMERR without one of its own (no EDNS),
// written into `out`; nullopt unless `query` ends with a bare OPT record as its only additional record, as
// write_upstream_query() writes it. `query` may be a prefix of `out` itself.
std::optional<std::span<const std::byte>> without_opt(std::span<const std::byte> query,
                                                      UpstreamQueryBuffer& out) noexcept;

}  // namespace greenfinch::dns
