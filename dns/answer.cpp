#include "dns/answer.hpp"

#include <algorithm>
#include <cstring>

namespace greenfinch::dns {

namespace {
constexpr std::size_t kMinUdp = 512;
constexpr std::uint16_t kTcBit = 0x0200;
constexpr std::uint16_t kRdBit = 0x0100;

void write_id_and_rd(std::span<std::byte> out, const AnswerRewrite& rw) noexcept {
    write_u16(out, 0, rw.id);
    const std::uint16_t flags = read_u16(out, 2);
    write_u16(out, 2, static_cast<std::uint16_t>(rw.client_rd ? flags | kRdBit : flags & ~kRdBit));
}
}  // namespace

std::size_t udp_limit(const Message& query, std::size_t cap) noexcept {
    if (!query.edns.present) return std::min(kMinUdp, cap);
    return std::min(std::max<std::size_t>(query.edns.udp_size, kMinUdp), std::max(cap, kMinUdp));
}

std::size_t write_answer(std::span<const std::byte> stored, const Message& parsed, const AnswerRewrite& rw,
                         std::span<std::byte> out) noexcept {
    const std::size_t qend = parsed.question.end;
    if (rw.client_qname.size() != parsed.question.name_length || out.size() < qend) return 0;
    // Without EDNS from the client, the stored OPT is left out when it is the last record, as it almost always is.
    const bool drop_opt = !rw.client_edns && parsed.edns.present &&
                          parsed.edns.offset + kOptRecordSize + read_u16(stored, parsed.edns.offset + 9) == parsed.end;
    const std::size_t end = drop_opt ? parsed.edns.offset : parsed.end;
    const bool fits = end <= rw.limit && end <= out.size();
    if (!fits) {
        // Header and question only, TC=1; an OPT record if the stored answer had one, so EDNS survives the retry.
        const bool opt = parsed.edns.present && rw.client_edns && qend + kOptRecordSize <= out.size() &&
                         qend + kOptRecordSize <= rw.limit;
        std::memcpy(out.data(), stored.data(), qend);
        write_u16(out, 2, static_cast<std::uint16_t>(read_u16(out, 2) | kTcBit));
        write_u16(out, 6, 0);
        write_u16(out, 8, 0);
        write_u16(out, 10, opt ? 1 : 0);
        if (opt) {
            std::memcpy(out.data() + qend, stored.data() + parsed.edns.offset, kOptRecordSize - 2);
            write_u16(out, qend + kOptRecordSize - 2, 0);
        }
        write_id_and_rd(out, rw);
        std::memcpy(out.data() + kHeaderSize, rw.client_qname.data(), rw.client_qname.size());
        return qend + (opt ? kOptRecordSize : 0);
    }
    std::memcpy(out.data(), stored.data(), end);
    write_id_and_rd(out, rw);
    if (drop_opt) write_u16(out, 10, static_cast<std::uint16_t>(read_u16(out, 10) - 1));
    std::memcpy(out.data() + kHeaderSize, rw.client_qname.data(), rw.client_qname.size());
    for (const std::uint16_t at : parsed.ttl_offsets) {
        std::uint32_t ttl = read_u32(out, at);
        if (ttl & 0x80000000u) ttl = 0;
        ttl = rw.fixed_ttl ? *rw.fixed_ttl : (ttl > rw.age ? ttl - rw.age : 0);
        write_u32(out, at, ttl);
    }
    return end;
}

}  // namespace greenfinch::dns
