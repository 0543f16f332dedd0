#include "dns/message.hpp"

#include "dns/name.hpp"

#include <algorithm>

namespace greenfinch::dns {

namespace {

constexpr std::size_t kRecordFixed = 10;  // TYPE, CLASS, TTL, RDLENGTH

using TtlFields = std::span<const std::uint16_t>;

// A name inside RDATA [at, rdata_end): well formed, and not running past the RDATA.
std::optional<std::size_t> rdata_name(std::span<const std::byte> m, std::size_t at, std::size_t rdata_end,
                                      TtlFields ttls, const CheckedName* question) {
    auto n = read_name(m.first(rdata_end), at, {}, ttls, question);
    if (!n) return std::nullopt;
    return n->end;
}

bool valid_rdata(std::span<const std::byte> m, std::uint16_t rtype, std::size_t at, std::size_t end, TtlFields ttls,
                 const CheckedName* question) {
    const std::size_t len = end - at;
    switch (rtype) {
        case type::A: return len == 4;
        case type::AAAA: return len == 16;
        case type::NS:
        case type::CNAME:
        case type::PTR:
        case type::DNAME: {
            auto e = rdata_name(m, at, end, ttls, question);
            return e && *e == end;
        }
        case type::MX: {
            if (len < 3) return false;
            auto e = rdata_name(m, at + 2, end, ttls, question);
            return e && *e == end;
        }
        case type::SRV: {
            if (len < 7) return false;
            auto e = rdata_name(m, at + 6, end, ttls, question);
            return e && *e == end;
        }
        case type::SOA: {
            auto mname = rdata_name(m, at, end, ttls, question);
            if (!mname) return false;
            auto rname = rdata_name(m, *mname, end, ttls, question);
            return rname && *rname + 20 == end;
        }
        default: return true;  // opaque to a forwarder
    }
}

bool valid_opt_options(std::span<const std::byte> m, std::size_t at, std::size_t end) {
    while (at < end) {
        if (end - at < 4) return false;
        const std::size_t len = read_u16(m, at + 2);
        at += 4;
        if (len > end - at) return false;
        at += len;
    }
    return true;
}

}  // namespace

ParseStatus parse_message(std::span<const std::byte> m, Message& out) {
    out.question = {};
    out.edns = {};
    out.ttl_offsets.clear();
    out.min_ttl.reset();
    out.soa.reset();
    out.end = 0;
    auto header = parse_header(m);
    if (!header) return ParseStatus::Drop;
    if (m.size() > 65535) return ParseStatus::FormErr;  // larger than any DNS message; offsets are 16-bit
    out.header = *header;
    if (header->qdcount != 1) return ParseStatus::FormErr;

    auto qname = read_name(m, kHeaderSize);
    // The question comes first, so its name has nothing to point back to: it must be written out in full.
    if (!qname || qname->compressed || qname->end + 4 > m.size()) return ParseStatus::FormErr;
    out.question.name_length = qname->length;
    out.question.qtype = read_u16(m, qname->end);
    out.question.qclass = read_u16(m, qname->end + 2);
    out.question.end = qname->end + 4;

    std::size_t at = out.question.end;
    const std::size_t counts[3] = {header->ancount, header->nscount, header->arcount};
    // None of this for a query whose only record is its OPT (no TTL to age, no name pointing into the question):
    // parsing it must not allocate. Otherwise one allocation rather than one per doubling (a record takes at least 11
    // bytes, so lying counts cannot inflate it), and the question noted for the pointers into it.
    std::optional<CheckedName> question;
    if (counts[0] + counts[1] > 0 || counts[2] > 1) {
        out.ttl_offsets.reserve(std::min(counts[0] + counts[1] + counts[2], (m.size() - at) / (1 + kRecordFixed)));
        question.emplace(m, kHeaderSize, qname->length);
    }
    const CheckedName* checked = question ? &*question : nullptr;
    for (int section = 0; section < 3; ++section) {
        for (std::size_t i = 0; i < counts[section]; ++i) {
            const std::size_t start = at;
            auto name = read_name(m, at, {}, out.ttl_offsets, checked);
            if (!name || name->end + kRecordFixed > m.size()) return ParseStatus::FormErr;
            at = name->end;
            const std::uint16_t rtype = read_u16(m, at);
            const std::uint16_t rclass = read_u16(m, at + 2);
            const std::uint32_t raw_ttl = read_u32(m, at + 4);
            const std::size_t rdlength = read_u16(m, at + 8);
            const std::size_t rdata = at + kRecordFixed;
            if (rdlength > m.size() - rdata) return ParseStatus::FormErr;
            const std::size_t rdata_end = rdata + rdlength;

            if (rtype == type::OPT) {
                // RFC 6891 6.1.1: one OPT, in the additional section, owned by the root.
                if (section != 2 || out.edns.present || name->length != 1) return ParseStatus::FormErr;
                if (!valid_opt_options(m, rdata, rdata_end)) return ParseStatus::FormErr;
                out.edns.present = true;
                out.edns.offset = start;
                out.edns.udp_size = rclass;
                out.edns.extended_rcode = static_cast<std::uint8_t>(raw_ttl >> 24);
                out.edns.version = static_cast<std::uint8_t>((raw_ttl >> 16) & 0xff);
                out.edns.dnssec_ok = (raw_ttl & 0x8000) != 0;
            } else {
                // The TTL field first: a name in this record's own RDATA may not point into it either.
                out.ttl_offsets.push_back(static_cast<std::uint16_t>(at + 4));
                if (!valid_rdata(m, rtype, rdata, rdata_end, out.ttl_offsets, checked)) return ParseStatus::FormErr;
                const std::uint32_t ttl = (raw_ttl & 0x80000000u) ? 0 : raw_ttl;
                if (!out.min_ttl || ttl < *out.min_ttl) out.min_ttl = ttl;
                if (section == 1 && rtype == type::SOA && !out.soa) {
                    out.soa = Soa{ttl, read_u32(m, rdata_end - 4)};
                }
            }
            at = rdata_end;
        }
    }
    out.end = at;
    return ParseStatus::Ok;
}

}  // namespace greenfinch::dns
