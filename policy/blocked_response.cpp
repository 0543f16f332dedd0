#include "policy/blocked_response.hpp"

#include "dns/bytes.hpp"
#include "dns/header.hpp"

#include <array>
#include <cstring>

namespace greenfinch::policy {

namespace {
constexpr std::uint16_t kQr = 0x8000, kRd = 0x0100, kRa = 0x0080, kCd = 0x0010;

// Appends bytes, refusing to pass the end of `out`.
struct Writer {
    std::span<std::byte> out;
    std::size_t at = 0;
    bool ok = true;

    void bytes(std::span<const std::byte> b) {
        if (!ok || at + b.size() > out.size()) {
            ok = false;
            return;
        }
        std::memcpy(out.data() + at, b.data(), b.size());
        at += b.size();
    }
    void u16(std::uint16_t v) {
        const std::array<std::byte, 2> b{std::byte(v >> 8), std::byte(v & 0xff)};
        bytes(b);
    }
    void u32(std::uint32_t v) {
        u16(static_cast<std::uint16_t>(v >> 16));
        u16(static_cast<std::uint16_t>(v & 0xffff));
    }
    // A compression pointer to offset `to` of the message.
    void pointer(std::size_t to) { u16(static_cast<std::uint16_t>(0xc000 | to)); }
};

// "nobody.invalid.": the SOA's RNAME, a mailbox that cannot exist.
constexpr std::array<std::byte, 16> kNobody{std::byte{6},   std::byte{'n'}, std::byte{'o'}, std::byte{'b'},
                                            std::byte{'o'}, std::byte{'d'}, std::byte{'y'}, std::byte{7},
                                            std::byte{'i'}, std::byte{'n'}, std::byte{'v'}, std::byte{'a'},
                                            std::byte{'l'}, std::byte{'i'}, std::byte{'d'}, std::byte{0}};

void write_soa(Writer& w, std::size_t owner) {
    w.pointer(owner);
    w.u16(dns::type::SOA);
    w.u16(dns::kClassIN);
    w.u32(kBlockedTtl);
    w.u16(static_cast<std::uint16_t>(2 + kNobody.size() + 5 * 4));
    w.pointer(owner);                                                               // MNAME
    w.bytes(kNobody);                                                               // RNAME
    for (const std::uint32_t v : {1u, 3600u, 600u, 86400u, kBlockedTtl}) w.u32(v);  // serial .. minimum
}
}  // namespace

std::size_t write_blocked_response(const BlockedQuery& query, BlockAnswer mode, const ReplyRoom& room,
                                   std::span<std::byte> out) noexcept {
    const dns::Message& q = query.parsed;
    const std::uint16_t qtype = q.question.qtype;
    enum class Body : std::uint8_t { None, Soa, A, Aaaa } body = Body::Soa;
    dns::Rcode rcode = dns::Rcode::NxDomain;
    if (mode == BlockAnswer::refused) {
        rcode = dns::Rcode::Refused;
        body = Body::None;
    } else if (mode == BlockAnswer::null) {
        rcode = dns::Rcode::NoError;
        body = qtype == dns::type::A ? Body::A : qtype == dns::type::AAAA ? Body::Aaaa : Body::Soa;
    }
    std::optional<dns::OptRecord> opt = room.opt;
    if (opt) opt->ede = dns::EdeCode::Blocked;

    Writer w{.out = out};
    w.u16(q.header.id);
    w.u16(static_cast<std::uint16_t>(kQr | kRa | (q.header.flags & (kRd | kCd)) | static_cast<unsigned>(rcode)));
    w.u16(1);
    w.u16(body == Body::A || body == Body::Aaaa ? 1 : 0);
    w.u16(body == Body::Soa ? 1 : 0);
    w.u16(opt ? 1 : 0);
    w.bytes(query.wire.subspan(dns::kHeaderSize, q.question.end - dns::kHeaderSize));
    if (body == Body::A || body == Body::Aaaa) {
        w.pointer(dns::kHeaderSize);
        w.u16(qtype);
        w.u16(dns::kClassIN);
        w.u32(kBlockedTtl);
        const std::array<std::byte, 16> unspecified{};
        const std::size_t n = body == Body::A ? 4 : 16;
        w.u16(static_cast<std::uint16_t>(n));
        w.bytes(std::span<const std::byte>(unspecified).first(n));
    } else if (body == Body::Soa) {
        write_soa(w, dns::kHeaderSize + query.listed_at);
    }
    if (opt) {
        if (w.ok && w.at + dns::opt_size(*opt) > room.limit) opt->ede.reset();
        if (w.ok && w.at + dns::opt_size(*opt) <= out.size()) {
            w.at = dns::write_opt(out, w.at, *opt);
        } else {
            w.ok = false;
        }
    }
    return w.ok && w.at <= room.limit ? w.at : 0;
}

}  // namespace greenfinch::policy
