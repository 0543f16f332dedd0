#include "dns/zone_text.hpp"

#include "dns/name.hpp"
#include "dns/presentation.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <optional>
#include <span>

namespace greenfinch::dns {

namespace {

struct Token {
    std::string_view text;  // as written, escapes undecoded; for a quoted string, what lies between the quotes
    bool quoted = false;
};

using Tokens = std::span<const Token>;

// Why a field failed; the caller knows which field it was reading and words the problem.
struct Fail {
    std::string problem;
};

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
    }
    return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::variant<std::vector<Token>, Fail> tokenize(std::string_view line) {
    std::vector<Token> tokens;
    std::size_t i = 0;
    while (i < line.size()) {
        const char c = line[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')') {
            ++i;
        } else if (c == ';') {
            break;
        } else if (c == '"') {
            const std::size_t start = ++i;
            while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
            if (i >= line.size()) return Fail{"unterminated quoted string"};
            tokens.push_back({line.substr(start, i - start), true});
            ++i;
        } else {
            const std::size_t start = i;
            while (i < line.size()) {
                const char d = line[i];
                if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == '(' || d == ')' || d == ';' || d == '"')
                    break;
                if (d == '\\' && i + 1 >= line.size()) return Fail{"backslash at the end of the line"};
                i += d == '\\' ? 2 : 1;
            }
            tokens.push_back({line.substr(start, i - start), false});
        }
    }
    return tokens;
}

// Decodes the escape at text[i] (a backslash) into `byte`; returns the index after it, or nullopt if it is malformed
// (\DDD needs exactly three digits and a value up to 255).
std::optional<std::size_t> decode_escape(std::string_view text, std::size_t i, std::byte& byte) {
    if (i + 1 >= text.size()) return std::nullopt;
    if (!is_digit(text[i + 1])) {
        byte = static_cast<std::byte>(text[i + 1]);
        return i + 2;
    }
    if (i + 3 >= text.size()) return std::nullopt;
    if (!is_digit(text[i + 2]) || !is_digit(text[i + 3])) return std::nullopt;
    const int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
    if (v > 255) return std::nullopt;
    byte = static_cast<std::byte>(v);
    return i + 4;
}

// A <character-string>: its bytes, escapes decoded.
std::optional<std::vector<std::byte>> decode_string(std::string_view text) {
    std::vector<std::byte> out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '\\') {
            std::byte b{};
            auto next = decode_escape(text, i, b);
            if (!next) return std::nullopt;
            out.push_back(b);
            i = *next;
        } else {
            out.push_back(static_cast<std::byte>(text[i++]));
        }
    }
    return out;
}

// An absolute domain name (final dot optional) with escapes, appended to `out` in wire form.
std::optional<Fail> append_name(const Token& token, std::vector<std::byte>& out) {
    const std::string_view text = token.text;
    if (token.quoted) return Fail{"a name cannot be quoted"};
    if (text == "@") return Fail{"@ needs an origin: write the name in full"};
    const std::size_t start = out.size();
    if (text != ".") {
        std::size_t i = 0;
        while (i < text.size()) {
            const std::size_t length_at = out.size();
            out.push_back(std::byte{0});
            while (i < text.size() && text[i] != '.') {
                std::byte b{};
                if (text[i] == '\\') {
                    auto next = decode_escape(text, i, b);
                    if (!next) return Fail{"bad escape in name " + std::string(text)};
                    i = *next;
                } else {
                    b = static_cast<std::byte>(text[i++]);
                }
                out.push_back(b);
            }
            const std::size_t label = out.size() - length_at - 1;
            if (label == 0) return Fail{"empty label in name " + std::string(text)};
            if (label > kMaxLabelLength) return Fail{"label over 63 bytes in name " + std::string(text)};
            out[length_at] = static_cast<std::byte>(label);
            if (i < text.size()) ++i;  // the dot
        }
    }
    out.push_back(std::byte{0});
    if (out.size() - start > kMaxNameLength) return Fail{"name over 255 bytes: " + std::string(text)};
    return std::nullopt;
}

template <class Int>
std::optional<Int> parse_decimal(const Token& token, std::uint64_t max) {
    if (token.quoted || token.text.empty() || token.text.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : token.text) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return std::nullopt;
    return static_cast<Int>(v);
}

// A TTL-like duration: plain seconds, or BIND's units (1w2d3h4m5s, any case).
std::optional<std::uint32_t> parse_duration(const Token& token) {
    const std::string_view t = token.text;
    if (token.quoted || t.empty() || !is_digit(t[0])) return std::nullopt;
    std::uint64_t total = 0;
    std::uint64_t number = 0;
    bool digits = false;
    for (char c : t) {
        if (is_digit(c)) {
            number = number * 10 + static_cast<std::uint64_t>(c - '0');
            digits = true;
            if (number > kMaxTtl) return std::nullopt;
            continue;
        }
        if (!digits) return std::nullopt;
        std::uint64_t unit = 0;
        switch (ascii_upper(c)) {
            case 'S': unit = 1; break;
            case 'M': unit = 60; break;
            case 'H': unit = 3600; break;
            case 'D': unit = 86400; break;
            case 'W': unit = 604800; break;
            default: return std::nullopt;
        }
        total += number * unit;
        if (total > kMaxTtl) return std::nullopt;
        number = 0;
        digits = false;
    }
    total += number;
    if (total > kMaxTtl) return std::nullopt;
    return static_cast<std::uint32_t>(total);
}

void append_u16(std::vector<std::byte>& out, std::uint16_t v) {
    out.push_back(static_cast<std::byte>(v >> 8));
    out.push_back(static_cast<std::byte>(v & 0xff));
}
void append_u32(std::vector<std::byte>& out, std::uint32_t v) {
    append_u16(out, static_cast<std::uint16_t>(v >> 16));
    append_u16(out, static_cast<std::uint16_t>(v & 0xffff));
}

std::optional<Fail> parse_ipv4(const Token& token, std::vector<std::byte>& out) {
    const std::string_view t = token.text;
    std::size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= t.size() || t[i] != '.') return Fail{"bad IPv4 address"};
            ++i;
        }
        unsigned v = 0;
        std::size_t digits = 0;
        while (i < t.size() && is_digit(t[i]) && digits < 3) {
            v = v * 10 + static_cast<unsigned>(t[i++] - '0');
            ++digits;
        }
        if (digits == 0 || v > 255) return Fail{"bad IPv4 address"};
        out.push_back(static_cast<std::byte>(v));
    }
    if (token.quoted || i != t.size()) return Fail{"bad IPv4 address"};
    return std::nullopt;
}

std::optional<Fail> parse_ipv6(const Token& token, std::vector<std::byte>& out) {
    char text[64];
    if (token.quoted || token.text.size() >= sizeof(text)) return Fail{"bad IPv6 address"};
    std::memcpy(text, token.text.data(), token.text.size());
    text[token.text.size()] = '\0';
    unsigned char bytes[16];
    if (inet_pton(AF_INET6, text, bytes) != 1) return Fail{"bad IPv6 address"};
    for (unsigned char b : bytes) out.push_back(static_cast<std::byte>(b));
    return std::nullopt;
}

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    const char u = ascii_upper(c);
    if (u >= 'A' && u <= 'F') return u - 'A' + 10;
    return -1;
}

// The length of the uncompressed wire name at `at` of `rdata`, or nullopt.
std::optional<std::size_t> wire_name_length(std::span<const std::byte> rdata, std::size_t at) noexcept {
    std::size_t i = at;
    while (i < rdata.size()) {
        const auto label = std::to_integer<std::size_t>(rdata[i]);
        if (label > kMaxLabelLength) return std::nullopt;
        i += label + 1;
        if (i - at > kMaxNameLength) return std::nullopt;
        if (label == 0) return i - at;
    }
    return std::nullopt;
}

}  // namespace

bool rdata_fits_type(std::uint16_t rtype, std::span<const std::byte> rd) noexcept {
    auto name_then_end = [&](std::size_t at, std::size_t trailer) {
        auto n = wire_name_length(rd, at);
        return n && at + *n + trailer == rd.size();
    };
    switch (rtype) {
        case type::A: return rd.size() == 4;
        case type::AAAA: return rd.size() == 16;
        case type::NS:
        case type::CNAME:
        case type::PTR:
        case type::DNAME: return name_then_end(0, 0);
        case type::MX: return rd.size() > 2 && name_then_end(2, 0);
        case type::SRV: return rd.size() > 6 && name_then_end(6, 0);
        case type::SOA: {
            auto m = wire_name_length(rd, 0);
            return m && name_then_end(*m, 20);
        }
        case type::TXT: {
            if (rd.empty()) return false;
            std::size_t i = 0;
            while (i < rd.size()) i += std::to_integer<std::size_t>(rd[i]) + 1;
            return i == rd.size();
        }
        default: return true;
    }
}

namespace {

std::optional<Fail> parse_generic(Tokens rest, std::uint16_t rtype, std::vector<std::byte>& rdata) {
    if (rest.size() < 2) return Fail{"\\# needs a length and hex data"};
    auto length = parse_decimal<std::uint16_t>(rest[1], 65535);
    if (!length) return Fail{"bad RDATA length in \\# form"};
    int pending = -1;
    for (const Token& t : rest.subspan(2)) {
        if (t.quoted) return Fail{"bad hex in \\# form"};
        for (char c : t.text) {
            const int v = hex_value(c);
            if (v < 0) return Fail{"bad hex in \\# form"};
            if (pending < 0) {
                pending = v;
            } else {
                rdata.push_back(static_cast<std::byte>(pending * 16 + v));
                pending = -1;
            }
        }
    }
    if (pending >= 0) return Fail{"odd number of hex digits in \\# form"};
    if (rdata.size() != *length)
        return Fail{"\\# length " + std::to_string(*length) + " but " + std::to_string(rdata.size()) + " bytes of hex"};
    if (!rdata_fits_type(rtype, rdata)) return Fail{"RDATA in \\# form is not a valid " + type_name(rtype)};
    return std::nullopt;
}

std::optional<Fail> parse_txt(Tokens rest, std::vector<std::byte>& rdata) {
    if (rest.empty()) return Fail{"TXT needs at least one string"};
    for (const Token& t : rest) {
        auto s = decode_string(t.text);
        if (!s) return Fail{"bad escape in TXT string"};
        if (s->size() > 255) return Fail{"TXT string over 255 bytes"};
        rdata.push_back(static_cast<std::byte>(s->size()));
        rdata.insert(rdata.end(), s->begin(), s->end());
    }
    return std::nullopt;
}

std::optional<Fail> parse_caa(Tokens rest, std::vector<std::byte>& rdata) {
    if (rest.size() != 3) return Fail{"CAA needs flags, a tag and a value"};
    auto flags = parse_decimal<std::uint8_t>(rest[0], 255);
    if (!flags) return Fail{"bad CAA flags"};
    const std::string_view tag = rest[1].text;
    if (rest[1].quoted || tag.empty() || tag.size() > 15) return Fail{"bad CAA tag"};
    for (char c : tag) {
        if (!is_digit(c) && !(ascii_upper(c) >= 'A' && ascii_upper(c) <= 'Z')) return Fail{"bad CAA tag"};
    }
    auto value = decode_string(rest[2].text);
    if (!value) return Fail{"bad escape in CAA value"};
    rdata.push_back(static_cast<std::byte>(*flags));
    rdata.push_back(static_cast<std::byte>(tag.size()));
    for (char c : tag) rdata.push_back(static_cast<std::byte>(c));
    rdata.insert(rdata.end(), value->begin(), value->end());
    return std::nullopt;
}

std::optional<Fail> parse_soa(Tokens rest, std::vector<std::byte>& rdata) {
    if (rest.size() != 7) return Fail{"SOA needs mname, rname, serial, refresh, retry, expire and minimum"};
    if (auto f = append_name(rest[0], rdata)) return f;
    if (auto f = append_name(rest[1], rdata)) return f;
    auto serial = parse_decimal<std::uint32_t>(rest[2], 0xffffffff);
    if (!serial) return Fail{"bad SOA serial"};
    append_u32(rdata, *serial);
    for (const Token& t : rest.subspan(3)) {
        // A timer is 32 bits unsigned (RFC 1035 3.3.13), past what a TTL may be: a plain number takes all of them.
        auto v = parse_duration(t);
        if (!v) v = parse_decimal<std::uint32_t>(t, 0xffffffff);
        if (!v) return Fail{"bad SOA timer " + std::string(t.text)};
        append_u32(rdata, *v);
    }
    return std::nullopt;
}

std::optional<Fail> parse_rdata(std::uint16_t rtype, std::string_view type_text, Tokens rest,
                                std::vector<std::byte>& rdata) {
    if (!rest.empty() && !rest[0].quoted && rest[0].text == "\\#") return parse_generic(rest, rtype, rdata);
    auto exactly = [&](std::size_t n, const char* problem) -> std::optional<Fail> {
        if (rest.size() != n) return Fail{problem};
        return std::nullopt;
    };
    switch (rtype) {
        case type::A:
            if (auto f = exactly(1, "A needs one IPv4 address")) return f;
            return parse_ipv4(rest[0], rdata);
        case type::AAAA:
            if (auto f = exactly(1, "AAAA needs one IPv6 address")) return f;
            return parse_ipv6(rest[0], rdata);
        case type::NS:
        case type::CNAME:
        case type::PTR:
        case type::DNAME:
            if (rest.size() != 1) return Fail{type_name(rtype) + " needs one name"};
            return append_name(rest[0], rdata);
        case type::MX: {
            if (auto f = exactly(2, "MX needs a preference and a name")) return f;
            auto pref = parse_decimal<std::uint16_t>(rest[0], 65535);
            if (!pref) return Fail{"bad MX preference"};
            append_u16(rdata, *pref);
            return append_name(rest[1], rdata);
        }
        case type::SRV: {
            if (auto f = exactly(4, "SRV needs a priority, a weight, a port and a target")) return f;
            for (int i = 0; i < 3; ++i) {
                auto v = parse_decimal<std::uint16_t>(rest[static_cast<std::size_t>(i)], 65535);
                if (!v) return Fail{"bad SRV priority, weight or port"};
                append_u16(rdata, *v);
            }
            return append_name(rest[3], rdata);
        }
        case type::SOA: return parse_soa(rest, rdata);
        case type::TXT: return parse_txt(rest, rdata);
        case kTypeCAA: return parse_caa(rest, rdata);
        default: return Fail{"type " + std::string(type_text) + " needs RFC 3597 form (\\# length hex)"};
    }
}

// QTYPEs and meta types (RFC 6895 3.1: 128-255, OPT) are never data.
bool is_data_type(std::uint16_t t) { return t != 0 && t != type::OPT && (t < 128 || t > 255); }

}  // namespace

std::variant<ZoneRecord, ZoneTextError> parse_zone_line(std::string_view line) {
    auto tokenized = tokenize(line);
    if (auto* f = std::get_if<Fail>(&tokenized)) return ZoneTextError{std::move(f->problem)};
    const auto& tokens = std::get<std::vector<Token>>(tokenized);
    if (tokens.empty()) return ZoneTextError{"no record on the line"};
    if (!tokens[0].quoted && tokens[0].text.starts_with('$'))
        return ZoneTextError{"directives such as $ORIGIN and $TTL are not taken: one whole record per line"};

    ZoneRecord record;
    if (auto f = append_name(tokens[0], record.owner)) return ZoneTextError{"bad owner: " + f->problem};
    lowercase_name(record.owner);

    std::size_t i = 1;
    bool have_ttl = false;
    bool have_class = false;
    for (; i < tokens.size() && i < 3; ++i) {
        const Token& t = tokens[i];
        if (!t.quoted && !t.text.empty() && is_digit(t.text[0])) {
            if (have_ttl) return ZoneTextError{"two TTLs"};
            auto ttl = parse_duration(t);
            if (!ttl) return ZoneTextError{"bad TTL " + std::string(t.text)};
            record.ttl = *ttl;
            have_ttl = true;
        } else if (have_class || t.quoted) {
            break;  // the type, whatever it says
        } else if (iequals(t.text, "IN")) {
            have_class = true;
        } else if ((iequals(t.text, "CH") || iequals(t.text, "HS") || iequals(t.text, "CS") || iequals(t.text, "ANY") ||
                    iequals(t.text, "NONE") || (t.text.size() > 5 && iequals(t.text.substr(0, 5), "CLASS")))) {
            return ZoneTextError{"class " + std::string(t.text) + ": only IN is served"};
        } else {
            break;
        }
    }
    if (i >= tokens.size()) return ZoneTextError{"no type"};
    const Token& type_token = tokens[i];
    std::optional<std::uint16_t> rtype;
    if (!type_token.quoted) rtype = iequals(type_token.text, "CAA") ? kTypeCAA : type_from_name(type_token.text);
    if (!rtype) return ZoneTextError{"unknown type " + std::string(type_token.text)};
    if (!is_data_type(*rtype)) return ZoneTextError{type_name(*rtype) + " is not a record type"};
    record.type = *rtype;

    const Tokens rest = Tokens(tokens).subspan(i + 1);
    if (auto f = parse_rdata(record.type, type_token.text, rest, record.rdata)) return ZoneTextError{f->problem};
    if (record.rdata.size() > 65535) return ZoneTextError{"RDATA over 65535 bytes"};
    return record;
}

}  // namespace greenfinch::dns
