#include "policy/blocked_response.hpp"

#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/span_writer.hpp"
#include "policy/synthesised_soa.hpp"

#include <array>

namespace greenfinch::policy {

namespace {
void write_soa(dns::SpanWriter& w, std::size_t owner) {
    w.pointer(owner);
    w.u16(dns::type::SOA);
    w.u16(dns::kClassIN);
    w.u32(kBlockedTtl);
    w.u16(static_cast<std::uint16_t>(2 + kSoaAfterMnameSize));
    w.pointer(owner);  // MNAME
    write_soa_after_mname(w, {.refresh = 3600, .retry = 600, .expire = 86400, .minimum = kBlockedTtl});
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

    dns::SpanWriter w(out);
    w.u16(q.header.id);
    w.u16(static_cast<std::uint16_t>(dns::kFlagQr | dns::kFlagRa | (q.header.flags & (dns::kFlagRd | dns::kFlagCd)) |
                                     static_cast<unsigned>(rcode)));
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
    std::size_t end = w.at();
    if (opt && !w.overflowed()) {
        if (end + dns::opt_size(*opt) > room.limit) opt->ede.reset();
        if (end + dns::opt_size(*opt) > out.size()) return 0;
        end = dns::write_opt(out, end, *opt);
    }
    return !w.overflowed() && end <= room.limit ? end : 0;
}

}  // namespace greenfinch::policy
