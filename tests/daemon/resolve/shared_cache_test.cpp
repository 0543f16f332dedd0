// Two tiers, memory in front of a real Redis: what a fleet of daemons sharing one Redis gets, in process (several
// Resolvers on one hub stand for several daemons).
#include "cache/memory_cache.hpp"
#include "cache/redis_cache.hpp"
#include "core/engine/greenlet.hpp"
#include "core/io/udp_socket.hpp"
#include "daemon/resolve/resolver.hpp"
#include "dns/header.hpp"
#include "dns/presentation.hpp"
#include "policy/policy_loader.hpp"
#include "tests/daemon/resolve/resolve_helpers.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/test_upstream.hpp"
#include "upstream/plain.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>

using namespace greenfinch;
using namespace std::chrono_literals;
using test::TestUpstream;

namespace {
// One daemon's worth: its own memory cache, Redis connection and upstream channel, on the shared clock.
struct Daemon {
    Daemon(const std::string& redis, const TestUpstream& up, double& clock, double redis_timeout = 0.05,
           double budget = 1.0, policy::PolicySnapshot policy = test::forward_all())
        : memory({1000, 0, 4}),
          client(core::Hub::current(), {*cache::parse_redis_address(redis), "", 0, core::Seconds(redis_timeout)}),
          shared(client, {"test:v1:", 0, [&clock] { return clock; }, [&clock] { return clock + 1'699'999'000.0; }}),
          resolver(memory, &shared, routes(up, budget, policy->zone_count()), policy, options(clock)) {
        REQUIRE(client.wait_up(core::Seconds(5.0)));
    }
    // A route per zone of the policy, all to `up`.
    static daemon::UpstreamRoutes routes(const TestUpstream& up, double budget, std::size_t zones) {
        daemon::UpstreamRoutes out;
        for (std::size_t z = 0; z < std::max<std::size_t>(zones, 1); ++z) {
            auto one = test::one_route(
                upstream::make_plain_upstream(
                    core::Hub::current(),
                    {.servers = {up.address()}, .attempt_timeout = std::chrono::milliseconds(300), .tries = 1}),
                budget);
            out.push_back(std::move(one.front()));
        }
        return out;
    }
    static daemon::Resolver::Options options(double& clock) {
        daemon::Resolver::Options o;
        o.clock = [&clock] { return clock; };
        return o;
    }
    cache::MemoryCache memory;
    cache::RedisClient client;
    cache::RedisCache shared;
    daemon::Resolver resolver;
};
}  // namespace

TEST_CASE(
    "shared cache: a burst for a new name costs one Redis read and one upstream query, and another daemon "
    "then answers it from Redis with its TTL aged") {
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    up.script("burst.example", {TestUpstream::Action::Answer, 0.05, 300});
    double clock = 1000.0;
    Daemon one(redis.address(), up, clock);
    std::vector<core::Ref<core::Greenlet>> gs;
    int answered = 0;
    for (int i = 0; i < 30; ++i) {
        gs.push_back(core::spawn([&] { answered += test::resolve(one.resolver, "burst.example").m.header.ancount; }));
    }
    core::joinall(gs);
    CHECK(answered == 30);
    CHECK(up.count("burst.example") == 1);
    CHECK(one.client.stats().commands == 2);  // one GET (a miss), one SET
    REQUIRE(one.client.command({"PING"}));

    clock += 100;
    Daemon two(redis.address(), up, clock);  // cold: an empty memory cache
    const auto a = test::resolve(two.resolver, "BURST.example", 7);
    CHECK(a.m.header.id == 7);
    CHECK(a.m.header.ancount == 1);
    CHECK(a.first_ttl() == 200);
    CHECK(up.count("burst.example") == 1);  // no upstream query: Redis had it
    CHECK(two.resolver.stats().shared_cache_hits == 1);
    test::resolve(two.resolver, "burst.example");  // now from its memory: Redis is not asked again
    CHECK(two.client.stats().commands == 1);
}

TEST_CASE("shared cache: with Redis dead the resolver answers from memory and upstream, no slower than the timeout") {
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    double clock = 1000.0;
    Daemon d(redis.address(), up, clock);
    test::resolve(d.resolver, "cached.example");
    redis.kill();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        CHECK(test::resolve(d.resolver, "new" + std::to_string(i) + ".example").m.header.ancount == 1);
        CHECK(test::resolve(d.resolver, "cached.example").m.header.ancount == 1);
    }
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.5);
    CHECK(up.count("cached.example") == 1);
}

TEST_CASE("shared cache: a slow Redis and a dead upstream still get the client SERVFAIL within the upstream budget") {
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    up.script("dead.example", {TestUpstream::Action::Drop});
    double clock = 1000.0;
    Daemon d(redis.address(), up, clock, 0.3, 0.4);  // Redis may take 0.3 s of the 0.4 s budget
    REQUIRE(redis.command({"CLIENT", "PAUSE", "1000", "ALL"}).ok);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = test::resolve(d.resolver, "dead.example");
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.m.header.rcode() == dns::Rcode::ServFail);
    CHECK(took >= 0.39);
    CHECK(took < 0.55);                    // not the Redis wait and then a whole budget more (0.7 s)
    CHECK(up.count("dead.example") == 1);  // the upstream was still asked, with what was left
    CHECK(d.resolver.stats().upstream_timeouts == 1);
}

TEST_CASE("shared cache: Redis keeps answers as the upstream gave them, and each daemon screens them by its policy") {
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    up.script("nas.example", {TestUpstream::Action::Answer, 0, 300, {10, 0, 0, 5}});
    double clock = 1000.0;
    Daemon open(redis.address(), up, clock);
    CHECK(test::resolve(open.resolver, "nas.example").m.header.ancount == 1);
    REQUIRE(open.client.command({"PING"}));  // the SET went before it
    Daemon guarded(redis.address(), up, clock, 0.05, 1.0,
                   policy::load_policy({.rebind_protection = policy::RebindProtection::on}).policy);
    const auto a = test::resolve(guarded.resolver, "nas.example");
    CHECK(a.m.header.rcode() == dns::Rcode::NoError);
    CHECK(a.m.header.ancount == 0);  // 10.0.0.5 taken out on the way from Redis
    CHECK(guarded.resolver.stats().shared_cache_hits == 1);
    CHECK(guarded.resolver.stats().rebind_filtered == 1);
    CHECK(up.count("nas.example") == 1);
    // And the guarded daemon's own upstream answers reach Redis whole.
    up.script("nas2.example", {TestUpstream::Action::Answer, 0, 300, {10, 0, 0, 6}});
    CHECK(test::resolve(guarded.resolver, "nas2.example").m.header.ancount == 0);
    REQUIRE(guarded.client.command({"PING"}));
    Daemon other(redis.address(), up, clock);
    CHECK(test::resolve(other.resolver, "nas2.example").m.header.ancount == 1);
    CHECK(up.count("nas2.example") == 1);
}

TEST_CASE("shared cache: a forward zone's answers stay out of Redis") {
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    double clock = 1000.0;
    Daemon corp(redis.address(), up, clock, 0.05, 1.0, policy::load_policy({.forward_zones = {"corp.example"}}).policy);
    test::resolve(corp.resolver, "www.corp.example");
    test::resolve(corp.resolver, "www.example");
    CHECK(corp.client.stats().commands == 2);  // www.example's GET and SET; nothing for the zone's name
    REQUIRE(corp.client.command({"PING"}));
    Daemon other(redis.address(), up, clock);
    test::resolve(other.resolver, "www.corp.example");
    CHECK(up.count("www.corp.example") == 2);
    test::resolve(other.resolver, "www.example");
    CHECK(up.count("www.example") == 1);
}
