// The path of a query through cache, coalescing and upstream, against a scripted upstream on loopback.
#include "daemon/resolve/resolver.hpp"
#include "cache/memory_cache.hpp"
#include "core/engine/greenlet.hpp"
#include "core/io/udp_tcp_pair.hpp"
#include "dns/message.hpp"
#include "tests/daemon/resolve/resolve_helpers.hpp"
#include "tests/dns/wire_builder.hpp"
#include "tests/support/test_upstream.hpp"
#include "upstream/plain.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <optional>

using namespace greenfinch;
using namespace std::chrono_literals;
using greenfinch::test::TestUpstream;
using greenfinch::test::Wire;

namespace {
struct Rig {
    // `server`: where the upstream channel sends its queries, if not to `up`.
    explicit Rig(TestUpstream::Script script = {}, std::uint32_t serve_stale = 0, double budget = 1.0,
                 int upstream_slots = 1000, std::optional<core::SocketAddress> server = std::nullopt)
        : up(script),
          cache({1000, serve_stale, 4}),
          resolver(
              cache, nullptr,
              test::one_route(upstream::make_plain_upstream(hub, {.servers = {server.value_or(up.address())},
                                                                  .attempt_timeout = std::chrono::milliseconds(300),
                                                                  .tries = 1}),
                              budget, upstream_slots),
              test::forward_all(), options()) {}

    daemon::Resolver::Options options() {
        daemon::Resolver::Options o;
        o.clock = [this] { return clock; };
        return o;
    }

    test::Resolved ask(const std::string& name, std::uint16_t id = 1, unsigned qtype = dns::type::A) {
        return test::resolve(resolver, name, id, qtype);
    }

    core::Hub hub;
    double clock = 1000.0;
    TestUpstream up;
    cache::MemoryCache cache;
    daemon::Resolver resolver;
};
}  // namespace

TEST_CASE("resolver: a miss goes upstream once, then the cache answers with the client's ID and aged TTLs") {
    Rig rig;
    auto first = rig.ask("www.example", 11);
    CHECK(first.m.header.id == 11);
    CHECK(first.m.header.rcode() == dns::Rcode::NoError);
    CHECK(first.first_ttl() == 300);
    rig.clock += 42;
    auto second = rig.ask("WWW.example", 12);
    CHECK(second.m.header.id == 12);
    CHECK(second.first_ttl() == 258);
    CHECK(rig.up.count("www.example") == 1);
    CHECK(rig.resolver.stats().cache_hits == 1);
}

TEST_CASE("resolver: identical concurrent queries share one upstream query") {
    Rig rig;
    rig.up.script("popular.example", {TestUpstream::Action::Answer, 0.05});
    std::vector<core::Ref<core::Greenlet>> gs;
    int answered = 0;
    for (int i = 0; i < 50; ++i) {
        gs.push_back(core::spawn([&rig, &answered, i] {
            if (rig.ask("popular.example", static_cast<std::uint16_t>(i)).m.header.ancount == 1) ++answered;
        }));
    }
    core::joinall(gs);
    CHECK(answered == 50);
    CHECK(rig.up.count("popular.example") == 1);
    CHECK(rig.resolver.stats().coalesced == 49);
}

TEST_CASE("resolver: when the query leading a flight is killed, the ones that joined it ask again and get the answer") {
    Rig rig;
    rig.up.script("slow.example", {TestUpstream::Action::Answer, 0.1});
    auto leader = core::spawn([&rig] { rig.ask("slow.example", 1); });
    core::sleep(0s);  // the leader asks the upstream and parks
    test::Resolved followed;
    auto follower = core::spawn([&rig, &followed] { followed = rig.ask("slow.example", 2); });
    core::sleep(0s);  // the follower joins the leader's flight
    REQUIRE(rig.resolver.stats().coalesced == 1);
    leader->kill();  // its client gone: a TCP connection reset, say
    follower->join();
    CHECK(followed.m.header.rcode() == dns::Rcode::NoError);
    CHECK(followed.m.header.ancount == 1);
    CHECK(followed.m.header.id == 2);
    CHECK(rig.up.count("slow.example") == 2);  // asked again: the leader's query was no one's any more
    CHECK(rig.resolver.stats().flights_taken_over == 1);
}

TEST_CASE("resolver: the upstream Semaphore bounds the queries in flight upstream, and the others wait their turn") {
    Rig rig({TestUpstream::Action::Answer, 0.2}, 0, 2.0, 2);  // each answer takes 200 ms, two slots
    std::vector<core::Ref<core::Greenlet>> gs;
    int answered = 0;
    for (int i = 0; i < 5; ++i) {
        gs.push_back(core::spawn([&rig, &answered, i] {
            if (rig.ask("slot" + std::to_string(i) + ".example").m.header.ancount == 1) ++answered;
        }));
    }
    REQUIRE(rig.up.wait_for_total(2, 1s));
    CHECK_FALSE(rig.up.wait_for_total(3, 0.1s));  // the third waits for a slot
    core::joinall(gs);
    CHECK(answered == 5);
    CHECK(rig.up.total() == 5);
}

TEST_CASE("resolver: a dead upstream gets SERVFAIL within the budget while cached names still answer at once") {
    Rig rig({}, 0, 0.2);
    rig.ask("cached.example");
    rig.up.script("dead.example", {TestUpstream::Action::Drop});
    const auto t0 = std::chrono::steady_clock::now();
    auto slow = core::spawn([&] { return rig.ask("dead.example").m.header.rcode(); });
    auto fast = rig.ask("cached.example");
    const double fast_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(fast.m.header.rcode() == dns::Rcode::NoError);
    CHECK(fast_s < 0.1);
    CHECK(slow->get() == dns::Rcode::ServFail);
    const double slow_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(slow_s >= 0.15);
    CHECK(slow_s < 1.0);
}

TEST_CASE("resolver: an expired answer is served stale with TTL 30 when the upstream fails") {
    Rig rig({TestUpstream::Action::Answer, 0, 10}, 3600, 0.2);
    CHECK(rig.ask("stale.example").first_ttl() == 10);
    rig.clock += 100;  // expired, inside the serve-stale window
    rig.up.script("stale.example", {TestUpstream::Action::Drop});
    auto a = rig.ask("stale.example");
    CHECK(a.m.header.rcode() == dns::Rcode::NoError);
    CHECK(a.first_ttl() == 30);
    CHECK(rig.resolver.stats().stale_served == 1);
}

TEST_CASE("resolver: a hit in the last 10% of the TTL refreshes the entry in the background") {
    Rig rig;
    rig.ask("busy.example");
    rig.clock += 280;  // 20 of 300 seconds left
    auto a = rig.ask("busy.example");
    CHECK(a.first_ttl() == 20);  // served from cache at once
    for (int i = 0; i < 100 && rig.up.count("busy.example") < 2; ++i) core::sleep(5ms);
    CHECK(rig.up.count("busy.example") == 2);
    core::sleep(10ms);
    CHECK(rig.ask("busy.example").first_ttl() == 300);  // the refreshed answer
    CHECK(rig.resolver.stats().prefetches == 1);
}

TEST_CASE("resolver: NXDOMAIN is cached for the SOA's negative TTL, and its SOA counts down from it") {
    Rig rig({TestUpstream::Action::NxDomain, 0, 120});
    auto first = rig.ask("nope.example");
    CHECK(first.m.header.rcode() == dns::Rcode::NxDomain);
    rig.clock += 20;
    auto second = rig.ask("nope.example");
    CHECK(second.m.header.rcode() == dns::Rcode::NxDomain);
    CHECK(dns::read_u32(second.wire, second.m.ttl_offsets.at(0)) == 100);
    CHECK(rig.up.count("nope.example") == 1);
}

TEST_CASE("resolver: a query with answer or authority records, or more than one additional, gets FORMERR unread") {
    Rig rig;
    std::array<std::byte, 512> out{};
    const auto question = [](Wire w) { return std::move(w.question("a.example", dns::type::A)); };
    // ANCOUNT 1, NSCOUNT 1, ARCOUNT 2: each with the records it claims, pointing at the question's name.
    std::vector<std::byte> with_answer =
        question(Wire().header(5, 0x0100, 1, 1, 0, 0)).pointer(12).rr_fixed(dns::type::A, 60, 4).raw({1, 2, 3, 4});
    std::vector<std::byte> with_authority =
        question(Wire().header(6, 0x0100, 1, 0, 1, 0)).pointer(12).rr_fixed(dns::type::A, 60, 4).raw({1, 2, 3, 4});
    std::vector<std::byte> two_additional = question(Wire().header(7, 0x0100, 1, 0, 0, 2))
                                                .pointer(12)
                                                .rr_fixed(dns::type::A, 60, 4)
                                                .raw({1, 2, 3, 4})
                                                .pointer(12)
                                                .rr_fixed(dns::type::A, 60, 4)
                                                .raw({1, 2, 3, 5});
    for (const auto& q : {with_answer, with_authority, two_additional}) {
        const std::size_t n = rig.resolver.resolve(q, test::udp_client(), out);
        REQUIRE(n >= dns::kHeaderSize);
        CHECK(dns::parse_header(std::span(out).first(n))->rcode() == dns::Rcode::FormErr);
    }
    CHECK(rig.up.total() == 0);
    CHECK(rig.resolver.stats().formerr == 3);
    // One additional record, the OPT, is a plain query.
    const std::vector<std::byte> with_opt =
        Wire().header(8, 0x0100, 1, 0, 0, 1).question("a.example", dns::type::A).opt(1232);
    const std::size_t n = rig.resolver.resolve(with_opt, test::udp_client(), out);
    REQUIRE(n >= dns::kHeaderSize);
    CHECK(dns::parse_header(std::span(out).first(n))->rcode() == dns::Rcode::NoError);
    CHECK(rig.up.total() == 1);
}

TEST_CASE("resolver: malformed queries get FORMERR, responses are dropped, other opcodes NOTIMP") {
    Rig rig;
    std::array<std::byte, 512> out{};
    const std::vector<std::byte> broken = Wire().header(5, 0x0100, 1, 0, 0, 0).u8(9).raw({'a'});
    std::size_t n = rig.resolver.resolve(broken, test::udp_client(), out);
    REQUIRE(n == 12);
    CHECK(dns::parse_header(out)->rcode() == dns::Rcode::FormErr);
    const std::vector<std::byte> response = Wire().header(5, 0x8180, 1, 0, 0, 0).question("a.example", 1);
    CHECK(rig.resolver.resolve(response, test::udp_client(), out) == 0);
    const std::vector<std::byte> notify = Wire().header(5, 0x2000, 1, 0, 0, 0).question("a.example", dns::type::SOA);
    n = rig.resolver.resolve(notify, test::udp_client(), out);
    REQUIRE(n > 0);
    CHECK(dns::parse_header(out)->rcode() == dns::Rcode::NotImp);
    CHECK(rig.up.total() == 0);
}

namespace {
test::Resolved ask_raw(Rig& rig, const std::vector<std::byte>& query) {
    std::array<std::byte, 4096> out{};
    const std::size_t n = rig.resolver.resolve(query, test::udp_client(), out);
    test::Resolved a;
    a.wire.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    REQUIRE(dns::parse_message(a.wire, a.m) == dns::ParseStatus::Ok);
    return a;
}
}  // namespace

TEST_CASE("resolver: the upstream is asked the key's question, never the client's ID, RD bit or EDNS options") {
    Rig rig;
    // RD=0, mixed case, EDNS 4096 with a client cookie (option 10).
    const std::vector<std::byte> q = Wire()
                                         .header(0x4242, 0x0000, 1, 0, 0, 1)
                                         .question("Cookie.Example", dns::type::A)
                                         .u8(0)
                                         .u16(41)
                                         .u16(4096)
                                         .u32(0)
                                         .u16(12)
                                         .u16(10)
                                         .u16(8)
                                         .u32(0x01020304)
                                         .u32(0x05060708);
    const auto a = ask_raw(rig, q);
    CHECK(a.m.header.id == 0x4242);
    CHECK_FALSE(a.m.header.rd());  // the client's RD, echoed
    CHECK(a.m.header.ancount == 1);
    REQUIRE(a.m.edns.present);
    CHECK(a.m.edns.udp_size == 1232);                               // ours, not the upstream's or the client's
    CHECK(a.m.edns.offset + dns::kOptRecordSize == a.wire.size());  // no options: no cookie echoed to anyone

    const std::vector<std::byte> asked = rig.up.last_query("cookie.example");
    dns::Message m;
    REQUIRE(dns::parse_message(asked, m) == dns::ParseStatus::Ok);
    CHECK(m.header.rd());
    CHECK(m.header.id != 0x4242);
    REQUIRE(m.edns.present);
    CHECK(m.edns.udp_size == 1232);
    CHECK(m.edns.offset + dns::kOptRecordSize == asked.size());  // the client's cookie stayed here

    SECTION("a client with RD=1 and without EDNS shares the entry, and gets RD=1 and no OPT") {
        const auto b = rig.ask("cookie.example", 9);
        CHECK(b.m.header.rd());
        CHECK_FALSE(b.m.edns.present);
        CHECK(b.m.header.ancount == 1);
        CHECK(rig.up.count("cookie.example") == 1);
    }
}

TEST_CASE("resolver: an answer over 512 bytes comes over UDP once, not again over TCP") {
    Rig rig;
    rig.up.script("big.example", {TestUpstream::Action::Answer, 0, 300, {192, 0, 2, 1}, 40});  // about 680 bytes
    const auto a = ask_raw(rig, Wire().header(5, 0x0100, 1, 0, 0, 1).question("big.example", dns::type::A).opt(1232));
    CHECK(a.m.header.ancount == 40);
    CHECK(rig.up.count("big.example") == 1);
    CHECK(rig.up.tcp_count("big.example") == 0);
}

TEST_CASE("resolver: an upstream's SERVFAIL is cached for servfail_ttl, and is no upstream trouble") {
    Rig rig;
    rig.up.script("broken.example", {TestUpstream::Action::ServFail});
    CHECK(rig.ask("broken.example", 1).m.header.rcode() == dns::Rcode::ServFail);
    const int asked = rig.up.count("broken.example");
    CHECK(asked >= 1);
    rig.clock += 4;  // servfail_ttl is 5 s
    const auto again =
        ask_raw(rig, Wire().header(2, 0x0100, 1, 0, 0, 1).question("broken.example", dns::type::A).opt(4096));
    CHECK(again.m.header.id == 2);
    CHECK(again.m.header.rcode() == dns::Rcode::ServFail);
    CHECK(again.m.edns.present);  // an EDNS client gets an OPT back with the SERVFAIL
    CHECK(rig.up.count("broken.example") == asked);
    CHECK(rig.resolver.stats().upstream_failures == 0);
    rig.clock += 2;  // expired: asked again
    CHECK(rig.ask("broken.example", 3).m.header.rcode() == dns::Rcode::ServFail);
    CHECK(rig.up.count("broken.example") > asked);
}

TEST_CASE("resolver: an upstream's SERVFAIL over TCP is cached for servfail_ttl too") {
    Rig rig;
    rig.up.script("tcp-broken.example", {TestUpstream::Action::TcpServFail});
    CHECK(rig.ask("tcp-broken.example", 1).m.header.rcode() == dns::Rcode::ServFail);
    const int asked = rig.up.count("tcp-broken.example");
    CHECK(rig.up.tcp_count("tcp-broken.example") >= 1);
    rig.clock += 4;  // servfail_ttl is 5 s
    CHECK(rig.ask("tcp-broken.example", 2).m.header.rcode() == dns::Rcode::ServFail);
    CHECK(rig.up.count("tcp-broken.example") == asked);
    CHECK(rig.resolver.stats().upstream_failures == 0);
}

TEST_CASE("resolver: an upstream's SERVFAIL does not displace an answer that can still be served stale") {
    Rig rig({TestUpstream::Action::Answer, 0, 10}, 3600, 0.5);
    CHECK(rig.ask("flaky.example").first_ttl() == 10);
    rig.clock += 100;  // expired, inside the serve-stale window
    rig.up.script("flaky.example", {TestUpstream::Action::ServFail});
    for (int i = 0; i < 2; ++i) {
        const auto a = rig.ask("flaky.example", static_cast<std::uint16_t>(10 + i));
        CHECK(a.m.header.rcode() == dns::Rcode::NoError);
        CHECK(a.first_ttl() == 30);
    }
    CHECK(rig.resolver.stats().stale_served == 2);
}

TEST_CASE("resolver: a SERVFAIL of our own carries an OPT record for an EDNS client, with its DO bit") {
    Rig rig({}, 0, 0.2);
    rig.up.script("dead.example", {TestUpstream::Action::Drop});
    const auto a =
        ask_raw(rig, Wire().header(4, 0x0100, 1, 0, 0, 1).question("dead.example", dns::type::A).opt(4096, true));
    CHECK(a.m.header.rcode() == dns::Rcode::ServFail);
    REQUIRE(a.m.edns.present);
    CHECK(a.m.edns.dnssec_ok);
    CHECK(a.m.edns.udp_size == 1232);
    CHECK(rig.ask("dead.example", 5).m.header.arcount == 0);  // and none for a client without EDNS
}

TEST_CASE("resolver: an upstream without EDNS is asked again without the OPT record, and answers") {
    Rig rig({TestUpstream::Action::NoEdns});
    const auto a = rig.ask("old.example");
    CHECK(a.m.header.rcode() == dns::Rcode::NoError);
    CHECK(a.m.header.ancount == 1);
    CHECK(rig.up.count("old.example") == 2);
    dns::Message m;
    const auto asked = rig.up.last_query("old.example");
    REQUIRE(dns::parse_message(asked, m) == dns::ParseStatus::Ok);
    CHECK_FALSE(m.edns.present);
    CHECK(m.header.arcount == 0);
}

TEST_CASE("resolver: after one answer from an upstream without EDNS, later ones still come, and big answers whole") {
    Rig rig({TestUpstream::Action::NoEdns});
    CHECK(rig.ask("old.example").m.header.rcode() == dns::Rcode::NoError);
    // c-ares has turned EDNS off for the channel by now: the FORMERR reaches the upstream, which asks without OPT.
    const auto again = rig.ask("older.example", 7);
    CHECK(again.m.header.rcode() == dns::Rcode::NoError);
    CHECK(again.m.header.ancount == 1);
    CHECK(rig.up.count("older.example") == 2);
    CHECK(rig.resolver.stats().upstream_failures == 0);
    rig.up.script("big.example", {TestUpstream::Action::Answer, 0, 300, {192, 0, 2, 1}, 40});
    const auto big = ask_raw(rig, Wire().header(5, 0x0100, 1, 0, 0, 1).question("big.example", dns::type::A).opt(1232));
    // Over TCP now: c-ares takes a UDP answer over 512 bytes as truncated, until the channel is replaced (not within
    // the first 30 s of its life: "upstream: a channel that lost EDNS to a FORMERR is replaced...").
    CHECK(big.m.header.ancount == 40);
}

TEST_CASE("resolver: a refresh that outlasts the client's timer gets the client the stale answer, and lands later") {
    Rig rig({TestUpstream::Action::Answer, 0, 10}, 3600, 1.0);
    auto o = rig.options();
    o.stale_client_timeout = 0.05;
    rig.resolver.reconfigure(o);
    rig.ask("slow.example");
    rig.clock += 100;                                                         // expired, inside the serve-stale window
    rig.up.script("slow.example", {TestUpstream::Action::Answer, 0.15, 60});  // within the 300 ms attempt timeout
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(rig.ask("slow.example", 2).first_ttl() == 30);
    // The client timer's 0.05 s, not the 0.15 the refresh takes.
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.12);
    CHECK(rig.resolver.stats().stale_served == 1);
    // The refresh is still on its way: a client with a longer timer joins it and gets its answer.
    o.stale_client_timeout = 0.9;
    rig.resolver.reconfigure(o);
    CHECK(rig.ask("slow.example", 3).first_ttl() == 60);
    CHECK(rig.ask("slow.example", 4).first_ttl() == 60);  // from the cache now
    CHECK(rig.up.count("slow.example") == 2);             // the first miss, and the one refresh both clients shared
    CHECK(rig.resolver.stats().stale_served == 1);
    CHECK(rig.resolver.stats().upstream_timeouts == 0);
}

TEST_CASE("resolver: with a client timer of 0 the stale answer goes out at once, and a failed refresh is remembered") {
    Rig rig({TestUpstream::Action::Answer, 0, 10}, 3600, 0.2);
    auto o = rig.options();
    o.stale_client_timeout = 0;
    rig.resolver.reconfigure(o);
    rig.ask("down.example");
    rig.clock += 100;
    rig.up.script("down.example", {TestUpstream::Action::Drop});
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(rig.ask("down.example", 2).first_ttl() == 30);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.1);  // the budget is 0.2
    // The refresh fails in the background, after its budget.
    for (int i = 0; i < 100 && rig.resolver.stats().upstream_timeouts == 0; ++i) core::sleep(10ms);
    REQUIRE(rig.resolver.stats().upstream_timeouts == 1);
    const auto asked = rig.resolver.stats().upstream_queries;
    CHECK(rig.ask("down.example", 3).first_ttl() == 30);
    core::sleep(0s);  // a refresh spawned now would have sent its query by the time this returns
    CHECK(rig.resolver.stats().upstream_queries == asked);  // within stale_recheck of the failure: not asked again
    CHECK(rig.resolver.stats().stale_served == 2);
}

TEST_CASE("resolver: after a failed refresh the stale answer is served at once, and the upstream asked again later") {
    Rig rig({TestUpstream::Action::Answer, 0, 10}, 3600, 0.3);
    rig.ask("outage.example");
    rig.clock += 100;  // expired, inside the serve-stale window
    rig.up.script("outage.example", {TestUpstream::Action::Drop});
    auto t0 = std::chrono::steady_clock::now();
    CHECK(rig.ask("outage.example", 2).first_ttl() == 30);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= 0.25);  // the budget, once
    const int asked = rig.up.count("outage.example");
    rig.clock += 20;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) CHECK(rig.ask("outage.example", static_cast<std::uint16_t>(3 + i)).first_ttl() == 30);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.1);
    CHECK(rig.up.count("outage.example") == asked);  // not asked while the failure is recent
    rig.up.script("outage.example", {TestUpstream::Action::Answer, 0, 10});
    rig.clock += 11;  // 31 s after the failure: asked again, and the fresh answer replaces the stale one
    CHECK(rig.ask("outage.example", 9).first_ttl() == 10);
    CHECK(rig.up.count("outage.example") == asked + 1);
    CHECK(rig.resolver.stats().stale_served == 4);
}

namespace {
// A query for `name` with an OPT record: EDNS `version`, DO as given, and the option bytes given (none by default).
std::vector<std::byte> edns_query(const std::string& name, std::uint16_t id, bool dnssec_ok = false,
                                  unsigned version = 0, std::vector<unsigned> options = {}, unsigned flags = 0) {
    Wire w;
    w.header(id, 0x0100, 1, 0, 0, 1)
        .question(name, dns::type::A)
        .u8(0)
        .u16(dns::type::OPT)
        .u16(4096)
        .u32((version << 16) | (dnssec_ok ? 0x8000u : 0u) | flags)
        .u16(static_cast<unsigned>(options.size()));
    for (const unsigned b : options) w.u8(b);
    return w;
}

test::Resolved ask_over(Rig& rig, const std::vector<std::byte>& query, daemon::Transport transport) {
    static const core::SocketAddress peer = *core::SocketAddress::parse("127.0.0.1:40001");
    std::array<std::byte, 4096> out{};
    const std::size_t n = rig.resolver.resolve(query, {peer, transport}, out);
    test::Resolved a;
    a.wire.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    REQUIRE(dns::parse_message(a.wire, a.m) == dns::ParseStatus::Ok);
    return a;
}

// The INFO-CODE of the response's EDE option (RFC 8914), if it has one.
std::optional<std::uint16_t> ede_of(const test::Resolved& a) {
    if (!a.m.edns.present) return std::nullopt;
    const std::size_t start = a.m.edns.offset + dns::kOptRecordSize;
    const std::size_t end = start + dns::read_u16(a.wire, a.m.edns.offset + 9);
    for (std::size_t at = start; at + 4 <= end; at += 4 + dns::read_u16(a.wire, at + 2)) {
        if (dns::read_u16(a.wire, at) == dns::kEdnsOptionEde && dns::read_u16(a.wire, at + 2) >= 2) {
            return dns::read_u16(a.wire, at + 4);
        }
    }
    return std::nullopt;
}

// A loopback address where nothing listens: a port the kernel handed out, and took back.
core::SocketAddress dead_address() {
    return core::bind_udp_and_tcp(core::SocketAddress::loopback_v4()).udp.local_address();
}
}  // namespace

TEST_CASE("resolver: a stale answer tells an EDNS client so (EDE 3, Stale Answer), and a client without EDNS nothing") {
    Rig rig({TestUpstream::Action::Answer, 0, 10}, 3600, 0.2);
    CHECK(rig.ask("stale-ede.example").first_ttl() == 10);
    rig.clock += 100;  // expired, inside the serve-stale window
    rig.up.script("stale-ede.example", {TestUpstream::Action::Drop});
    const auto a = ask_raw(rig, edns_query("stale-ede.example", 2));
    CHECK(a.m.header.rcode() == dns::Rcode::NoError);
    CHECK(a.first_ttl() == 30);
    CHECK(a.m.header.ancount == 1);
    CHECK(ede_of(a) == std::uint16_t{3});
    const auto plain = rig.ask("stale-ede.example", 3);  // within stale_recheck: stale at once
    CHECK(plain.first_ttl() == 30);
    CHECK_FALSE(plain.m.edns.present);
    CHECK(plain.m.header.arcount == 0);
    CHECK(rig.resolver.stats().stale_served == 2);
    // Fresh again, and no EDE with it.
    rig.up.script("stale-ede.example", {TestUpstream::Action::Answer, 0, 10});
    rig.clock += 31;
    const auto fresh = ask_raw(rig, edns_query("stale-ede.example", 4));
    CHECK(fresh.first_ttl() == 10);
    CHECK_FALSE(ede_of(fresh));
}

TEST_CASE("resolver: a SERVFAIL because the upstream did not answer in time carries EDE 22 (No Reachable Authority)") {
    SECTION("the budget runs out first") {
        Rig rig({}, 0, 0.2);
        rig.up.script("silent.example", {TestUpstream::Action::Drop});
        const auto a = ask_raw(rig, edns_query("silent.example", 1, true));
        CHECK(a.m.header.rcode() == dns::Rcode::ServFail);
        CHECK(a.m.edns.dnssec_ok);
        CHECK(ede_of(a) == std::uint16_t{22});
        CHECK(rig.resolver.stats().upstream_timeouts == 1);
    }
    SECTION("the upstream's own tries run out first") {
        Rig rig({}, 0, 1.0);  // one try of 300 ms
        rig.up.script("silent.example", {TestUpstream::Action::Drop});
        const auto a = ask_raw(rig, edns_query("silent.example", 1));
        CHECK(a.m.header.rcode() == dns::Rcode::ServFail);
        CHECK(ede_of(a) == std::uint16_t{22});
        CHECK(rig.resolver.stats().upstream_timeouts == 0);
        CHECK(rig.resolver.stats().upstream_failures == 1);
    }
}

TEST_CASE("resolver: a SERVFAIL because no upstream could be reached carries EDE 23 (Network Error)") {
    Rig rig({}, 0, 1.0, 1000, dead_address());
    const auto t0 = std::chrono::steady_clock::now();
    const auto a = ask_raw(rig, edns_query("nowhere.example", 1));
    CHECK(a.m.header.rcode() == dns::Rcode::ServFail);
    CHECK(ede_of(a) == std::uint16_t{23});
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() <
          0.9);  // refused, not timed out
    const auto plain = rig.ask("nowhere.example", 2);
    CHECK(plain.m.header.rcode() == dns::Rcode::ServFail);
    CHECK_FALSE(plain.m.edns.present);  // no OPT, so no EDE, for a client without EDNS
    CHECK(plain.m.header.arcount == 0);
}

TEST_CASE("resolver: queries coalesced on a fetch that failed get the leader's EDE too") {
    // The followers join 100 ms after the leader: its budget runs out first, and they learn why from its flight.
    Rig rig({TestUpstream::Action::Drop}, 0, 0.3);
    std::vector<std::optional<std::uint16_t>> edes(3);
    std::vector<core::Ref<core::Greenlet>> gs;
    for (std::size_t i = 0; i < edes.size(); ++i) {
        gs.push_back(core::spawn([&rig, &edes, i] {
            edes[i] = ede_of(ask_raw(rig, edns_query("silent.example", static_cast<std::uint16_t>(i + 1))));
        }));
        if (i == 0) core::sleep(100ms);
    }
    core::joinall(gs);
    CHECK(rig.resolver.stats().coalesced == 2);
    CHECK(rig.resolver.stats().upstream_timeouts == 1);  // the leader's only: the followers were woken by its flight
    for (const auto& e : edes) CHECK(e == std::optional<std::uint16_t>(22));
}

TEST_CASE("resolver: EDNS version 1 gets BADVERS with our OPT of version 0, over UDP and TCP, and no upstream query") {
    Rig rig;
    for (const auto transport : {daemon::Transport::Udp, daemon::Transport::Tcp}) {
        // With DO, an unknown flag and an unknown option (100), as genreport's edns1opt and edns1do send.
        const auto a = ask_over(rig, edns_query("v1.example", 7, true, 1, {0, 100, 0, 0}, 0x0080), transport);
        CHECK(a.m.header.id == 7);
        CHECK(a.m.header.rcode() == dns::Rcode::NoError);  // BADVERS' low 4 bits
        CHECK(a.m.header.ancount == 0);
        CHECK(a.m.header.nscount == 0);
        REQUIRE(a.m.edns.present);
        CHECK(a.m.edns.extended_rcode == 1);  // 16 = 1 << 4 | 0
        CHECK(a.m.edns.version == 0);
        CHECK(a.m.edns.dnssec_ok);
        CHECK(dns::read_u16(a.wire, a.m.edns.offset + 7) == dns::kOptFlagDo);  // the unknown flag not echoed
        CHECK(a.m.edns.offset + dns::kOptRecordSize == a.wire.size());         // nor the option
    }
    CHECK(rig.up.total() == 0);
}

TEST_CASE("resolver: an answer from an authoritative upstream is not authoritative here, hit or miss") {
    TestUpstream::Script script;
    script.flags = 0x0400 | 0x0040;  // AA and Z, RA clear: NSD's flags, and a broken server's Z
    script.opt_flags = 0x0081;       // flags no version of EDNS defines
    script.opt_options = {0, 3, 0, 2, 'u', 'p', 0, 100, 0, 0};  // NSID "up", and option 100
    Rig rig(script);
    for (int round = 0; round < 2; ++round) {  // the miss, then the cache
        for (const auto transport : {daemon::Transport::Udp, daemon::Transport::Tcp}) {
            const auto a = ask_over(rig, edns_query("auth.example", 3, false, 0, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}),
                                    transport);
            CHECK(a.m.header.ancount == 1);
            CHECK_FALSE(a.m.header.flags & dns::kFlagAa);
            CHECK_FALSE(a.m.header.flags & dns::kFlagZ);
            CHECK(a.m.header.flags & dns::kFlagRa);
            REQUIRE(a.m.edns.present);
            CHECK(a.m.edns.udp_size == 1232);
            CHECK(dns::read_u32(a.wire, a.m.edns.offset + 5) == 0);         // version 0, no flags at all
            CHECK(a.m.edns.offset + dns::kOptRecordSize == a.wire.size());  // no option: not the upstream's, not ours
        }
    }
    CHECK(rig.up.count("auth.example") == 1);
    CHECK(rig.resolver.stats().cache_hits == 3);
    // A client with DO is another key: its answer says DO (RFC 3225), and one without EDNS gets no OPT.
    const auto with_do = ask_raw(rig, edns_query("auth.example", 4, true));
    CHECK(with_do.m.edns.dnssec_ok);
    CHECK(dns::read_u16(with_do.wire, with_do.m.edns.offset + 7) == dns::kOptFlagDo);
    const auto plain = rig.ask("auth.example", 5);
    CHECK_FALSE(plain.m.header.flags & dns::kFlagAa);
    CHECK_FALSE(plain.m.edns.present);
}

TEST_CASE("resolver: an upstream without EDNS still gets an EDNS client an OPT record, with the client's DO") {
    Rig rig({TestUpstream::Action::NoEdns});
    const auto a = ask_raw(rig, edns_query("old-edns.example", 1, true));
    CHECK(a.m.header.ancount == 1);
    REQUIRE(a.m.edns.present);
    CHECK(a.m.edns.dnssec_ok);
    const auto hit = ask_raw(rig, edns_query("old-edns.example", 2, true));
    REQUIRE(hit.m.edns.present);
    CHECK(hit.m.edns.dnssec_ok);
}

TEST_CASE("resolver: an unknown opcode gets NOTIMP without a question, over UDP and TCP, its OPT answered") {
    Rig rig;
    // genreport's opcodeflg: opcode 15, no question, and every flag set.
    const std::vector<std::byte> bare = Wire().header(0x0f0f, 0x7800 | 0x07f0, 0, 0, 0, 0);
    for (const auto transport : {daemon::Transport::Udp, daemon::Transport::Tcp}) {
        static const core::SocketAddress peer = *core::SocketAddress::parse("127.0.0.1:40002");
        std::array<std::byte, 512> out{};
        const std::size_t n = rig.resolver.resolve(bare, {peer, transport}, out);
        REQUIRE(n == dns::kHeaderSize);
        const auto h = dns::parse_header(std::span(out).first(n));
        CHECK(h->id == 0x0f0f);
        CHECK(h->opcode() == 15);
        CHECK(h->rcode() == dns::Rcode::NotImp);
        CHECK(h->qdcount == 0);
        CHECK(h->rd());
        CHECK((h->flags & (dns::kFlagAa | dns::kFlagTc | dns::kFlagRa | dns::kFlagZ | dns::kFlagAd | dns::kFlagCd)) ==
              0);
    }
    std::vector<std::byte> status = edns_query("a.example", 8, true);
    dns::write_u16(status, 2, 0x1100);  // opcode 2 (STATUS), RD
    const auto a = ask_raw(rig, status);
    CHECK(a.m.header.rcode() == dns::Rcode::NotImp);
    CHECK(a.m.header.opcode() == 2);
    REQUIRE(a.m.edns.present);
    CHECK(a.m.edns.dnssec_ok);
    CHECK(rig.up.total() == 0);
}

TEST_CASE("resolver: an answer to a question asked before a reload swapped the policy is served, not cached") {
    Rig rig({TestUpstream::Action::Answer, 0.1, 300});
    std::optional<test::Resolved> answer;
    auto asking = core::spawn([&] { answer = rig.ask("slow.example"); });
    REQUIRE(rig.up.wait_for_total(1, core::Seconds(5.0)));
    rig.resolver.use_policy(test::forward_all());  // a reload while the question is out
    asking->join();
    REQUIRE(answer);
    CHECK(answer->m.header.ancount == 1);
    rig.ask("slow.example");
    CHECK(rig.up.count("slow.example") == 2);
    rig.ask("slow.example");
    CHECK(rig.up.count("slow.example") == 2);  // asked under the policy in force: cached
}
