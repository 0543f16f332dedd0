// Zone-file lines read into wire records: every type, the TTL and class forms, escapes, and the errors.
#include "dns/zone_text.hpp"
#include "dns/presentation.hpp"

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

using namespace greenfinch::dns;

namespace {
ZoneRecord ok(std::string_view line) {
    auto r = parse_zone_line(line);
    if (auto* e = std::get_if<ZoneTextError>(&r)) FAIL("'" << std::string(line) << "': " << e->problem);
    return std::get<ZoneRecord>(r);
}
std::string problem(std::string_view line) {
    auto r = parse_zone_line(line);
    if (std::holds_alternative<ZoneRecord>(r)) FAIL("'" << std::string(line) << "' was accepted");
    return std::get<ZoneTextError>(r).problem;
}
std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}
std::vector<std::byte> name(std::string_view text) { return *wire_name(text); }
std::vector<std::byte> cat(std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
std::vector<std::byte> text(std::string_view s) {
    std::vector<std::byte> out;
    for (char c : s) out.push_back(static_cast<std::byte>(c));
    return out;
}
}  // namespace

TEST_CASE("an A record with TTL and class in either order, or neither, and the owner lowercased") {
    const auto plain = ok("WWW.Lan. A 192.0.2.1");
    CHECK(plain.owner == name("www.lan"));
    CHECK(plain.type == type::A);
    CHECK(plain.rclass == kClassIN);
    CHECK(plain.ttl == kDefaultZoneTtl);
    CHECK(plain.rdata == bytes({192, 0, 2, 1}));

    CHECK(ok("www.lan 60 IN A 192.0.2.1").ttl == 60);
    CHECK(ok("www.lan IN 60 A 192.0.2.1").ttl == 60);
    CHECK(ok("www.lan in a 192.0.2.1").ttl == kDefaultZoneTtl);
    CHECK(ok("www.lan 1h30m A 192.0.2.1").ttl == 5400);
    CHECK(ok("www.lan 1W A 192.0.2.1").ttl == 604800);
    CHECK(ok("www.lan. A 192.0.2.1").owner == ok("www.lan A 192.0.2.1").owner);
    CHECK(ok(". A 192.0.2.1").owner == bytes({0}));
    CHECK(ok("www.lan 0 A 192.0.2.1").ttl == 0);
    CHECK(ok("www.lan 2147483647 A 192.0.2.1").ttl == kMaxTtl);
}

TEST_CASE("comments, tabs, parentheses and a line end are not part of the record") {
    const auto r = ok("host.lan.\t300\tIN\tA\t10.0.0.1 ; the printer\r\n");
    CHECK(r.ttl == 300);
    CHECK(r.rdata == bytes({10, 0, 0, 1}));
    const auto soa = ok("lan. SOA ns.lan. admin.lan. ( 7 3600 600 86400 60 ) ; folded");
    CHECK(soa.type == type::SOA);
}

TEST_CASE("AAAA in every IPv6 spelling") {
    CHECK(ok("h.lan AAAA ::1").rdata == bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    CHECK(ok("h.lan AAAA 2001:DB8::a:1").rdata ==
          bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 1}));
    CHECK(ok("h.lan AAAA ::ffff:192.0.2.1").rdata == bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}));
}

TEST_CASE("names in RDATA are absolute, in the case written, with escapes decoded") {
    CHECK(ok("a.lan CNAME Target.Example.").rdata == name("Target.Example"));
    CHECK(ok("a.lan CNAME target.example").rdata == name("target.example"));
    CHECK(ok("lan NS ns1.lan.").rdata == name("ns1.lan"));
    CHECK(ok("1.2.0.192.in-addr.arpa PTR host.lan.").rdata == name("host.lan"));
    CHECK(ok("a.lan DNAME b.lan").type == type::DNAME);
    // \. is a dot inside a label, \DDD a byte.
    CHECK(ok("a.lan CNAME dotted\\.label.lan").rdata == cat({bytes({12}), text("dotted.label"), name("lan")}));
    CHECK(ok("a\\065b.lan A 192.0.2.1").owner == cat({bytes({3}), text("aab"), name("lan")}));
}

TEST_CASE("MX, SRV, SOA and CAA") {
    CHECK(ok("lan MX 10 mail.lan.").rdata == cat({bytes({0, 10}), name("mail.lan")}));
    CHECK(ok("_sip._tcp.lan SRV 1 2 5060 sip.lan").rdata == cat({bytes({0, 1, 0, 2, 0x13, 0xc4}), name("sip.lan")}));
    CHECK(ok("lan 300 IN SOA ns.lan. admin.lan. 2024010101 1h 10m 1w 300").rdata ==
          cat({name("ns.lan"), name("admin.lan"), bytes({0x78, 0xa3, 0xf1, 0x75, 0,    0,    0x0e, 0x10, 0, 0,
                                                         0x02, 0x58, 0,    0x09, 0x3a, 0x80, 0,    0,    1, 0x2c})}));
    const auto caa = ok("lan CAA 0 issue \"letsencrypt.org\"");
    CHECK(caa.type == kTypeCAA);
    CHECK(caa.rdata == cat({bytes({0, 5}), text("issue"), text("letsencrypt.org")}));
    CHECK(ok("lan caa 128 iodef mailto:a@lan").rdata == cat({bytes({128, 5}), text("iodef"), text("mailto:a@lan")}));
}

TEST_CASE("TXT: one or more strings, quoted or not, with escaped quotes and decimal escapes") {
    CHECK(ok("t.lan TXT hello").rdata == cat({bytes({5}), text("hello")}));
    CHECK(ok("t.lan TXT \"hello world\" \"two\"").rdata ==
          cat({bytes({11}), text("hello world"), bytes({3}), text("two")}));
    CHECK(ok("t.lan TXT \"say \\\"hi\\\"; ok\"").rdata == cat({bytes({12}), text("say \"hi\"; ok")}));
    CHECK(ok("t.lan TXT \"\\065\\255\\\\\"").rdata == bytes({3, 'A', 255, '\\'}));
    CHECK(ok("t.lan TXT \"\"").rdata == bytes({0}));
    CHECK(ok("t.lan TXT \"v=spf1 -all\" ; a comment \"not a string\"").rdata ==
          cat({bytes({11}), text("v=spf1 -all")}));
    CHECK(ok("t.lan TXT \"" + std::string(255, 'x') + "\"").rdata.size() == 256);
}

TEST_CASE("RFC 3597 generic RDATA, for unknown types and checked for known ones") {
    const auto r = ok("x.lan TYPE65 \\# 4 0a0b0c0d");
    CHECK(r.type == 65);
    CHECK(r.rdata == bytes({0x0a, 0x0b, 0x0c, 0x0d}));
    CHECK(ok("x.lan TYPE65534 \\# 0").rdata.empty());
    CHECK(ok("x.lan TYPE99 \\# 3 0A 0b0C").rdata == bytes({0x0a, 0x0b, 0x0c}));
    CHECK(ok("x.lan A \\# 4 c0000201").rdata == bytes({192, 0, 2, 1}));
    CHECK(ok("x.lan CNAME \\# 5 0161016200").rdata == name("a.b"));
    CHECK(ok("x.lan HTTPS \\# 3 000100").type == 65);
    CHECK(problem("x.lan TYPE65 \\# 4 0a0b0c") == "\\# length 4 but 3 bytes of hex");
    CHECK(problem("x.lan TYPE65 \\# 2 0a0") == "odd number of hex digits in \\# form");
    CHECK(problem("x.lan TYPE65 \\# 1 zz") == "bad hex in \\# form");
    CHECK(problem("x.lan TYPE65 \\#") == "\\# needs a length and hex data");
    CHECK(problem("x.lan A \\# 3 0a0b0c") == "RDATA in \\# form is not a valid A");
    CHECK(problem("x.lan CNAME \\# 2 0161") == "RDATA in \\# form is not a valid CNAME");
    CHECK(problem("x.lan DS 1 2 3 abcd") == "type DS needs RFC 3597 form (\\# length hex)");
}

TEST_CASE("bad lines are errors with a short problem, never exceptions") {
    CHECK(problem("h.lan A 256.0.0.1") == "bad IPv4 address");
    CHECK(problem("h.lan A 1.2.3") == "bad IPv4 address");
    CHECK(problem("h.lan A 1.2.3.4.5") == "bad IPv4 address");
    CHECK(problem("h.lan A 1.2.3.4x") == "bad IPv4 address");
    CHECK(problem("h.lan A") == "A needs one IPv4 address");
    CHECK(problem("h.lan A 1.2.3.4 5.6.7.8") == "A needs one IPv4 address");
    CHECK(problem("h.lan AAAA 1::2::3") == "bad IPv6 address");
    CHECK(problem("h.lan AAAA 192.0.2.1") == "bad IPv6 address");
    CHECK(problem("h.lan FOO 1") == "unknown type FOO");
    CHECK(problem("h.lan") == "no type");
    CHECK(problem("h.lan 300 IN") == "no type");
    CHECK(problem("") == "no record on the line");
    CHECK(problem("   ; only a comment") == "no record on the line");
    CHECK(problem("h.lan CH A 1.2.3.4") == "class CH: only IN is served");
    CHECK(problem("h.lan 99999999999 A 1.2.3.4") == "bad TTL 99999999999");
    CHECK(problem("h.lan 2147483648 A 1.2.3.4") == "bad TTL 2147483648");
    CHECK(problem("h.lan 1x A 1.2.3.4") == "bad TTL 1x");
    CHECK(problem("h.lan 1 2 A 1.2.3.4") == "two TTLs");
    CHECK(problem("h.lan MX mail.lan") == "MX needs a preference and a name");
    CHECK(problem("h.lan MX 70000 mail.lan") == "bad MX preference");
    CHECK(problem("h.lan SRV 1 2 mail.lan") == "SRV needs a priority, a weight, a port and a target");
    CHECK(problem("h.lan SOA a. b. 1 2 3") == "SOA needs mname, rname, serial, refresh, retry, expire and minimum");
    CHECK(problem("h.lan CNAME a.lan b.lan") == "CNAME needs one name");
    CHECK(problem("h.lan TXT") == "TXT needs at least one string");
    CHECK(problem("h.lan TXT \"" + std::string(256, 'x') + "\"") == "TXT string over 255 bytes");
    CHECK(problem("h.lan TXT \"open") == "unterminated quoted string");
    CHECK(problem("h.lan TXT \"\\999\"") == "bad escape in TXT string");
    CHECK(problem("h.lan TXT a\\") == "backslash at the end of the line");
    CHECK(problem("h.lan CAA 0 \"issue\" ca.example") == "bad CAA tag");
    CHECK(problem("h.lan CAA 0 issue") == "CAA needs flags, a tag and a value");
    CHECK(problem("$TTL 300").find("directives") != std::string::npos);
    CHECK(problem("@ A 1.2.3.4") == "bad owner: @ needs an origin: write the name in full");
    CHECK(problem("a..lan A 1.2.3.4") == "bad owner: empty label in name a..lan");
    CHECK(problem(std::string(64, 'a') + ".lan A 1.2.3.4").find("label over 63 bytes") != std::string::npos);
    std::string long_name;
    for (int i = 0; i < 26; ++i) long_name += "abcdefghi.";
    CHECK(problem(long_name + " A 1.2.3.4").find("name over 255 bytes") != std::string::npos);
    CHECK(problem("h.lan OPT \\# 0") == "OPT is not a record type");
    CHECK(problem("h.lan IN ANY \\# 0") == "ANY is not a record type");
    CHECK(problem("h.lan ANY A 1.2.3.4") == "class ANY: only IN is served");
    CHECK(problem("h.lan TYPE0 \\# 0") == "TYPE0 is not a record type");
}

TEST_CASE("arbitrary bytes never crash the parser") {
    std::string line;
    std::uint32_t state = 12345;
    const std::string alphabet = "ab.\\\"; ()0123456789#ATXINSOAMCNE\t-:";
    for (int round = 0; round < 20000; ++round) {
        line.clear();
        const int length = static_cast<int>(state % 40);
        for (int i = 0; i < length; ++i) {
            state = state * 1103515245u + 12345u;
            line += alphabet[(state >> 16) % alphabet.size()];
        }
        state = state * 1103515245u + 12345u;
        auto r = parse_zone_line(line);
        if (auto* rec = std::get_if<ZoneRecord>(&r)) {
            CHECK(rdata_fits_type(rec->type, rec->rdata));
            CHECK_FALSE(rec->owner.empty());
        }
    }
}
