// The admin endpoint's pieces that need no daemon: query-string decoding and the Prometheus text.
#include "daemon/admin_server.hpp"
#include "daemon/metrics.hpp"

#include <catch2/catch.hpp>

using namespace greenfinch;

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
    cache::CacheStats memory;
    memory.size = 9;
    const std::string text = daemon::render_metrics({a, std::nullopt, b}, memory);
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
    CHECK(text.find("# TYPE greenfinch_upstream_latency_seconds histogram\n") != std::string::npos);
    CHECK(text.find("greenfinch_redis_up") == std::string::npos);  // no Redis configured: no Redis series
}
