// CachePolicy: whether and for how long an upstream response may be cached, and the TTLs it is then served with.
//
// - Truncated responses are never cached (the TCP retry brings the whole answer).
// - NOERROR with answers: the smallest TTL of its records, clamped to [min_ttl, max_ttl].
// - NXDOMAIN, and NOERROR without answers (NODATA): negative caching per RFC 2308, for min(SOA TTL, SOA MINIMUM),
//   capped at negative_ttl_max; without an SOA in the authority section, not cached (RFC 2308 5).
// - SERVFAIL: servfail_ttl seconds (0: never), so a broken zone is not hammered on every query.
// - Anything else (REFUSED, FORMERR, NOTIMP...): never.
//
// normalize_ttls() rewrites a response about to be stored so that no record outlives the entry: each TTL becomes
// min(max(ttl, min_ttl), entry TTL). Aged on the way out, the SOA of a negative answer then shows the remaining
// negative TTL (RFC 2308 5), not the SOA's own.
#pragma once

#include "dns/message.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace greenfinch::cache {

struct CachePolicy {
    std::uint32_t min_ttl = 0;
    std::uint32_t max_ttl = 86400;
    std::uint32_t negative_ttl_max = 3600;
    std::uint32_t servfail_ttl = 5;
};

// The entry's TTL, or nullopt when the response must not be cached.
std::optional<std::uint32_t> cache_ttl(const dns::Message& response, const CachePolicy& policy) noexcept;

void normalize_ttls(std::span<std::byte> wire, const dns::Message& parsed, std::uint32_t entry_ttl,
                    const CachePolicy& policy) noexcept;

}  // namespace greenfinch::cache
