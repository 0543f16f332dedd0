#include "daemon/ops/config.hpp"
#include "tests/support/temp_file.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace greenfinch::daemon;
namespace test = greenfinch::test;
namespace core = greenfinch::core;

namespace {
std::string error_of(const std::string& content) {
    test::TempFile f(content);
    try {
        load_config(f.path());
    } catch (const ConfigError& e) {
        return std::string(e.what()).substr(f.path().size());
    }
    return "no error";
}
}  // namespace

TEST_CASE("the shipped conf/greenfinch.toml loads and equals the built-in defaults") {
    const Config c = load_config(GREENFINCH_SOURCE_DIR "/conf/greenfinch.toml");
    const Config d;
    CHECK(c.server.listen == d.server.listen);
    CHECK(c.server.max_inflight == d.server.max_inflight);
    CHECK(c.server.workers == d.server.workers);
    CHECK(c.server.max_tcp_connections == d.server.max_tcp_connections);
    CHECK(c.server.tcp_idle_timeout_ms == d.server.tcp_idle_timeout_ms);
    CHECK(c.upstream.servers == d.upstream.servers);
    CHECK(c.upstream.timeout_ms == d.upstream.timeout_ms);
    CHECK(c.upstream.max_inflight == d.upstream.max_inflight);
    CHECK(c.cache.max_entries == d.cache.max_entries);
    CHECK(c.cache.min_ttl == d.cache.min_ttl);
    CHECK(c.cache.max_ttl == d.cache.max_ttl);
    CHECK(c.cache.negative_ttl_max == d.cache.negative_ttl_max);
    CHECK(c.cache.servfail_ttl == d.cache.servfail_ttl);
    CHECK(c.cache.serve_stale == d.cache.serve_stale);
    CHECK(c.cache.stale_client_timeout_ms == d.cache.stale_client_timeout_ms);
    CHECK(c.cache.prefetch == d.cache.prefetch);
    CHECK(c.cache.backend == d.cache.backend);
    CHECK(c.redis.address == d.redis.address);
    CHECK(c.redis.password == d.redis.password);
    CHECK(c.redis.db == d.redis.db);
    CHECK(c.redis.prefix == d.redis.prefix);
    CHECK(c.redis.timeout_ms == d.redis.timeout_ms);
    CHECK(c.log.level == d.log.level);
    CHECK(c.log.queries == d.log.queries);
}

TEST_CASE("upstream and cache sections are read and checked") {
    test::TempFile f("[upstream]\nservers = [\"192.0.2.1\", \"[2001:db8::1]:5353\"]\ntimeout_ms = 500\n"
               "[cache]\nserve_stale = 3600\nstale_client_timeout_ms = 400\nprefetch = false\n");
    const Config c = load_config(f.path());
    CHECK(c.upstream.servers.size() == 2);
    CHECK(c.upstream.timeout_ms == 500);
    CHECK(c.cache.serve_stale == 3600);
    CHECK(c.cache.stale_client_timeout_ms == 400);
    CHECK_FALSE(c.cache.prefetch);
    CHECK(error_of("[cache]\nprefetch = 1\n") == ":2: cache.prefetch: expected true or false");
    CHECK(error_of("[upstream]\nservers = [\"resolver.example\"]\n").find("upstream.servers") != std::string::npos);
    CHECK(error_of("[cache]\nmin_ttl = 100\nmax_ttl = 10\n").find("cache.min_ttl") != std::string::npos);
}

TEST_CASE("the redis section and the cache backend are read and checked") {
    test::TempFile f("[cache]\nbackend = \"redis\"\n[redis]\naddress = \"unix:/run/redis/redis.sock\"\npassword = \"pw\"\n"
               "db = 2\nprefix = \"dns:v2:\"\ntimeout_ms = 20\n[log]\nqueries = true\n");
    const Config c = load_config(f.path());
    CHECK(c.cache.backend == "redis");
    CHECK(c.redis.address == "unix:/run/redis/redis.sock");
    CHECK(c.redis.password == "pw");
    CHECK(c.redis.db == 2);
    CHECK(c.redis.prefix == "dns:v2:");
    CHECK(c.redis.timeout_ms == 20);
    CHECK(c.log.queries);
    CHECK(error_of("[cache]\nbackend = \"memcached\"\n").find("cache.backend: \"memcached\" is not memory or redis") !=
          std::string::npos);
    CHECK(error_of("[redis]\naddress = \"redis.example:6379\"\n") == "no error");  // a host name, looked up when connecting
    CHECK(error_of("[redis]\naddress = \"redis example:6379\"\n").find("redis.address") != std::string::npos);
    CHECK(error_of("[redis]\ntimeout_ms = 0\n").find("redis.timeout_ms") != std::string::npos);
    CHECK(error_of("[redis]\nprefix = \"\"\n").find("redis.prefix") != std::string::npos);
    CHECK(error_of("[redis]\nhost = \"x\"\n") == ":2: redis.host: unknown key");
}

TEST_CASE("resolv.conf nameservers become upstreams on port 53") {
    test::TempFile f("# comment\nsearch example\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:1\n");
    CHECK(resolv_conf_nameservers(f.path()) == std::vector<std::string>{"192.0.2.53:53", "[2001:db8::53]:53"});
    CHECK(resolv_conf_nameservers("/nonexistent/resolv.conf").empty());
}

TEST_CASE("a config file overrides the defaults it names") {
    test::TempFile f("[server]\nlisten = [\"127.0.0.1:53\"]\nmax_inflight = 5\n[log]\nlevel = \"debug\"\n");
    const Config c = load_config(f.path());
    CHECK(c.server.listen == std::vector<std::string>{"127.0.0.1:53"});
    CHECK(c.server.max_inflight == 5);
    CHECK(c.server.max_tcp_connections == Config{}.server.max_tcp_connections);
    CHECK(c.log.level == "debug");
}

TEST_CASE("config errors name the line and the key") {
    CHECK(error_of("[server]\n\nmax_inflite = 5\n") == ":3: server.max_inflite: unknown key");
    CHECK(error_of("[sever]\n") == ":1: sever: unknown key");
    CHECK(error_of("[server]\nmax_inflight = \"many\"\n") ==
          ":2: server.max_inflight: expected a whole number from 0 to 1000000000");
    CHECK(error_of("[server]\nlisten = \"127.0.0.1:53\"\n") == ":2: server.listen: expected an array of strings");
    CHECK(error_of("[server]\nlisten = [\"localhost:53\"]\n").find("server.listen: \"localhost:53\" is not ADDR:PORT") !=
          std::string::npos);
    CHECK(error_of("[log]\nlevel = \"loud\"\n") ==
          ":2: log.level: \"loud\" is not one of trace, debug, info, warn, error, critical, off");
    CHECK(error_of("[cache]\nmin_ttl = 100\n\nmax_ttl = 10\n") == ":2: cache.min_ttl: must not exceed cache.max_ttl");
    CHECK(error_of("[server]\nworkers = 0\n") == ":2: server.workers: must be 1 to 256");
    CHECK(error_of("[upstream]\n\nservers = [\"resolver.example\"]\n").rfind(":3: upstream.servers: ", 0) == 0);
    CHECK(error_of("[server\n").rfind(":1: ", 0) == 0);  // a TOML syntax error, with its line
}

TEST_CASE("listening on a wildcard address, an upstream on one of the host's own addresses is refused") {
    const std::vector<core::SocketAddress> own{*core::SocketAddress::parse("192.0.2.10:0")};
    CHECK_THROWS_AS(check_not_forwarding_to_self({"0.0.0.0:53"}, {"192.0.2.10"}, own), ConfigError);
    CHECK_THROWS_AS(check_not_forwarding_to_self({"[::]:53"}, {"192.0.2.10:53"}, own), ConfigError);
    CHECK_NOTHROW(check_not_forwarding_to_self({"0.0.0.0:53"}, {"192.0.2.10:5353"}, own));  // another port
    CHECK_NOTHROW(check_not_forwarding_to_self({"127.0.0.1:53"}, {"192.0.2.10"}, own));   // not listening there
    CHECK_NOTHROW(check_not_forwarding_to_self({"0.0.0.0:53"}, {"192.0.2.11"}, own));     // another host
    const auto host = host_addresses();
    CHECK(std::find(host.begin(), host.end(), *core::SocketAddress::parse("127.0.0.1:0")) != host.end());
}
