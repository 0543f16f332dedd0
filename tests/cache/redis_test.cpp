// The Redis backend against a real redis-server: the format, sharing, expiry, and what a dead or slow Redis costs.
#include "cache/redis_cache.hpp"
#include "cache/redis_client.hpp"
#include "cache/redis_format.hpp"
#include "core/engine/greenlet.hpp"
#include "core/engine/hub.hpp"
#include "tests/cache/fixtures.hpp"
#include "tests/support/redis_server.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace greenfinch;
using test::answer_for;
using test::key_for;

namespace {
// A RedisCache on the test's hub, with clocks the test moves: monotonic 1000 s is unix 1'700'000'000 s.
struct Node {
    Node(const std::string& address, std::uint32_t serve_stale = 0, std::string password = "", int db = 0)
        : client(core::Hub::current(),
                 {*cache::parse_redis_address(address), std::move(password), db, core::Seconds(0.05)}),
          cache(client, {"test:v1:", serve_stale, [this] { return mono; }, [this] { return mono + kOffset; }}) {
        REQUIRE(client.wait_up(core::Seconds(5.0)));
    }
    static constexpr double kOffset = 1'699'999'000.0;
    double mono = 1000.0;
    cache::RedisClient client;
    cache::RedisCache cache;
};

double elapsed_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

TEST_CASE("redis format: a readable key per question, a value that round-trips and refuses what is not ours") {
    CHECK(cache::redis_key("gf:v1:", key_for("WWW.Example.com")) == "gf:v1:www.example.com.:A:IN:do0cd0");
    CHECK(cache::redis_key("gf:v1:", key_for("example.com", dns::type::AAAA)) == "gf:v1:example.com.:AAAA:IN:do0cd0");
    const auto a = answer_for("a.example", 10.0, 300);
    const std::string v = cache::encode_redis_value(*a, 1'700'000'000.5);
    auto back = cache::decode_redis_value(v, key_for("A.example"));
    REQUIRE(back);
    CHECK(back->ttl == 300);
    CHECK(back->stored_at_unix == Approx(1'700'000'000.5));
    CHECK(std::ranges::equal(back->wire, a->wire));
    CHECK_FALSE(cache::decode_redis_value(v, key_for("b.example")));  // another question
    CHECK_FALSE(cache::decode_redis_value(v, key_for("a.example", dns::type::AAAA)));
    for (std::size_t n = 0; n < v.size(); ++n)
        CHECK_FALSE(cache::decode_redis_value(v.substr(0, n), key_for("a.example")));
    CHECK_FALSE(cache::decode_redis_value("GF2" + v.substr(3), key_for("a.example")));
    CHECK_FALSE(cache::decode_redis_value("hello world, not an answer", key_for("a.example")));
}

TEST_CASE("redis: what one daemon stores another reads, TTL aged, and every key expires after TTL + serve-stale") {
    core::Hub hub;
    test::RedisServer redis;
    Node one(redis.address(), 60), two(redis.address(), 60);
    const auto k = key_for("shared.example");
    one.cache.store(k, answer_for("shared.example", 990.0, 300));  // stored 10 s ago
    REQUIRE(one.client.command({"PING"}));                         // the SET went before this on the same connection
    const auto ttl = redis.command({"TTL", "test:v1:shared.example.:A:IN:do0cd0"});
    CHECK(ttl.integer >= 349);  // 300 - 10 + 60
    CHECK(ttl.integer <= 350);
    two.mono = 1030.0;  // 40 s after it was stored
    auto hit = two.cache.lookup(k, two.mono);
    REQUIRE(hit);
    CHECK(hit->freshness == cache::Freshness::Fresh);
    CHECK(hit->age == 40);
    two.mono = 1300.0;  // past the TTL, inside the stale window
    hit = two.cache.lookup(k, two.mono);
    REQUIRE(hit);
    CHECK(hit->freshness == cache::Freshness::Stale);
    CHECK_FALSE(two.cache.lookup(key_for("other.example"), two.mono));
}

TEST_CASE("redis: a foreign or corrupted value under our prefix is ignored, not served") {
    core::Hub hub;
    test::RedisServer redis;
    Node node(redis.address());
    redis.command({"SET", "test:v1:a.example.:A:IN:do0cd0", "not an answer"});
    const auto other = cache::encode_redis_value(*answer_for("b.example", 1000.0, 300), Node::kOffset + 1000.0);
    redis.command({"SET", "test:v1:c.example.:A:IN:do0cd0", other});  // the answer to another question
    CHECK_FALSE(node.cache.lookup(key_for("a.example"), node.mono));
    CHECK_FALSE(node.cache.lookup(key_for("c.example"), node.mono));
    CHECK(node.cache.extra().foreign == 2);
}

TEST_CASE("redis: killed, lookups fail fast and writes are skipped, and restarted, it reconnects and writes resume") {
    core::Hub hub;
    test::RedisServer redis;
    Node node(redis.address());
    redis.kill();
    // The first lookup after the kill meets the closed connection: it fails at once and opens the breaker.
    auto t = std::chrono::steady_clock::now();
    CHECK_FALSE(node.cache.lookup(key_for("a.example"), node.mono));
    CHECK(elapsed_since(t) < 0.06);
    CHECK_FALSE(node.client.up());
    t = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) CHECK_FALSE(node.cache.lookup(key_for("a.example"), node.mono));
    CHECK(elapsed_since(t) < 0.05);  // the breaker is open: no query waits on a dead Redis
    node.cache.store(key_for("lost.example"), answer_for("lost.example", 1000.0, 300));
    CHECK(node.client.stats().skipped >= 101);

    redis.start();
    REQUIRE(node.client.wait_up(core::Seconds(10.0)));
    CHECK(node.client.stats().reconnects == 1);
    node.cache.store(key_for("back.example"), answer_for("back.example", 1000.0, 300));
    REQUIRE(node.client.command({"PING"}));
    CHECK(redis.command({"EXISTS", "test:v1:back.example.:A:IN:do0cd0"}).integer == 1);
    CHECK(redis.command({"EXISTS", "test:v1:lost.example.:A:IN:do0cd0"}).integer == 0);
}

TEST_CASE("redis: paused, each lookup waits at most the timeout, then the breaker opens until Redis answers again") {
    core::Hub hub;
    test::RedisServer redis;
    Node node(redis.address());
    REQUIRE(redis.command({"CLIENT", "PAUSE", "700", "ALL"}).ok);
    for (int i = 0; i < 3; ++i) {
        const auto t = std::chrono::steady_clock::now();
        CHECK_FALSE(node.cache.lookup(key_for("a.example"), node.mono));
        const double took = elapsed_since(t);
        CHECK(took >= 0.04);
        CHECK(took < 0.3);
    }
    CHECK_FALSE(node.client.up());  // three timeouts in a row
    const auto t = std::chrono::steady_clock::now();
    CHECK_FALSE(node.cache.lookup(key_for("a.example"), node.mono));
    CHECK(elapsed_since(t) < 0.01);
    REQUIRE(node.client.wait_up(core::Seconds(10.0)));  // the pause ends, a PING gets through
    node.cache.store(key_for("a.example"), answer_for("a.example", 1000.0, 300));
    REQUIRE(node.cache.lookup(key_for("a.example"), node.mono));
}

TEST_CASE("redis: password, db number and unix socket") {
    core::Hub hub;
    test::RedisServer redis("s3cret");
    Node node(redis.unix_address(), 0, "s3cret", 3);
    node.cache.store(key_for("a.example"), answer_for("a.example", 1000.0, 300));
    REQUIRE(node.cache.lookup(key_for("a.example"), node.mono));
    CHECK(redis.command({"EXISTS", "test:v1:a.example.:A:IN:do0cd0"}, 3).integer == 1);
    CHECK(redis.command({"EXISTS", "test:v1:a.example.:A:IN:do0cd0"}, 0).integer == 0);

    cache::RedisClient wrong(hub, {*cache::parse_redis_address(redis.address()), "wrong", 0, core::Seconds(0.05)});
    CHECK_FALSE(wrong.wait_up(core::Seconds(0.3)));
}

TEST_CASE("redis: clear() removes every key under the prefix and nothing else") {
    core::Hub hub;
    test::RedisServer redis;
    Node node(redis.address());
    for (int i = 0; i < 50; ++i) {
        const std::string name = "n" + std::to_string(i) + ".example";
        node.cache.store(key_for(name), answer_for(name, 1000.0, 300));
    }
    redis.command({"SET", "someone-else:key", "x"});
    REQUIRE(node.client.command({"PING"}));
    CHECK(redis.command({"DBSIZE"}).integer == 51);
    node.cache.clear();
    REQUIRE(node.client.command({"PING"}));
    CHECK(redis.command({"DBSIZE"}).integer == 1);
}

TEST_CASE("redis addresses: IP:PORT, [IPv6]:PORT, localhost, unix sockets, and host names refused") {
    CHECK(cache::parse_redis_address("127.0.0.1:6380")->to_string() == "127.0.0.1:6380");
    CHECK(cache::parse_redis_address("[::1]:6379")->to_string() == "[::1]:6379");
    CHECK(cache::parse_redis_address("localhost:7000")->to_string() == "127.0.0.1:7000");
    CHECK(cache::parse_redis_address("10.0.0.1")->port == 6379);
    CHECK(cache::parse_redis_address("unix:/run/redis/redis.sock")->path == "/run/redis/redis.sock");
    CHECK_FALSE(cache::parse_redis_address("unix:relative.sock"));
    const auto named = cache::parse_redis_address("redis.example.com:6380");
    REQUIRE(named);
    CHECK(named->resolve);
    CHECK(named->to_string() == "redis.example.com:6380");
    CHECK(cache::parse_redis_address("my_redis")->port == 6379);  // a container's name may have an underscore
    CHECK_FALSE(cache::parse_redis_address("10.0.0.1")->resolve);
    CHECK_FALSE(cache::parse_redis_address("localhost")->resolve);
    CHECK(cache::parse_redis_address("redis.example.com.:6379"));  // fully qualified
    for (const char* bad :
         {"redis:", "redis:0", "redis:65536", "redis:6379x", "bad name:1", "a..b:1", ".a:1", "a.b..:1", "",
          "r\xc3\xa9"
          "dis:1"}) {
        INFO(bad);
        CHECK_FALSE(cache::parse_redis_address(bad));
    }
}
