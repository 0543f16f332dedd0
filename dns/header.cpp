#include "dns/header.hpp"

#include "dns/bytes.hpp"
#include "dns/name.hpp"

#include <cstring>

namespace greenfinch::dns {

std::optional<MessageHead> parse_message_head(std::span<const std::byte> m) noexcept {
    if (m.size() < kMessageHeadSize) return std::nullopt;
    return MessageHead{.id = read_u16(m, 0), .flags = read_u16(m, 2)};
}

std::optional<Header> parse_header(std::span<const std::byte> m) noexcept {
    if (m.size() < kHeaderSize) return std::nullopt;
    Header h;
    h.id = read_u16(m, 0);
    h.flags = read_u16(m, 2);
    h.qdcount = read_u16(m, 4);
    h.ancount = read_u16(m, 6);
    h.nscount = read_u16(m, 8);
    h.arcount = read_u16(m, 10);
    return h;
}

std::optional<std::size_t> question_length(std::span<const std::byte> m) noexcept {
    auto name = read_name(m, kHeaderSize);
    if (!name || name->compressed || name->end + 4 > m.size()) return std::nullopt;
    return name->end + 4 - kHeaderSize;
}

std::size_t write_opt(std::span<std::byte> out, std::size_t at, const OptRecord& opt) noexcept {
    out[at] = std::byte{0};      // the root name
    write_u16(out, at + 1, 41);  // TYPE OPT
    write_u16(out, at + 3, opt.udp_payload);
    write_u16(out, at + 5, 0);  // extended RCODE and version 0
    write_u16(out, at + 7, opt.dnssec_ok ? 0x8000 : 0);
    write_u16(out, at + 9, 0);  // no options
    return at + kOptRecordSize;
}

std::size_t make_error_response(std::span<const std::byte> query, Rcode rcode, std::span<std::byte> out,
                                const std::optional<OptRecord>& opt) noexcept {
    const auto h = parse_header(query);
    if (!h || h->qr() || out.size() < kHeaderSize) return 0;
    std::size_t question = 0;
    if (h->qdcount == 1) {
        if (auto q = question_length(query)) question = *q;
    }
    if (question == 0 && rcode != Rcode::FormErr) rcode = Rcode::FormErr;
    if (kHeaderSize + question > out.size()) question = 0;
    // QR=1, the query's opcode and RD, RA=1 (we are a recursive service), the rcode.
    const auto flags = static_cast<std::uint16_t>(0x8000 | (h->flags & 0x7900) | 0x0080 | static_cast<unsigned>(rcode));
    write_u16(out, 0, h->id);
    write_u16(out, 2, flags);
    write_u16(out, 4, question ? 1 : 0);
    write_u16(out, 6, 0);
    write_u16(out, 8, 0);
    const bool with_opt = opt && kHeaderSize + question + kOptRecordSize <= out.size();
    write_u16(out, 10, with_opt ? 1 : 0);
    std::memcpy(out.data() + kHeaderSize, query.data() + kHeaderSize, question);
    return with_opt ? write_opt(out, kHeaderSize + question, *opt) : kHeaderSize + question;
}

}  // namespace greenfinch::dns
