#include "dns/upstream_query.hpp"

#include "dns/bytes.hpp"
#include "dns/message.hpp"

#include <cstring>

namespace greenfinch::dns {

std::span<const std::byte> write_upstream_query(const QueryKey& key, std::uint16_t udp_payload,
                                                UpstreamQueryBuffer& out) noexcept {
    constexpr std::uint16_t kRd = 0x0100, kCd = 0x0010;
    write_u16(out, 0, 0);
    write_u16(out, 2, static_cast<std::uint16_t>(kRd | (key.checking_disabled() ? kCd : 0)));
    write_u16(out, 4, 1);
    write_u16(out, 6, 0);
    write_u16(out, 8, 0);
    write_u16(out, 10, 1);
    const std::span<const std::byte> name = key.name();
    std::memcpy(out.data() + kHeaderSize, name.data(), name.size());
    std::size_t at = kHeaderSize + name.size();
    write_u16(out, at, key.qtype());
    write_u16(out, at + 2, key.qclass());
    at = write_opt(out, at + 4, OptRecord{udp_payload, key.dnssec_ok()});
    return std::span<const std::byte>(out).first(at);
}

std::optional<std::span<const std::byte>> without_opt(std::span<const std::byte> query,
                                                      UpstreamQueryBuffer& out) noexcept {
    if (query.size() < kHeaderSize + kOptRecordSize || query.size() > out.size()) return std::nullopt;
    const std::optional<Header> h = parse_header(query);
    const std::span<const std::byte> opt = query.last(kOptRecordSize);
    if (!h || h->arcount != 1 || opt[0] != std::byte{0} || read_u16(opt, 1) != type::OPT) return std::nullopt;
    std::memmove(out.data(), query.data(), query.size() - kOptRecordSize);
    write_u16(out, 10, 0);
    return std::span<const std::byte>(out).first(query.size() - kOptRecordSize);
}

}  // namespace greenfinch::dns
