#include "dns/header.hpp"

#include <algorithm>
#include <cstring>

namespace greenfinch::dns {

namespace {
std::uint16_t read16(std::span<const std::byte> b, std::size_t at) noexcept {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[at]) << 8) | std::to_integer<unsigned>(b[at + 1]));
}
void write16(std::span<std::byte> b, std::size_t at, std::uint16_t v) noexcept {
    b[at] = static_cast<std::byte>(v >> 8);
    b[at + 1] = static_cast<std::byte>(v & 0xff);
}
constexpr std::size_t kMaxName = 255;
}  // namespace

std::optional<Header> parse_header(std::span<const std::byte> m) noexcept {
    if (m.size() < kHeaderSize) return std::nullopt;
    return Header{read16(m, 0), read16(m, 2), read16(m, 4), read16(m, 6), read16(m, 8), read16(m, 10)};
}

std::optional<std::size_t> question_length(std::span<const std::byte> m) noexcept {
    std::size_t at = kHeaderSize;
    std::size_t name = 0;
    for (;;) {
        if (at >= m.size()) return std::nullopt;
        const auto len = std::to_integer<std::size_t>(m[at]);
        if (len > 63) return std::nullopt;  // a compression pointer or a reserved label type: not in a query's name
        name += len + 1;
        if (name > kMaxName) return std::nullopt;
        ++at;
        if (len == 0) break;
        at += len;
    }
    if (at + 4 > m.size()) return std::nullopt;  // QTYPE and QCLASS
    return at + 4 - kHeaderSize;
}

std::size_t make_error_response(std::span<const std::byte> query, Rcode rcode, std::span<std::byte> out) noexcept {
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
    write16(out, 0, h->id);
    write16(out, 2, flags);
    write16(out, 4, question ? 1 : 0);
    write16(out, 6, 0);
    write16(out, 8, 0);
    write16(out, 10, 0);
    std::memcpy(out.data() + kHeaderSize, query.data() + kHeaderSize, question);
    return kHeaderSize + question;
}

}  // namespace greenfinch::dns
