// LocalData: records, hosts entries and zones answered authoritatively, each answer parsed back as a message.
#include "policy/local_data.hpp"
#include "dns/bytes.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "tests/dns/wire_builder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

using namespace greenfinch;
using namespace greenfinch::policy;
using dns::type::A;
using dns::type::AAAA;
using greenfinch::test::Wire;

namespace {

struct Ask {
    std::size_t limit = 65535;
    bool edns = false;
    bool dnssec_ok = false;
    unsigned id = 0x1234;
    unsigned flags = 0x0100;  // RD
    unsigned qclass = dns::kClassIN;
};

struct Reply {
    std::optional<LocalAnswer> answer;
    std::vector<std::byte> query;
    std::vector<std::byte> wire;
    dns::Message parsed;
    std::vector<std::string> answers;  // "name ttl IN TYPE rdata"
    std::vector<std::string> authority;

    dns::Rcode rcode() const { return parsed.header.rcode(); }
    bool flag(std::uint16_t bit) const { return (parsed.header.flags & bit) != 0; }
};

std::string spaced(std::string s) {
    std::replace(s.begin(), s.end(), '\t', ' ');
    return s;
}

Reply ask(const LocalData& data, std::string_view qname, std::uint16_t qtype, const Ask& how = {}) {
    Reply r;
    Wire q;
    q.header(how.id, how.flags, 1, 0, 0, how.edns ? 1 : 0).question(qname, qtype, how.qclass);
    if (how.edns) q.opt(4096, how.dnssec_ok);
    r.query = q;
    dns::Message query;
    REQUIRE(dns::parse_message(r.query, query) == dns::ParseStatus::Ok);
    std::vector<std::byte> lower(r.query.begin() + 12,
                                 r.query.begin() + 12 + static_cast<long>(query.question.name_length));
    dns::lowercase_name(lower);
    std::optional<dns::OptRecord> opt;
    if (how.edns) {
        opt.emplace();
        opt->dnssec_ok = how.dnssec_ok;
    }
    std::vector<std::byte> out(65535);
    r.answer = data.answer({.wire = r.query, .message = query, .qname = lower, .limit = how.limit, .opt = opt}, out);
    if (!r.answer) return r;
    REQUIRE(r.answer->size > 0);
    out.resize(r.answer->size);
    r.wire = out;
    REQUIRE(dns::parse_message(r.wire, r.parsed) == dns::ParseStatus::Ok);
    std::size_t at = r.parsed.question.end;
    for (unsigned i = 0; i < r.parsed.header.ancount; ++i)
        r.answers.push_back(spaced(dns::format_record(r.wire, at, at)));
    for (unsigned i = 0; i < r.parsed.header.nscount; ++i)
        r.authority.push_back(spaced(dns::format_record(r.wire, at, at)));
    return r;
}

std::vector<std::byte> wire(std::string_view name) { return *dns::wire_name(name); }
std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}

void add_host(LocalData::Builder& b, const std::vector<std::byte>& address, std::string_view name,
              HostNameRole role = HostNameRole::canonical) {
    auto n = wire(name);
    dns::lowercase_name(n);
    REQUIRE(b.add_host({.address = address, .name = n, .role = role}) == HostStatus::added);
}

LocalData build(LocalData::Builder&& b) {
    auto built = std::move(b).build();
    if (auto* e = std::get_if<LocalDataError>(&built)) FAIL(e->message());
    return std::move(std::get<LocalData>(built));
}

LocalData sample() {
    LocalData::Builder b;
    int n = 0;
    for (std::string_view line : {
             "www.lan. 600 A 192.0.2.10",
             "www.lan. 600 A 192.0.2.11",
             "www.lan. 600 AAAA 2001:db8::10",
             "www.lan. 600 TXT \"hello\"",
             "alias.lan. 60 CNAME www.lan.",
             "alias2.lan. 60 CNAME Alias.LAN.",
             "out.lan. 60 CNAME www.example.com.",
             "loop1.lan. CNAME loop2.lan.",
             "loop2.lan. CNAME loop1.lan.",
             "gone.lan. CNAME nothere.lan.",
             "deep.sub.lan. A 192.0.2.20",
             "printer.home. A 192.168.1.5",
             "corp. 900 SOA ns.corp. admin.corp. 5 3600 600 86400 120",
             "mail.corp. MX 10 mx.corp.",
         }) {
        REQUIRE_FALSE(b.add_record(line, "local.records[" + std::to_string(n++) + "]"));
    }
    REQUIRE_FALSE(b.add_zone("lan.", ZoneKind::local, "local.zones[0]"));
    REQUIRE_FALSE(b.add_zone("corp", ZoneKind::local, "local.zones[1]"));
    add_host(b, bytes({192, 0, 2, 50}), "nas.lan");
    add_host(b, bytes({192, 0, 2, 50}), "storage.lan", HostNameRole::alias);
    add_host(b, bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50}), "NAS.lan");
    add_host(b, bytes({192, 0, 2, 50}), "other.lan");  // a later line for the same address: no PTR
    return build(std::move(b));
}

const std::string kLanSoa = "lan. 300 IN SOA lan. nobody.invalid. 1 3600 1200 604800 300";

}  // namespace

TEST_CASE("records of the asked type: AA, RD echoed, the client's ID and its question byte for byte") {
    const LocalData data = sample();
    const Reply r = ask(data, "WwW.LaN", A, {.id = 0xbeef});
    REQUIRE(r.answer);
    CHECK(r.answer->rcode == dns::Rcode::NoError);
    CHECK(r.parsed.header.id == 0xbeef);
    CHECK(r.flag(dns::kFlagQr));
    CHECK(r.flag(dns::kFlagAa));
    CHECK(r.flag(dns::kFlagRd));
    CHECK(r.flag(dns::kFlagRa));
    CHECK_FALSE(r.flag(dns::kFlagTc));
    CHECK(r.rcode() == dns::Rcode::NoError);
    CHECK(std::equal(r.query.begin() + 12, r.query.begin() + static_cast<long>(r.parsed.question.end),
                     r.wire.begin() + 12));
    CHECK(r.answers == std::vector<std::string>{"WwW.LaN. 600 IN A 192.0.2.10", "WwW.LaN. 600 IN A 192.0.2.11"});
    CHECK(r.authority.empty());
    // The owner is a pointer to the question name, never a lowercased copy.
    CHECK(dns::read_u16(r.wire, r.parsed.question.end) == 0xc00c);

    const Reply no_rd = ask(data, "www.lan", A, {.flags = 0x0010});
    CHECK_FALSE(no_rd.flag(dns::kFlagRd));
    CHECK(no_rd.flag(dns::kFlagCd));
    CHECK(ask(data, "www.lan", AAAA).answers == std::vector<std::string>{"www.lan. 600 IN AAAA 2001:db8:0:0:0:0:0:10"});
}

TEST_CASE("ANY gets every record at the name") {
    const Reply r = ask(sample(), "www.lan", dns::type::ANY);
    CHECK(r.answers.size() == 4);
    CHECK(std::count(r.answers.begin(), r.answers.end(), "www.lan. 600 IN TXT \"hello\"") == 1);
    CHECK(std::count(r.answers.begin(), r.answers.end(), "www.lan. 600 IN AAAA 2001:db8:0:0:0:0:0:10") == 1);
}

TEST_CASE("a CNAME chain is followed within local data, and stops where it leaves") {
    const LocalData data = sample();
    const Reply chain = ask(data, "alias2.lan", A);
    CHECK(chain.rcode() == dns::Rcode::NoError);
    CHECK(chain.answers == std::vector<std::string>{
                               "alias2.lan. 60 IN CNAME Alias.LAN.",
                               "Alias.LAN. 60 IN CNAME www.lan.",
                               "www.lan. 600 IN A 192.0.2.10",
                               "www.lan. 600 IN A 192.0.2.11",
                           });
    CHECK(chain.answer->external_target == 0);

    CHECK(ask(data, "alias.lan", dns::type::CNAME).answers ==
          std::vector<std::string>{"alias.lan. 60 IN CNAME www.lan."});

    const Reply out = ask(data, "out.lan", A);
    CHECK(out.rcode() == dns::Rcode::NoError);
    CHECK(out.answers == std::vector<std::string>{"out.lan. 60 IN CNAME www.example.com."});
    CHECK(out.authority.empty());
    const std::size_t target = out.answer->external_target;
    REQUIRE(target != 0);
    const auto expected = wire("www.example.com");
    CHECK(std::equal(expected.begin(), expected.end(), out.wire.begin() + static_cast<long>(target)));

    const Reply gone = ask(data, "gone.lan", A);
    CHECK(gone.rcode() == dns::Rcode::NxDomain);  // RFC 6604: the last name of the chain decides
    CHECK(gone.answers == std::vector<std::string>{"gone.lan. 3600 IN CNAME nothere.lan."});
    CHECK(gone.authority == std::vector<std::string>{kLanSoa});

    const Reply loop = ask(data, "loop1.lan", A);
    CHECK(loop.rcode() == dns::Rcode::NoError);
    CHECK(loop.answers.size() == 2);
}

TEST_CASE("a long chain stops after kMaxChain links") {
    LocalData::Builder b;
    for (int i = 0; i < 20; ++i) {
        REQUIRE_FALSE(b.add_record("c" + std::to_string(i) + ".lan CNAME c" + std::to_string(i + 1) + ".lan", "r"));
    }
    const Reply r = ask(build(std::move(b)), "c0.lan", A);
    CHECK(r.rcode() == dns::Rcode::NoError);
    CHECK(r.answers.size() == kMaxChain + 1);
}

TEST_CASE("NODATA carries the zone's SOA, or one owned by the name outside every zone") {
    const LocalData data = sample();
    const Reply mx = ask(data, "www.lan", dns::type::MX);
    CHECK(mx.rcode() == dns::Rcode::NoError);
    CHECK(mx.answers.empty());
    CHECK(mx.authority == std::vector<std::string>{kLanSoa});
    CHECK(mx.parsed.soa);
    // The SOA's owner points into the question: "lan" of "www.lan".
    CHECK(dns::read_u16(mx.wire, mx.parsed.question.end) == 0xc000 + 16);

    const Reply outside = ask(data, "Printer.Home", dns::type::AAAA);
    CHECK(outside.rcode() == dns::Rcode::NoError);
    CHECK(outside.authority ==
          std::vector<std::string>{"Printer.Home. 300 IN SOA printer.home. nobody.invalid. 1 3600 1200 604800 300"});
    CHECK(ask(data, "printer.home", A).answers == std::vector<std::string>{"printer.home. 3600 IN A 192.168.1.5"});
}

TEST_CASE("an empty non-terminal in a zone is NODATA, a name that is not there NXDOMAIN") {
    const LocalData data = sample();
    const Reply ent = ask(data, "sub.lan", A);
    CHECK(ent.rcode() == dns::Rcode::NoError);
    CHECK(ent.answers.empty());
    CHECK(ent.authority == std::vector<std::string>{kLanSoa});

    const Reply nx = ask(data, "nothere.lan", A);
    CHECK(nx.rcode() == dns::Rcode::NxDomain);
    CHECK(nx.answer->rcode == dns::Rcode::NxDomain);
    CHECK(nx.flag(dns::kFlagAa));
    CHECK(nx.authority == std::vector<std::string>{kLanSoa});
    CHECK(ask(data, "x.deep.sub.lan", A).rcode() == dns::Rcode::NxDomain);

    const Reply apex = ask(data, "lan", dns::type::SOA);
    CHECK(apex.answers == std::vector<std::string>{kLanSoa});
    const Reply apex_a = ask(data, "lan", A);
    CHECK(apex_a.rcode() == dns::Rcode::NoError);
    CHECK(apex_a.authority == std::vector<std::string>{kLanSoa});
}

TEST_CASE("a zone with its own SOA uses it, with the negative TTL of RFC 2308") {
    const LocalData data = sample();
    const Reply nx = ask(data, "x.corp", A);
    CHECK(nx.rcode() == dns::Rcode::NxDomain);
    CHECK(nx.authority == std::vector<std::string>{"corp. 120 IN SOA ns.corp. admin.corp. 5 3600 600 86400 120"});
    CHECK(ask(data, "corp", dns::type::SOA).answers ==
          std::vector<std::string>{"corp. 900 IN SOA ns.corp. admin.corp. 5 3600 600 86400 120"});
    CHECK(ask(data, "mail.corp", A).authority.size() == 1);
}

TEST_CASE("names that are not ours, and queries local data does not answer, go on") {
    const LocalData data = sample();
    CHECK_FALSE(ask(data, "www.example.com", A).answer);
    CHECK_FALSE(ask(data, "home", A).answer);            // above a name outside every zone
    CHECK_FALSE(ask(data, "x.printer.home", A).answer);  // below it
    CHECK_FALSE(ask(data, "www.lan", A, {.qclass = 3}).answer);
    CHECK_FALSE(ask(data, "www.lan", A, {.flags = 0x2800}).answer);  // opcode 5 (UPDATE)
    CHECK(ask(data, "www.lan", A, {.qclass = 255}).answers.size() == 2);
    CHECK_FALSE(ask(LocalData{}, "www.lan", A).answer);
}

TEST_CASE("hosts entries give A, AAAA and the first line's PTR, for several names on a line") {
    const LocalData data = sample();
    CHECK(ask(data, "nas.lan", A).answers == std::vector<std::string>{"nas.lan. 300 IN A 192.0.2.50"});
    CHECK(ask(data, "nas.lan", AAAA).answers == std::vector<std::string>{"nas.lan. 300 IN AAAA 2001:db8:0:0:0:0:0:50"});
    CHECK(ask(data, "storage.lan", A).answers == std::vector<std::string>{"storage.lan. 300 IN A 192.0.2.50"});
    CHECK(ask(data, "other.lan", A).answers.size() == 1);
    CHECK(ask(data, "50.2.0.192.in-addr.arpa", dns::type::PTR).answers ==
          std::vector<std::string>{"50.2.0.192.in-addr.arpa. 300 IN PTR nas.lan."});
    const std::string v6 = "0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    CHECK(ask(data, v6, dns::type::PTR).answers == std::vector<std::string>{v6 + ". 300 IN PTR nas.lan."});
    CHECK(ask(data, "nas.lan", dns::type::MX).authority == std::vector<std::string>{kLanSoa});

    LocalData::Builder b({.host_ttl = 0});
    CHECK(b.add_host({.address = bytes({1, 2, 3}), .name = wire("x.lan")}) == HostStatus::bad_address);
    CHECK(b.add_host({.address = bytes({1, 2, 3, 4}), .name = bytes({3, 'a'})}) == HostStatus::bad_name);
    add_host(b, bytes({10, 0, 0, 1}), "router");
    CHECK(ask(build(std::move(b)), "router", A).answers == std::vector<std::string>{"router. 0 IN A 10.0.0.1"});
}

TEST_CASE("EDNS clients get one OPT with DO echoed, others none") {
    const LocalData data = sample();
    const Reply plain = ask(data, "www.lan", A);
    CHECK_FALSE(plain.parsed.edns.present);
    CHECK(plain.parsed.header.arcount == 0);
    const Reply edns = ask(data, "www.lan", A, {.edns = true, .dnssec_ok = true});
    CHECK(edns.parsed.edns.present);
    CHECK(edns.parsed.edns.dnssec_ok);
    CHECK(edns.parsed.edns.udp_size == 1232);
    CHECK(edns.answers.size() == 2);
    const Reply nx = ask(data, "nothere.lan", A, {.edns = true});
    CHECK(nx.parsed.edns.present);
    CHECK_FALSE(nx.parsed.edns.dnssec_ok);
    CHECK(nx.authority.size() == 1);
}

TEST_CASE("an answer over the limit is truncated to the header and question") {
    LocalData::Builder b;
    for (int i = 0; i < 40; ++i) {
        REQUIRE_FALSE(b.add_record(
            "big.lan TXT \"" + std::string(40, static_cast<char>('a' + i % 26)) + std::to_string(i) + "\"", "r"));
    }
    const LocalData data = build(std::move(b));
    const Reply full = ask(data, "big.lan", dns::type::TXT);
    CHECK(full.answers.size() == 40);
    CHECK_FALSE(full.flag(dns::kFlagTc));

    const Reply udp = ask(data, "big.lan", dns::type::TXT, {.limit = 512});
    CHECK(udp.flag(dns::kFlagTc));
    CHECK(udp.flag(dns::kFlagAa));
    CHECK(udp.answers.empty());
    CHECK(udp.wire.size() == udp.parsed.question.end);
    CHECK(udp.answer->size <= 512);

    const Reply edns = ask(data, "big.lan", dns::type::TXT, {.limit = 1232, .edns = true});
    CHECK(edns.flag(dns::kFlagTc));
    CHECK(edns.parsed.edns.present);
    CHECK(edns.wire.size() == edns.parsed.question.end + dns::kOptRecordSize);

    std::vector<std::byte> tiny(20);
    const Reply probe = ask(data, "big.lan", dns::type::TXT);
    dns::Message query;
    REQUIRE(dns::parse_message(probe.query, query) == dns::ParseStatus::Ok);
    const auto qname = wire("big.lan");
    const auto none = data.answer({.wire = probe.query, .message = query, .qname = qname}, tiny);
    REQUIRE(none);
    CHECK(none->size == 0);
}

TEST_CASE("building refuses bad records, naming their origin, and keeps identical records once") {
    {
        LocalData::Builder b;
        REQUIRE_FALSE(b.add_record("a.lan A 192.0.2.1", "local.records[0]"));
        const auto e = b.add_record("b.lan A 300.0.0.1", "local.records[1]");
        REQUIRE(e);
        CHECK(e->message() == "local.records[1]: bad IPv4 address");
    }
    {
        LocalData::Builder b;
        REQUIRE_FALSE(b.add_record("a.lan A 192.0.2.1", "local.records[0]"));
        REQUIRE_FALSE(b.add_record("A.lan CNAME b.lan", "local.records[1]"));
        auto built = std::move(b).build();
        REQUIRE(std::holds_alternative<LocalDataError>(built));
        CHECK(std::get<LocalDataError>(built).message() == "local.records[1]: CNAME at a.lan. beside other data");
    }
    {
        LocalData::Builder b;
        REQUIRE_FALSE(b.add_record("a.lan CNAME b.lan", "x[0]"));
        REQUIRE_FALSE(b.add_record("a.lan CNAME c.lan", "x[1]"));
        auto built = std::move(b).build();
        REQUIRE(std::holds_alternative<LocalDataError>(built));
        CHECK(std::get<LocalDataError>(built).message() == "x[0]: two CNAMEs at a.lan.");
    }
    {
        LocalData::Builder b;
        CHECK(b.add_zone("a..lan", ZoneKind::local, "local.zones[3]")->message() ==
              "local.zones[3]: bad zone name a..lan");
        dns::ZoneRecord bad{.owner = wire("x.lan"), .type = dns::type::CNAME, .rdata = bytes({1, 'a'})};
        CHECK(b.add_record(bad, "api")->problem == "bad RDATA for CNAME");
        CHECK(b.add_record("*.lan A 192.0.2.9", "w")->problem.find("wildcard") != std::string::npos);
        REQUIRE_FALSE(b.add_record("a.lan A 192.0.2.1", "r"));
        REQUIRE_FALSE(b.add_record("a.lan 60 A 192.0.2.1", "r"));
        REQUIRE_FALSE(b.add_record("a.lan A 192.0.2.2", "r"));
        add_host(b, bytes({192, 0, 2, 1}), "a.lan");
        const LocalData data = build(std::move(b));
        CHECK(data.record_count() == 3);  // two A, one PTR
        CHECK(ask(data, "a.lan", A).answers ==
              std::vector<std::string>{"a.lan. 3600 IN A 192.0.2.1", "a.lan. 3600 IN A 192.0.2.2"});
    }
}

TEST_CASE("for_each_name lists each zone apex as a subtree and each other name with records as exact") {
    std::vector<std::string> names;
    sample().for_each_name([&](std::span<const std::byte> name, NameKind kind) {
        std::string text;
        dns::append_presentation(text, name);
        names.push_back((kind == NameKind::subtree ? "subtree " : "exact ") + text);
    });
    std::sort(names.begin(), names.end());
    CHECK(std::count(names.begin(), names.end(), "subtree lan.") == 1);
    CHECK(std::count(names.begin(), names.end(), "subtree corp.") == 1);
    CHECK(std::count(names.begin(), names.end(), "exact printer.home.") == 1);
    CHECK(std::count(names.begin(), names.end(), "exact www.lan.") == 1);
    CHECK(std::count(names.begin(), names.end(), "exact 50.2.0.192.in-addr.arpa.") == 1);
    CHECK(std::count(names.begin(), names.end(), "exact sub.lan.") == 0);  // an empty non-terminal
    CHECK(std::count(names.begin(), names.end(), "exact home.") == 0);
}

TEST_CASE("a nested zone takes the names under it") {
    LocalData::Builder b;
    REQUIRE_FALSE(b.add_zone("lan", ZoneKind::local, "z"));
    REQUIRE_FALSE(b.add_zone("inner.sub.lan", ZoneKind::local, "z"));
    const LocalData data = build(std::move(b));
    CHECK(ask(data, "x.inner.sub.lan", A).authority ==
          std::vector<std::string>{"inner.sub.lan. 300 IN SOA inner.sub.lan. nobody.invalid. 1 3600 1200 604800 300"});
    const Reply ent = ask(data, "sub.lan", A);
    CHECK(ent.rcode() == dns::Rcode::NoError);
    CHECK(ent.authority == std::vector<std::string>{kLanSoa});
    CHECK(ask(data, "other.lan", A).rcode() == dns::Rcode::NxDomain);
}

TEST_CASE("100k hosts lines build and answer", "[.][perf]") {
    constexpr std::uint32_t kLines = 100000;
    std::vector<std::array<std::byte, 4>> addresses(kLines);
    std::vector<std::vector<std::byte>> names;
    std::vector<std::vector<std::byte>> aliases;
    for (std::uint32_t i = 0; i < kLines; ++i) {
        dns::write_u32(addresses[i], 0, 0x0a000000 + i);
        names.push_back(wire("host" + std::to_string(i) + ".example.lan"));
        aliases.push_back(wire("h" + std::to_string(i)));
    }
    const auto start = std::chrono::steady_clock::now();
    LocalData::Builder b;
    REQUIRE_FALSE(b.add_zone("lan", ZoneKind::local, "z"));
    for (std::uint32_t i = 0; i < kLines; ++i) {
        b.add_host({.address = addresses[i], .name = names[i], .role = HostNameRole::canonical});
        b.add_host({.address = addresses[i], .name = aliases[i], .role = HostNameRole::alias});
    }
    const auto added = std::chrono::steady_clock::now();
    const LocalData data = build(std::move(b));
    const auto built = std::chrono::steady_clock::now();
    using Ms = std::chrono::duration<double, std::milli>;
    const double add_ms = Ms(added - start).count();
    const double build_ms = Ms(built - added).count();
    WARN("100k hosts lines, two names each: add_host " << add_ms << " ms, build " << build_ms << " ms");
    CHECK(ask(data, "host99999.example.lan", A).answers.size() == 1);
    CHECK(ask(data, "example.lan", A).authority.size() == 1);  // an empty non-terminal of the zone
    CHECK(ask(data, "9.255.0.10.in-addr.arpa", dns::type::PTR).answers.size() == 1);

    dns::Message query;
    const std::vector<std::byte> q = Wire().header(1, 0x0100, 1, 0, 0, 0).question("host4242.example.lan", A);
    REQUIRE(dns::parse_message(q, query) == dns::ParseStatus::Ok);
    const auto qname = wire("host4242.example.lan");
    std::vector<std::byte> out(1232);
    const int rounds = 1000000;
    std::size_t total = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) total += data.answer({.wire = q, .message = query, .qname = qname}, out)->size;
    const auto t1 = std::chrono::steady_clock::now();
    using Ns = std::chrono::duration<double, std::nano>;
    const double each_ns = Ns(t1 - t0).count() / rounds;
    WARN("answer(): " << each_ns << " ns each");
    CHECK(total > 0);
}

TEST_CASE("every answer is a valid message within the limit, whatever is asked") {
    LocalData::Builder b;
    REQUIRE_FALSE(b.add_zone("lan", ZoneKind::local, "z"));
    REQUIRE_FALSE(b.add_zone("lo", ZoneKind::loopback, "z"));
    REQUIRE_FALSE(b.add_zone("no", ZoneKind::nxdomain, "z"));
    for (int i = 0; i < 30; ++i) {
        REQUIRE_FALSE(b.add_record("big.lan TXT \"" + std::string(100, 'x') + std::to_string(i) + "\"", "r"));
    }
    REQUIRE_FALSE(b.add_record("c1.lan CNAME big.lan", "r"));
    REQUIRE_FALSE(b.add_record("c2.lan CNAME c1.lan", "r"));
    REQUIRE_FALSE(b.add_record("c3.lan CNAME x.lo", "r"));
    REQUIRE_FALSE(b.add_record("c4.lan CNAME a.no", "r"));
    REQUIRE_FALSE(b.add_record("c5.lan CNAME elsewhere.example", "r"));
    REQUIRE_FALSE(b.add_record("lan SOA ns.lan. admin.lan. 1 2 3 4 5", "r"));
    const LocalData data = build(std::move(b));
    const std::vector<std::string> names = {"big.lan", "C1.lan", "c2.LAN", "c3.lan", "c4.lan", "c5.lan", "lan",
                                            "x.y.lan", "lo",     "a.b.lo", "no",     "z.no",   "LO"};
    const std::vector<std::uint16_t> types = {
        A, AAAA, dns::type::TXT, dns::type::SOA, dns::type::ANY, dns::type::CNAME, dns::type::MX, 65};
    std::uint32_t state = 7;
    for (int round = 0; round < 3000; ++round) {
        state = state * 1103515245u + 12345u;
        const auto& name = names[(state >> 8) % names.size()];
        const auto qtype = types[(state >> 16) % types.size()];
        const std::size_t limit = 512 + (state >> 4) % 4000;
        const bool edns = (state & 1) != 0;
        INFO(name << " " << qtype << " limit " << limit);
        const Reply r = ask(data, name, qtype, {.limit = limit, .edns = edns, .dnssec_ok = (state & 2) != 0});
        REQUIRE(r.answer);
        CHECK(r.wire.size() <= limit);
        CHECK(r.parsed.edns.present == edns);
        CHECK(std::equal(r.query.begin() + 12, r.query.begin() + static_cast<long>(r.parsed.question.end),
                         r.wire.begin() + 12));
    }
}
