// The admin endpoint's pieces that need no daemon: query-string decoding, the Prometheus text, and the server's
// handling of slow clients.
#include "core/engine/greenlet.hpp"
#include "daemon/ops/admin_server.hpp"
#include "daemon/ops/metrics.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace greenfinch;
using namespace std::chrono_literals;

TEST_CASE("admin: a client trickling its request is cut off when the request's time is up, not a read's") {
    core::Hub hub;
    int scraped = 0;
    daemon::AdminServer server(core::TcpListener::bind(core::SocketAddress::loopback_v4()),
                               {[&scraped] {
                                    ++scraped;
                                    return std::string("up 1\n");
                                },
                                [](const std::optional<std::string>&) { return std::string(); }},
                               core::Seconds(0.3));
    server.start();
    auto conn = core::TcpStream::connect(server.local_address(), 2s);
    // A byte every 40 ms: every read is quick, the whole request takes a second, past the 0.3 s allowed.
    const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
    for (const char c : request) {
        try {
            conn.write_all(std::as_bytes(std::span(&c, 1)), 1s);
        } catch (const std::system_error&) {
            break;  // already closed on us
        }
        core::sleep(40ms);
    }
    std::array<std::byte, 512> reply{};
    std::size_t n = 0;
    try {
        n = conn.read_some(reply, 2s);
    } catch (const std::system_error&) {}
    CHECK(n == 0);
    CHECK(scraped == 0);
    // A request sent at once is served.
    auto quick = core::TcpStream::connect(server.local_address(), 2s);
    quick.write_all(std::as_bytes(std::span(request)), 1s);
    n = quick.read_some(reply, 2s);
    CHECK(std::string(reinterpret_cast<const char*>(reply.data()), n).rfind("HTTP/1.1 200", 0) == 0);
    CHECK(scraped == 1);
}

TEST_CASE("admin: query-string values are decoded, malformed escapes refused") {
    CHECK(daemon::url_decode("www.example.com") == "www.example.com");
    CHECK(daemon::url_decode("a%2Eb%2ec") == "a.b.c");
    CHECK(daemon::url_decode("a+b") == "a b");
    CHECK_FALSE(daemon::url_decode("a%2"));
    CHECK_FALSE(daemon::url_decode("a%"));
    CHECK_FALSE(daemon::url_decode("a%zz"));
}

TEST_CASE("metrics: counters summed over the workers that answered, the missing ones counted, buckets cumulative") {
    daemon::WorkerStats a, b;
    a.resolver.queries = 5;
    b.resolver.queries = 7;
    a.resolver.responses[0][0] = 4;
    b.resolver.responses[1][3] = 2;
    a.resolver.upstream_latency[0] = 1;  // <= 1 ms
    b.resolver.upstream_latency[3] = 2;  // <= 10 ms
    a.resolver.upstream_latency_sum = 0.0005;
    b.resolver.upstream_latency_sum = 0.016;
    a.routes = {{".", {.queries = 3, .failures = 1, .timeouts = 0}}, {"corp.example.", {.queries = 2}}};
    b.routes = {{".", {.queries = 4, .failures = 0, .timeouts = 1}}};
    a.resolver.blocked_answers = 6;
    cache::CacheStats memory;
    memory.size = 9;
    memory.memory_bytes = 4 << 20;
    policy::LoadedPolicy loaded{.policy = std::make_shared<const policy::Policy>(), .names = 1000};
    loaded.files.push_back({.key = "block.lists", .path = "/etc/ads \"x\".txt", .entries = 998, .seconds = 0.25});
    const std::string text = daemon::render_metrics(
        {a, std::nullopt, b}, memory, {.loaded = loaded, .loaded_at = 1.7e9, .reloads = 2, .reloads_refused = 1});
    CHECK(text.find("\ngreenfinch_queries_total 12\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_workers 3\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_workers_unresponsive 1\n") != std::string::npos);
    CHECK(text.find("greenfinch_responses_total{transport=\"udp\",rcode=\"NOERROR\"} 4\n") != std::string::npos);
    CHECK(text.find("greenfinch_responses_total{transport=\"tcp\",rcode=\"NXDOMAIN\"} 2\n") != std::string::npos);
    CHECK(text.find("greenfinch_upstream_latency_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos);
    CHECK(text.find("greenfinch_upstream_latency_seconds_bucket{le=\"0.005\"} 1\n") != std::string::npos);
    CHECK(text.find("greenfinch_upstream_latency_seconds_bucket{le=\"0.01\"} 3\n") != std::string::npos);
    CHECK(text.find("greenfinch_upstream_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_upstream_latency_seconds_count 3\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_cache_entries 9\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_cache_memory_bytes 4194304\n") != std::string::npos);
    CHECK(text.find("# TYPE greenfinch_upstream_latency_seconds histogram\n") != std::string::npos);
    CHECK(text.find("greenfinch_redis_up") == std::string::npos);  // no Redis configured: no Redis series
    // Per forward zone, summed by zone over the workers.
    CHECK(text.find("\ngreenfinch_zone_upstream_queries_total{zone=\".\"} 7\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_zone_upstream_queries_total{zone=\"corp.example.\"} 2\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_zone_upstream_timeouts_total{zone=\".\"} 1\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_policy_answers_total{source=\"blocked\"} 6\n") != std::string::npos);
    // The policy's files, their paths quoted as the exposition format wants.
    CHECK(text.find("\ngreenfinch_policy_file_entries{key=\"block.lists\",path=\"/etc/ads \\\"x\\\".txt\"} 998\n") !=
          std::string::npos);
    CHECK(text.find("\ngreenfinch_policy_names 1000\n") != std::string::npos);
    CHECK(text.find("\ngreenfinch_reloads_total{outcome=\"refused\"} 1\n") != std::string::npos);
}
