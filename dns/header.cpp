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

std::size_t make_error_response(std::span<const std::byte> query, Rcode rcode, std::span<std::byte> out,
                                const std::optional<OptRecord>& opt, Authority authority) noexcept {
    const auto h = parse_header(query);
    if (!h || h->qr() || out.size() < kHeaderSize) return 0;
    const bool standard = h->opcode() == 0;
    std::size_t question = 0;
    if (h->qdcount == 1) {
        if (auto q = question_length(query)) question = *q;
    }
    if (question == 0 && rcode != Rcode::FormErr && rcode != Rcode::NotImp) rcode = Rcode::FormErr;
    if (kHeaderSize + question > out.size()) question = 0;
    std::optional<OptRecord> ours = opt;
    if (ours) {
        ours->extended_rcode = static_cast<std::uint8_t>(static_cast<unsigned>(rcode) >> 4);
        if (kHeaderSize + question + opt_size(*ours) > out.size()) ours->ede.reset();
        if (kHeaderSize + question + opt_size(*ours) > out.size()) ours.reset();
    }
    if (static_cast<unsigned>(rcode) > 0x0f && !ours) rcode = Rcode::FormErr;
    // QR=1, the query's opcode and RD, and for QUERY its CD and RA=1; the rcode's low bits.
    auto flags = static_cast<std::uint16_t>(kFlagQr | (h->flags & (kOpcodeBits | kFlagRd)) |
                                            (static_cast<unsigned>(rcode) & 0x0f));
    if (standard) flags = static_cast<std::uint16_t>(flags | kFlagRa | (h->flags & kFlagCd));
    if (authority == Authority::Authoritative) flags = static_cast<std::uint16_t>(flags | kFlagAa);
    write_u16(out, 0, h->id);
    write_u16(out, 2, flags);
    write_u16(out, 4, question ? 1 : 0);
    write_u16(out, 6, 0);
    write_u16(out, 8, 0);
    write_u16(out, 10, ours ? 1 : 0);
    std::memcpy(out.data() + kHeaderSize, query.data() + kHeaderSize, question);
    return ours ? write_opt(out, kHeaderSize + question, *ours) : kHeaderSize + question;
}

}  // namespace greenfinch::dns
