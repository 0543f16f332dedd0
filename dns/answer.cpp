#include "dns/answer.hpp"

#include "dns/name.hpp"

#include <algorithm>
#include <cstring>

namespace greenfinch::dns {

namespace {
constexpr std::size_t kMinUdp = 512;
constexpr std::size_t kMaxMessage = 65535;

void write_id_and_rd(std::span<std::byte> out, const AnswerRewrite& rw) noexcept {
    write_u16(out, 0, rw.id);
    const std::uint16_t flags = read_u16(out, 2);
    write_u16(out, 2, static_cast<std::uint16_t>(rw.client_rd ? flags | kFlagRd : flags & ~kFlagRd));
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
        write_u16(out, 2, static_cast<std::uint16_t>(read_u16(out, 2) | kFlagTc));
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
    std::size_t size = end;
    // An EDE goes into our OPT record, which a stored answer holds last and without options.
    if (rw.ede && rw.client_edns && parsed.edns.present && parsed.edns.offset + kOptRecordSize == end &&
        end + kEdeOptionSize <= rw.limit && end + kEdeOptionSize <= out.size()) {
        write_u16(out, parsed.edns.offset + 9, static_cast<std::uint16_t>(kEdeOptionSize));
        size = write_ede_option(out, end, *rw.ede);
    }
    std::memcpy(out.data() + kHeaderSize, rw.client_qname.data(), rw.client_qname.size());
    for (const std::uint16_t at : parsed.ttl_offsets) {
        std::uint32_t ttl = read_u32(out, at);
        if (ttl & 0x80000000u) ttl = 0;
        ttl = rw.fixed_ttl ? *rw.fixed_ttl : (ttl > rw.age ? ttl - rw.age : 0);
        write_u32(out, at, ttl);
    }
    return size;
}

bool prepare_forwarded_answer(std::vector<std::byte>& wire, Message& parsed, const OptRecord& ours) {
    if (parsed.end > wire.size() || parsed.end < parsed.question.end) return false;
    auto flags = static_cast<std::uint16_t>((parsed.header.flags & ~(kFlagAa | kFlagZ)) | kFlagRa);
    if (!ours.dnssec_ok) flags = static_cast<std::uint16_t>(flags & ~kFlagAd);
    OptRecord opt = ours;
    opt.ede.reset();
    std::size_t arcount = parsed.header.arcount;
    std::size_t end = parsed.end;  // bytes past the last record are no part of the message
    bool dropped = false;          // records after the upstream's OPT were left out: the parse must be redone
    if (parsed.edns.present) {
        opt.extended_rcode = parsed.edns.extended_rcode;
        // Records after the OPT (rare) are additional data, which a forwarder may leave out; moving them instead
        // would break any compression pointer among them that points past the OPT.
        for (std::size_t at = parsed.edns.offset; at < end; --arcount) {
            const auto name = read_name(wire, at);
            if (!name || name->end + 10 > end) return false;
            at = name->end + 10 + read_u16(wire, name->end + 8);
            dropped = dropped || at < end;
        }
        end = parsed.edns.offset;
    }
    if (end + kOptRecordSize > kMaxMessage || arcount >= 0xffff) return false;
    wire.resize(end + kOptRecordSize);
    write_opt(wire, end, opt);
    write_u16(wire, 2, flags);
    write_u16(wire, 10, static_cast<std::uint16_t>(arcount + 1));
    if (dropped) return parse_message(wire, parsed) == ParseStatus::Ok;
    parsed.header.flags = flags;
    parsed.header.arcount = static_cast<std::uint16_t>(arcount + 1);
    parsed.edns = Edns{.present = true,
                       .udp_size = opt.udp_payload,
                       .extended_rcode = opt.extended_rcode,
                       .version = 0,
                       .dnssec_ok = opt.dnssec_ok,
                       .offset = end};
    parsed.end = end + kOptRecordSize;
    return true;
}

}  // namespace greenfinch::dns
