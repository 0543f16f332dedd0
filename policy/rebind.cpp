#include "policy/rebind.hpp"

#include "dns/answer_filter.hpp"
#include "dns/bytes.hpp"
#include "dns/records.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace greenfinch::policy {

namespace {

constexpr std::uint16_t kAdBit = 0x0020;

bool in_v4(std::uint32_t a, std::uint32_t net, unsigned prefix) noexcept {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (a & mask) == net;
}

bool is_rebinding_v4(std::uint32_t a, const RebindRules& rules) noexcept {
    if (in_v4(a, 0x7f000000, 8)) return rules.loopback == LoopbackAnswers::rebinding;  // 127/8
    return in_v4(a, 0x00000000, 8) ||                                                  // this network
           in_v4(a, 0x0a000000, 8) ||                                                  // 10/8
           in_v4(a, 0x64400000, 10) ||                                                 // 100.64/10
           in_v4(a, 0xa9fe0000, 16) ||                                                 // 169.254/16
           in_v4(a, 0xac100000, 12) ||                                                 // 172.16/12
           in_v4(a, 0xc0a80000, 16) ||                                                 // 192.168/16
           in_v4(a, 0xe0000000, 3);  // 224/4 multicast and 240/4 reserved: together 224/3
}

// Whether `a` starts with `prefix`.
template <std::size_t N>
bool starts_with(std::span<const std::byte> a, const std::array<std::uint8_t, N>& prefix) noexcept {
    return std::equal(prefix.begin(), prefix.end(), a.begin(),
                      [](std::uint8_t p, std::byte b) { return std::to_integer<std::uint8_t>(b) == p; });
}

bool is_rebinding_v6(std::span<const std::byte> a, const RebindRules& rules) noexcept {
    static constexpr std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static constexpr std::array<std::uint8_t, 12> kNat64 = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static constexpr std::array<std::uint8_t, 15> kZeros{};
    if (starts_with(a, kMapped) || starts_with(a, kNat64)) return is_rebinding_v4(dns::read_u32(a, 12), rules);
    if (starts_with(a, kZeros)) {
        const auto last = std::to_integer<unsigned>(a[15]);
        if (last == 0) return true;  // ::
        if (last == 1) return rules.loopback == LoopbackAnswers::rebinding;
        return false;
    }
    const auto first = std::to_integer<unsigned>(a[0]);
    const auto second = std::to_integer<unsigned>(a[1]);
    return (first & 0xfe) == 0xfc ||                      // fc00::/7 unique local
           (first == 0xfe && (second & 0x80) == 0x80) ||  // fe80::/10 link-local and fec0::/10 site-local
           first == 0xff;                                 // ff00::/8 multicast
}

}  // namespace

bool is_rebinding_address(std::span<const std::byte> rdata, const RebindRules& rules) noexcept {
    if (rdata.size() == 4) return is_rebinding_v4(dns::read_u32(rdata, 0), rules);
    if (rdata.size() == 16) return is_rebinding_v6(rdata, rules);
    return false;
}

RebindResult filter_rebinding(std::span<const std::byte> wire, const dns::Message& parsed, const RebindRules& rules) {
    const auto keep = [&](const dns::Record& r) {
        const bool address =
            (r.type == dns::type::A && r.rdlength == 4) || (r.type == dns::type::AAAA && r.rdlength == 16);
        if (!address || r.rclass != dns::kClassIN) return dns::Keep::keep;
        return is_rebinding_address(wire.subspan(r.rdata_offset, r.rdlength), rules) ? dns::Keep::drop
                                                                                     : dns::Keep::keep;
    };
    dns::FilterResult filtered = dns::filter_records(wire, parsed, keep);
    RebindResult result;
    switch (filtered.status) {
        case dns::FilterStatus::unchanged: return result;
        case dns::FilterStatus::too_large:
        case dns::FilterStatus::malformed: result.status = RebindStatus::failed; return result;
        case dns::FilterStatus::filtered: break;
    }
    result.status = RebindStatus::filtered;
    result.dropped = filtered.dropped;
    result.wire = std::move(filtered.wire);
    result.parsed = std::move(filtered.parsed);
    dns::write_u16(result.wire, 2, static_cast<std::uint16_t>(dns::read_u16(result.wire, 2) & ~kAdBit));
    result.parsed.header.flags &= static_cast<std::uint16_t>(~kAdBit);
    return result;
}

}  // namespace greenfinch::policy
