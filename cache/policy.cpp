#include "cache/policy.hpp"

#include <algorithm>

namespace greenfinch::cache {

std::optional<std::uint32_t> cache_ttl(const dns::Message& r, const CachePolicy& p) noexcept {
    if (r.truncated()) return std::nullopt;
    switch (r.header.rcode()) {
        case dns::Rcode::NoError:
            if (r.header.ancount > 0) {
                if (!r.min_ttl) return std::nullopt;
                return std::clamp(*r.min_ttl, p.min_ttl, std::max(p.min_ttl, p.max_ttl));
            }
            [[fallthrough]];  // NODATA
        case dns::Rcode::NxDomain:
            if (!r.soa) return std::nullopt;
            return std::min({r.soa->ttl, r.soa->minimum, p.negative_ttl_max});
        case dns::Rcode::ServFail:
            if (p.servfail_ttl == 0) return std::nullopt;
            return p.servfail_ttl;
        default: return std::nullopt;
    }
}

void normalize_ttls(std::span<std::byte> wire, const dns::Message& parsed, std::uint32_t entry_ttl,
                    const CachePolicy& p) noexcept {
    for (const std::uint16_t at : parsed.ttl_offsets) {
        std::uint32_t ttl = dns::read_u32(wire, at);
        if (ttl & 0x80000000u) ttl = 0;
        dns::write_u32(wire, at, std::min(std::max(ttl, p.min_ttl), entry_ttl));
    }
}

}  // namespace greenfinch::cache
