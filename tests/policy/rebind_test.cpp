// DNS rebinding protection: which addresses count, at the edges of every range, and the filter on whole answers.
#include "policy/rebind.hpp"

#include "dns/bytes.hpp"
#include "dns/message.hpp"
#include "dns/records.hpp"
#include "tests/dns/wire_builder.hpp"

#include "tests/dns/parsed.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <array>
#include <string>
#include <vector>

using namespace greenfinch;
using greenfinch::policy::is_rebinding_address;
using greenfinch::policy::LoopbackAnswers;
using greenfinch::policy::RebindRules;
using greenfinch::policy::RebindStatus;
using greenfinch::test::Wire;

using greenfinch::test::parsed;

namespace {

std::vector<std::byte> address(const std::string& text) {
    std::array<unsigned char, 16> raw{};
    const bool v6 = text.find(':') != std::string::npos;
    REQUIRE(inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), raw.data()) == 1);
    std::vector<std::byte> out(v6 ? 16 : 4);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(raw[i]);
    return out;
}

bool rebinding(const std::string& text, const RebindRules& rules = {}) {
    return is_rebinding_address(address(text), rules);
}

std::vector<std::string> addresses(const std::vector<std::byte>& w, const dns::Message& m) {
    std::vector<std::string> out;
    dns::for_each_record(w, m, [&](const dns::Record& r) {
        if (r.type != dns::type::A && r.type != dns::type::AAAA) return;
        char text[64];
        inet_ntop(r.type == dns::type::A ? AF_INET : AF_INET6, w.data() + r.rdata_offset, text, sizeof text);
        out.push_back(std::to_string(static_cast<int>(r.section)) + " " + text);
    });
    return out;
}

}  // namespace

TEST_CASE("IPv4: every range at its edges") {
    const std::vector<std::pair<std::string, bool>> cases = {
        {"0.0.0.0", true},          {"0.255.255.255", true},   {"1.0.0.0", false},        {"9.255.255.255", false},
        {"10.0.0.0", true},         {"10.255.255.255", true},  {"11.0.0.0", false},       {"100.63.255.255", false},
        {"100.64.0.0", true},       {"100.127.255.255", true}, {"100.128.0.0", false},    {"126.255.255.255", false},
        {"127.0.0.0", true},        {"127.0.0.1", true},       {"127.255.255.255", true}, {"128.0.0.0", false},
        {"169.253.255.255", false}, {"169.254.0.0", true},     {"169.254.255.255", true}, {"169.255.0.0", false},
        {"172.15.255.255", false},  {"172.16.0.0", true},      {"172.31.255.255", true},  {"172.32.0.0", false},
        {"192.167.255.255", false}, {"192.168.0.0", true},     {"192.168.255.255", true}, {"192.169.0.0", false},
        {"192.0.0.170", false},     {"192.0.2.1", false},      {"198.18.0.1", false},     {"8.8.8.8", false},
        {"223.255.255.255", false}, {"224.0.0.0", true},       {"239.255.255.250", true}, {"240.0.0.0", true},
        {"255.255.255.255", true},
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        CHECK(rebinding(text) == expected);
    }
}

TEST_CASE("IPv6: every range at its edges, and IPv4 inside the mapped and NAT64 prefixes") {
    const std::vector<std::pair<std::string, bool>> cases = {
        {"::", true},
        {"::1", true},
        {"::2", false},
        {"::10.0.0.1", false},  // IPv4-compatible, deprecated: nothing connects to it
        {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
        {"fc00::", true},
        {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
        {"fe00::", false},
        {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
        {"fe80::", true},
        {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
        {"fec0::", true},  // site-local, deprecated
        {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
        {"ff02::1", true},
        {"2001:db8::1", false},
        {"2606:4700:4700::1111", false},
        {"::ffff:10.0.0.1", true},
        {"::ffff:127.0.0.1", true},
        {"::ffff:8.8.8.8", false},
        {"::fffe:10.0.0.1", false},
        {"64:ff9b::10.0.0.1", true},
        {"64:ff9b::192.168.1.1", true},
        {"64:ff9b::8.8.8.8", false},
        {"64:ff9b::192.0.0.170", false},  // ipv4only.arpa through DNS64 (RFC 7050)
        {"64:ff9b:1::a00:1", false},      // the local-use NAT64 prefix (RFC 8215): its addresses are local by design
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        CHECK(rebinding(text) == expected);
    }
}

TEST_CASE("loopback may be allowed, for DNS blocklists, 0.0.0.0 and :: never") {
    const RebindRules allow{.loopback = LoopbackAnswers::allowed};
    CHECK_FALSE(rebinding("127.0.0.2", allow));
    CHECK_FALSE(rebinding("::1", allow));
    CHECK_FALSE(rebinding("::ffff:127.0.0.1", allow));
    CHECK(rebinding("0.0.0.0", allow));
    CHECK(rebinding("::", allow));
    CHECK(rebinding("10.1.2.3", allow));
}

TEST_CASE("anything but 4 or 16 bytes is no address") {
    for (const std::size_t size : {0, 1, 3, 5, 15, 17}) {
        const std::vector<std::byte> zeros(size);
        INFO(size);
        CHECK_FALSE(is_rebinding_address(zeros));
    }
}

TEST_CASE("filter_rebinding: private records go, public ones stay, in every section") {
    Wire w;
    w.header(1, 0x81a0, 1, 4, 0, 2).question("www.example.com", dns::type::A);  // AD set
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({192, 0, 2, 1});
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({10, 0, 0, 1});
    w.pointer(12).rr_fixed(dns::type::AAAA, 60, 16).raw({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({198, 51, 100, 7});
    w.name("ns.example.com").rr_fixed(dns::type::A, 60, 4).raw({192, 168, 0, 53});
    w.opt(1232);
    const std::vector<std::byte> bytes = w;
    const auto r = policy::filter_rebinding(bytes, parsed(bytes));
    REQUIRE(r.status == RebindStatus::filtered);
    CHECK(r.dropped == 3);
    CHECK(r.parsed.header.ancount == 2);
    CHECK(r.parsed.header.arcount == 1);
    CHECK(r.parsed.edns.present);
    CHECK(addresses(r.wire, r.parsed) == std::vector<std::string>{"0 192.0.2.1", "0 198.51.100.7"});
    CHECK((r.parsed.header.flags & 0x0020) == 0);  // AD cleared, in the bytes as in the parse
    CHECK(parsed(r.wire).header.flags == (0x81a0 & ~0x0020));
}

TEST_CASE("filter_rebinding: an answer that loses every record is NODATA, the rest as it was") {
    Wire w;
    w.header(1, 0x8180, 1, 2, 1, 1).question("rebind.example", dns::type::A);
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({127, 0, 0, 1});
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({169, 254, 169, 254});
    w.pointer(12).rr_fixed(dns::type::NS, 300, 5).u8(2).raw({'n', 's'}).pointer(12);
    const unsigned ns = static_cast<unsigned>(w.size() - 5);
    w.pointer(ns).rr_fixed(dns::type::A, 300, 4).raw({203, 0, 113, 53});
    const std::vector<std::byte> bytes = w;
    const auto r = policy::filter_rebinding(bytes, parsed(bytes));
    REQUIRE(r.status == RebindStatus::filtered);
    CHECK(r.dropped == 2);
    CHECK(r.parsed.header.rcode() == dns::Rcode::NoError);
    CHECK(r.parsed.header.ancount == 0);
    CHECK(r.parsed.header.nscount == 1);
    CHECK(r.parsed.header.arcount == 1);
    CHECK(addresses(r.wire, r.parsed) == std::vector<std::string>{"2 203.0.113.53"});
}

TEST_CASE("filter_rebinding: nothing to remove leaves the original, uncopied") {
    Wire w;
    w.header(1, 0x81a0, 1, 2, 0, 0).question("www.example.com", dns::type::A);
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({192, 0, 2, 1});
    w.pointer(12).rr_fixed(dns::type::A, 60, 4, 3).raw({10, 0, 0, 1});  // class CH: not an Internet address
    const std::vector<std::byte> bytes = w;
    const auto r = policy::filter_rebinding(bytes, parsed(bytes));
    CHECK(r.status == RebindStatus::unchanged);
    CHECK(r.dropped == 0);
    CHECK(r.wire.empty());
}

TEST_CASE("filter_rebinding: loopback answers kept when allowed") {
    Wire w;
    w.header(1, 0x8180, 1, 2, 0, 0).question("2.0.0.127.zen.example", dns::type::A);
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({127, 0, 0, 2});
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({10, 0, 0, 2});
    const std::vector<std::byte> bytes = w;
    const auto r = policy::filter_rebinding(bytes, parsed(bytes), {.loopback = LoopbackAnswers::allowed});
    REQUIRE(r.status == RebindStatus::filtered);
    CHECK(r.dropped == 1);
    CHECK(addresses(r.wire, r.parsed) == std::vector<std::string>{"0 127.0.0.2"});
}

TEST_CASE("filter_rebinding: a message that cannot be rebuilt is a failure, not the original") {
    Wire w;
    w.header(1, 0x8180, 1, 1, 0, 0).question("example.com", dns::type::A);
    w.pointer(12).rr_fixed(dns::type::A, 60, 4).raw({10, 0, 0, 1});
    const std::vector<std::byte> bytes = w;
    dns::Message m = parsed(bytes);
    const std::vector<std::byte> cut(bytes.begin(), bytes.end() - 1);
    CHECK(policy::filter_rebinding(cut, m).status == RebindStatus::failed);
}
