#include "dns/presentation.hpp"

#include "dns/name.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace greenfinch::dns {

namespace {
struct TypeName {
    std::uint16_t type;
    std::string_view name;
};
constexpr std::array<TypeName, 16> kTypes{{{type::A, "A"},
                                           {type::NS, "NS"},
                                           {type::CNAME, "CNAME"},
                                           {type::SOA, "SOA"},
                                           {type::PTR, "PTR"},
                                           {type::MX, "MX"},
                                           {type::TXT, "TXT"},
                                           {type::AAAA, "AAAA"},
                                           {type::SRV, "SRV"},
                                           {type::DNAME, "DNAME"},
                                           {type::OPT, "OPT"},
                                           {type::DS, "DS"},
                                           {type::RRSIG, "RRSIG"},
                                           {48, "DNSKEY"},
                                           {65, "HTTPS"},
                                           {type::ANY, "ANY"}}};

std::string name_at(std::span<const std::byte> m, std::size_t at, std::size_t* end = nullptr) {
    std::array<std::byte, kMaxNameLength> buf{};
    auto n = read_name(m, at, buf);
    std::string out;
    if (!n) return "<bad name>";
    append_presentation(out, std::span(buf.data(), n->length));
    if (end) *end = n->end;
    return out;
}

std::string hex(std::span<const std::byte> b) {
    std::string out;
    char tmp[3];
    for (auto x : b) {
        std::snprintf(tmp, sizeof(tmp), "%02X", std::to_integer<unsigned>(x));
        out += tmp;
    }
    return out;
}

std::string rdata_text(std::span<const std::byte> m, std::uint16_t rtype, std::size_t at, std::size_t len) {
    auto rd = m.subspan(at, len);
    char buf[64];
    switch (rtype) {
        case type::A:
            if (len != 4) break;
            std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", std::to_integer<unsigned>(rd[0]),
                          std::to_integer<unsigned>(rd[1]), std::to_integer<unsigned>(rd[2]),
                          std::to_integer<unsigned>(rd[3]));
            return buf;
        case type::AAAA: {
            if (len != 16) break;
            std::string out;
            for (int i = 0; i < 8; ++i) {
                std::snprintf(buf, sizeof(buf), i ? ":%x" : "%x", read_u16(rd, static_cast<std::size_t>(i) * 2));
                out += buf;
            }
            return out;
        }
        case type::NS:
        case type::CNAME:
        case type::PTR:
        case type::DNAME: return name_at(m, at);
        case type::MX: return std::to_string(read_u16(m, at)) + " " + name_at(m, at + 2);
        case type::SRV:
            return std::to_string(read_u16(m, at)) + " " + std::to_string(read_u16(m, at + 2)) + " " +
                   std::to_string(read_u16(m, at + 4)) + " " + name_at(m, at + 6);
        case type::SOA: {
            std::size_t next = at;
            std::string out = name_at(m, at, &next) + " ";
            out += name_at(m, next, &next);
            for (int i = 0; i < 5; ++i)
                out += " " + std::to_string(read_u32(m, next + static_cast<std::size_t>(i) * 4));
            return out;
        }
        case type::TXT: {
            std::string out;
            std::size_t i = 0;
            while (i < len) {
                const std::size_t n = std::to_integer<std::size_t>(rd[i++]);
                out += out.empty() ? "\"" : " \"";
                for (std::size_t j = 0; j < n && i < len; ++j, ++i) {
                    const auto c = std::to_integer<unsigned char>(rd[i]);
                    if (c == '"' || c == '\\') out += '\\';
                    out += static_cast<char>(c);
                }
                out += '"';
            }
            return out;
        }
        default: break;
    }
    return "\\# " + std::to_string(len) + (len ? " " + hex(rd) : "");
}
}  // namespace

std::optional<std::uint16_t> type_from_name(std::string_view name) {
    std::string upper(name);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const auto& t : kTypes) {
        if (t.name == upper) return t.type;
    }
    if (upper.rfind("TYPE", 0) == 0) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(upper.data() + 4, upper.data() + upper.size(), v);
        if (ec == std::errc() && p == upper.data() + upper.size() && v <= 65535) return static_cast<std::uint16_t>(v);
    }
    return std::nullopt;
}

std::string type_name(std::uint16_t t) {
    for (const auto& e : kTypes) {
        if (e.type == t) return std::string(e.name);
    }
    return "TYPE" + std::to_string(t);
}

std::string rcode_name(unsigned rcode) {
    static constexpr std::array<std::string_view, 11> names = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                               "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                               "NXRRSET", "NOTAUTH", "NOTZONE"};
    return rcode < names.size() ? std::string(names[rcode]) : "RCODE" + std::to_string(rcode);
}

std::optional<std::vector<std::byte>> wire_name(std::string_view name) {
    std::vector<std::byte> out;
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    while (!name.empty()) {
        const auto dot = name.find('.');
        const auto label = name.substr(0, dot);
        if (label.empty() || label.size() > kMaxLabelLength) return std::nullopt;
        if (out.size() + label.size() + 2 > kMaxNameLength) return std::nullopt;
        out.push_back(static_cast<std::byte>(label.size()));
        for (char c : label) out.push_back(static_cast<std::byte>(c));
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    out.push_back(std::byte{0});
    return out;
}

std::optional<std::vector<std::byte>> build_query(std::string_view name, std::uint16_t qtype, std::uint16_t id,
                                                  std::optional<std::uint16_t> edns_size, bool dnssec_ok) {
    std::vector<std::byte> q(kHeaderSize);
    write_u16(q, 0, id);
    write_u16(q, 2, 0x0100);  // RD
    write_u16(q, 4, 1);
    write_u16(q, 10, edns_size ? 1 : 0);
    const auto wire = wire_name(name);
    if (!wire) return std::nullopt;
    q.insert(q.end(), wire->begin(), wire->end());
    const std::size_t at = q.size();
    q.resize(at + 4);
    write_u16(q, at, qtype);
    write_u16(q, at + 2, kClassIN);
    if (edns_size) {
        const std::size_t o = q.size();
        q.resize(o + 11);
        q[o] = std::byte{0};
        write_u16(q, o + 1, type::OPT);
        write_u16(q, o + 3, *edns_size);
        write_u32(q, o + 5, dnssec_ok ? 0x8000 : 0);
        write_u16(q, o + 9, 0);
    }
    return q;
}

std::string format_record(std::span<const std::byte> m, std::size_t offset, std::size_t& next) {
    std::size_t at = offset;
    std::string out = name_at(m, offset, &at);
    const std::uint16_t rtype = read_u16(m, at);
    const std::uint16_t rclass = read_u16(m, at + 2);
    const std::uint32_t ttl = read_u32(m, at + 4);
    const std::size_t rdlength = read_u16(m, at + 8);
    next = at + 10 + rdlength;
    out +=
        "\t" + std::to_string(ttl) + "\t" + (rclass == kClassIN ? std::string("IN") : "CLASS" + std::to_string(rclass));
    out += "\t" + type_name(rtype) + "\t" + rdata_text(m, rtype, at + 10, rdlength);
    return out;
}

std::string format_message(std::span<const std::byte> m, const Message& p) {
    const Header& h = p.header;
    std::string out =
        ";; ->>HEADER<<- opcode: " + std::string(h.opcode() == 0 ? "QUERY" : "OPCODE" + std::to_string(h.opcode())) +
        ", status: " +
        rcode_name(static_cast<unsigned>(h.rcode()) | (static_cast<unsigned>(p.edns.extended_rcode) << 4)) +
        ", id: " + std::to_string(h.id) + "\n;; flags:";
    constexpr std::array<std::pair<std::uint16_t, std::string_view>, 7> flags{{{0x8000, "qr"},
                                                                               {0x0400, "aa"},
                                                                               {0x0200, "tc"},
                                                                               {0x0100, "rd"},
                                                                               {0x0080, "ra"},
                                                                               {0x0020, "ad"},
                                                                               {0x0010, "cd"}}};
    for (const auto& [bit, text] : flags) {
        if (h.flags & bit) out += " " + std::string(text);
    }
    out += "; QUERY: " + std::to_string(h.qdcount) + ", ANSWER: " + std::to_string(h.ancount) +
           ", AUTHORITY: " + std::to_string(h.nscount) + ", ADDITIONAL: " + std::to_string(h.arcount) + "\n";
    if (p.edns.present) {
        out += "\n;; OPT PSEUDOSECTION:\n; EDNS: version: " + std::to_string(p.edns.version) +
               ", flags:" + (p.edns.dnssec_ok ? " do" : "") + "; udp: " + std::to_string(p.edns.udp_size) + "\n";
    }
    out += "\n;; QUESTION SECTION:\n;" + name_at(m, p.question.name_offset) + "\t\tIN\t" + type_name(p.question.qtype) +
           "\n";
    std::size_t at = p.question.end;
    const std::array<std::pair<std::uint16_t, std::string_view>, 3> sections{
        {{h.ancount, "ANSWER"}, {h.nscount, "AUTHORITY"}, {h.arcount, "ADDITIONAL"}}};
    for (const auto& [count, title] : sections) {
        std::string body;
        for (std::uint16_t i = 0; i < count; ++i) {
            const bool opt = read_u16(m, read_name(m, at)->end) == type::OPT;  // shown as the pseudosection above
            std::string record = format_record(m, at, at);
            if (!opt) body += record + "\n";
        }
        if (!body.empty()) out += "\n;; " + std::string(title) + " SECTION:\n" + body;
    }
    return out;
}

}  // namespace greenfinch::dns
