// The special-use names (RFC 6303, RFC 6761, RFC 7686, RFC 7793) as a LocalData, each family asked and parsed back.
#include "policy/special_names.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "tests/dns/wire_builder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

using namespace greenfinch;
using namespace greenfinch::policy;
using greenfinch::test::Wire;

namespace {

struct Reply {
    std::optional<LocalAnswer> answer;
    dns::Message parsed;
    std::vector<std::string> answers;
    std::vector<std::string> authority;

    dns::Rcode rcode() const { return parsed.header.rcode(); }
};

std::string spaced(std::string s) {
    std::replace(s.begin(), s.end(), '\t', ' ');
    return s;
}

Reply ask(const LocalData& data, std::string_view qname, std::uint16_t qtype) {
    Reply r;
    const std::vector<std::byte> q = Wire().header(7, 0x0100, 1, 0, 0, 0).question(qname, qtype);
    dns::Message query;
    REQUIRE(dns::parse_message(q, query) == dns::ParseStatus::Ok);
    std::vector<std::byte> lower(q.begin() + 12, q.begin() + 12 + static_cast<long>(query.question.name_length));
    dns::lowercase_name(lower);
    std::vector<std::byte> out(1232);
    r.answer = data.answer({.wire = q, .message = query, .qname = lower, .limit = 512}, out);
    if (!r.answer) return r;
    out.resize(r.answer->size);
    REQUIRE(dns::parse_message(out, r.parsed) == dns::ParseStatus::Ok);
    CHECK((r.parsed.header.flags & dns::kFlagAa) != 0);
    std::size_t at = r.parsed.question.end;
    for (unsigned i = 0; i < r.parsed.header.ancount; ++i) r.answers.push_back(spaced(dns::format_record(out, at, at)));
    for (unsigned i = 0; i < r.parsed.header.nscount; ++i)
        r.authority.push_back(spaced(dns::format_record(out, at, at)));
    return r;
}

std::string soa(const std::string& zone) {
    return zone + " 300 IN SOA " + zone + " nobody.invalid. 1 3600 1200 604800 300";
}

std::vector<std::string> reverse_zones() {
    std::vector<std::string> zones = {
        "10.in-addr.arpa.",
        "168.192.in-addr.arpa.",
        "0.in-addr.arpa.",
        "127.in-addr.arpa.",
        "254.169.in-addr.arpa.",
        "2.0.192.in-addr.arpa.",
        "100.51.198.in-addr.arpa.",
        "113.0.203.in-addr.arpa.",
        "255.255.255.255.in-addr.arpa.",
        "d.f.ip6.arpa.",
        "8.e.f.ip6.arpa.",
        "9.e.f.ip6.arpa.",
        "a.e.f.ip6.arpa.",
        "b.e.f.ip6.arpa.",
        "8.b.d.0.1.0.0.2.ip6.arpa.",
    };
    for (int i = 16; i <= 31; ++i) zones.push_back(std::to_string(i) + ".172.in-addr.arpa.");
    for (int i = 64; i <= 127; ++i) zones.push_back(std::to_string(i) + ".100.in-addr.arpa.");
    std::string zeros;
    for (int i = 0; i < 31; ++i) zeros += "0.";
    zones.push_back("0." + zeros + "ip6.arpa.");
    zones.push_back("1." + zeros + "ip6.arpa.");
    return zones;
}

}  // namespace

TEST_CASE("every RFC 6303 / RFC 7793 reverse zone: NXDOMAIN with its SOA below the apex, the SOA at it") {
    const LocalData data = special_names();
    for (const std::string& zone : reverse_zones()) {
        INFO(zone);
        const bool full = zone.size() > 64;  // ::'s and ::1's reverses have no names below them
        if (!full) {
            const Reply nx = ask(data, "1." + zone, dns::type::PTR);
            REQUIRE(nx.answer);
            CHECK(nx.rcode() == dns::Rcode::NxDomain);
            CHECK(nx.authority == std::vector<std::string>{soa(zone)});
        }
        const Reply apex = ask(data, zone, dns::type::SOA);
        REQUIRE(apex.answer);
        CHECK(apex.rcode() == dns::Rcode::NoError);
        CHECK(apex.answers == std::vector<std::string>{soa(zone)});
    }
}

TEST_CASE("reverse names outside those ranges go on to the forwarder") {
    const LocalData data = special_names();
    for (const char* name : {"1.0.15.172.in-addr.arpa", "1.0.32.172.in-addr.arpa", "1.0.63.100.in-addr.arpa",
                             "1.0.128.100.in-addr.arpa", "8.8.8.8.in-addr.arpa", "1.1.1.1.in-addr.arpa", "in-addr.arpa",
                             "c.f.ip6.arpa", "f.ip6.arpa", "c.e.f.ip6.arpa", "ip6.arpa"}) {
        INFO(name);
        CHECK_FALSE(ask(data, name, dns::type::PTR).answer);
    }
}

TEST_CASE("127.0.0.1 and ::1 point back at localhost, other loopback addresses do not exist") {
    const LocalData data = special_names();
    CHECK(ask(data, "1.0.0.127.in-addr.arpa", dns::type::PTR).answers ==
          std::vector<std::string>{"1.0.0.127.in-addr.arpa. 300 IN PTR localhost."});
    CHECK(ask(data, "2.0.0.127.in-addr.arpa", dns::type::PTR).rcode() == dns::Rcode::NxDomain);
    std::string v6 = "1.";
    for (int i = 0; i < 31; ++i) v6 += "0.";
    v6 += "ip6.arpa";
    CHECK(ask(data, v6, dns::type::PTR).answers == std::vector<std::string>{v6 + ". 300 IN PTR localhost."});
}

TEST_CASE("localhost. and every name under it are the loopback addresses (RFC 6761 6.3)") {
    const LocalData data = special_names();
    for (const char* name : {"localhost", "LocalHost", "app.localhost", "a.b.c.localhost"}) {
        INFO(name);
        CHECK(ask(data, name, dns::type::A).answers ==
              std::vector<std::string>{std::string(name) + ". 300 IN A 127.0.0.1"});
        CHECK(ask(data, name, dns::type::AAAA).answers ==
              std::vector<std::string>{std::string(name) + ". 300 IN AAAA 0:0:0:0:0:0:0:1"});
        const Reply mx = ask(data, name, dns::type::MX);
        CHECK(mx.rcode() == dns::Rcode::NoError);
        CHECK(mx.answers.empty());
        REQUIRE(mx.authority.size() == 1);
        std::string authority = mx.authority[0];  // its owner points into the question, in the client's case
        std::transform(authority.begin(), authority.end(), authority.begin(),
                       [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
        std::string expected = soa("localhost.");
        std::transform(expected.begin(), expected.end(), expected.begin(),
                       [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
        CHECK(authority == expected);
    }
    CHECK(ask(data, "localhost", dns::type::ANY).answers.size() == 3);  // SOA, A, AAAA
    CHECK(ask(data, "localhost", dns::type::SOA).answers == std::vector<std::string>{soa("localhost.")});
    CHECK_FALSE(ask(data, "localhost.example", dns::type::A).answer);
}

TEST_CASE("invalid. and onion. never exist, test. neither, unless told, example. and local. go on") {
    const LocalData data = special_names();
    for (const char* name : {"invalid", "x.invalid", "onion", "abc.onion", "test", "www.greenfinch.test"}) {
        INFO(name);
        const Reply r = ask(data, name, dns::type::A);
        REQUIRE(r.answer);
        CHECK(r.rcode() == dns::Rcode::NxDomain);
        CHECK(r.answers.empty());
        CHECK(r.authority.size() == 1);
    }
    CHECK(ask(data, "invalid", dns::type::SOA).rcode() == dns::Rcode::NxDomain);
    CHECK(ask(data, "x.invalid", dns::type::A).authority == std::vector<std::string>{soa("invalid.")});
    for (const char* name : {"example", "www.example", "example.com", "printer.local", "local"}) {
        INFO(name);
        CHECK_FALSE(ask(data, name, dns::type::A).answer);
    }

    const LocalData told = special_names({.test = TestNames::forward, .local = LocalNames::nxdomain});
    CHECK_FALSE(ask(told, "www.greenfinch.test", dns::type::A).answer);
    CHECK(ask(told, "printer.local", dns::type::A).rcode() == dns::Rcode::NxDomain);
    CHECK(ask(told, "x.invalid", dns::type::A).rcode() == dns::Rcode::NxDomain);
}

TEST_CASE("the special names build without error and list their zones") {
    LocalData::Builder b;
    add_special_names(b);
    auto built = std::move(b).build();
    REQUIRE(std::holds_alternative<LocalData>(built));
    std::size_t subtrees = 0;
    std::get<LocalData>(built).for_each_name(
        [&](std::span<const std::byte>, NameKind kind) { subtrees += kind == NameKind::subtree ? 1 : 0; });
    CHECK(subtrees == reverse_zones().size() + 4);  // localhost., invalid., onion., test.
}
