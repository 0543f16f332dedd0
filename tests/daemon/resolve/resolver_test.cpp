// The path of a query through cache, coalescing and upstream, against a scripted upstream on loopback.
#include "daemon/resolve/resolver.hpp"
#include "cache/memory_cache.hpp"
#include "core/engine/greenlet.hpp"
#include "dns/message.hpp"
#include "tests/daemon/resolve/resolve_helpers.hpp"
#include "tests/dns/wire_builder.hpp"
#include "tests/support/test_upstream.hpp"
#include "upstream/plain.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>

using namespace greenfinch;
using namespace std::chrono_literals;
using greenfinch::test::TestUpstream;
using greenfinch::test::Wire;

namespace {
struct Rig {
    explicit Rig(TestUpstream::Script script = {}, std::uint32_t serve_stale = 0, double budget = 1.0,
                 int upstream_slots = 1000)
        : up(script),
          cache({1000, serve_stale, 4}),
          channel(upstream::make_plain_upstream(
              hub, {.servers = {up.address()}, .attempt_timeout = std::chrono::milliseconds(300), .tries = 1})),
          resolver(cache, nullptr, *channel, options(budget, upstream_slots)) {}

    daemon::Resolver::Options options(double budget, int upstream_slots) {
        daemon::Resolver::Options o;
        o.upstream_timeout = core::Seconds(budget);
        o.max_upstream_inflight = upstream_slots;
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
    std::unique_ptr<upstream::Upstream> channel;
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
    auto o = rig.options(1.0, 1000);
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
    auto o = rig.options(0.2, 1000);
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
