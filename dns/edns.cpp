#include "dns/edns.hpp"

#include "dns/bytes.hpp"

namespace greenfinch::dns {

namespace {
constexpr std::uint16_t kTypeOpt = 41;
}  // namespace

std::size_t write_ede_option(std::span<std::byte> out, std::size_t at, EdeCode code) noexcept {
    write_u16(out, at, kEdnsOptionEde);
    write_u16(out, at + 2, 2);
    write_u16(out, at + 4, static_cast<std::uint16_t>(code));
    return at + kEdeOptionSize;
}

std::size_t write_opt(std::span<std::byte> out, std::size_t at, const OptRecord& opt) noexcept {
    out[at] = std::byte{0};  // the root name
    write_u16(out, at + 1, kTypeOpt);
    write_u16(out, at + 3, opt.udp_payload);
    write_u16(out, at + 5, static_cast<std::uint16_t>(opt.extended_rcode << 8));  // and version 0
    write_u16(out, at + 7, opt.dnssec_ok ? kOptFlagDo : 0);
    write_u16(out, at + 9, opt.ede ? static_cast<std::uint16_t>(kEdeOptionSize) : 0);
    at += kOptRecordSize;
    return opt.ede ? write_ede_option(out, at, *opt.ede) : at;
}

}  // namespace greenfinch::dns
