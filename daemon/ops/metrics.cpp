#include "daemon/ops/metrics.hpp"

#include "dns/presentation.hpp"

#include <cstdio>

namespace greenfinch::daemon {

namespace {
class Writer {
public:
    void family(const char* name, const char* type, const char* help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    void sample(const std::string& name, double value, const std::string& labels = "") {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.17g", value);
        out_ += name;
        if (!labels.empty()) out_ += "{" + labels + "}";
        out_ += ' ';
        out_ += buf;
        out_ += '\n';
    }
    void single(const char* name, const char* type, const char* help, double value) {
        family(name, type, help);
        sample(name, value);
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

template <class F>
double sum(const std::vector<std::optional<WorkerStats>>& workers, F field) {
    double total = 0;
    for (const auto& w : workers) {
        if (w) total += static_cast<double>(field(*w));
    }
    return total;
}
}  // namespace

std::string render_metrics(const std::vector<std::optional<WorkerStats>>& workers, const cache::CacheStats& memory) {
    Writer w;
    using S = const WorkerStats&;
    double unresponsive = 0;
    for (const auto& s : workers) unresponsive += s ? 0 : 1;
    w.single("greenfinch_workers", "gauge", "Worker threads, each with its own hub.", static_cast<double>(workers.size()));
    w.single("greenfinch_workers_unresponsive", "gauge", "Workers whose hub did not answer this scrape in time.",
             unresponsive);

    w.family("greenfinch_responses_total", "counter", "Answers sent, by transport and RCODE.");
    for (int t = 0; t < 2; ++t) {
        for (unsigned rcode = 0; rcode < 16; ++rcode) {
            const double n = sum(workers, [&](S s) { return s.resolver.responses[static_cast<std::size_t>(t)][rcode]; });
            if (n == 0 && rcode != 0 && rcode != 2 && rcode != 3) continue;  // keep the common ones, even at 0
            w.sample("greenfinch_responses_total", n,
                     std::string("transport=\"") + (t == 0 ? "udp" : "tcp") + "\",rcode=\"" + dns::rcode_name(rcode) + "\"");
        }
    }
    w.single("greenfinch_queries_total", "counter", "Queries received, over every transport.",
             sum(workers, [](S s) { return s.resolver.queries; }));
    w.single("greenfinch_queries_dropped_total", "counter",
             "Datagrams not worth an answer (too short for a header, or a response), dropped and counted.",
             sum(workers, [](S s) { return s.resolver.dropped; }));
    w.single("greenfinch_queries_malformed_total", "counter", "Malformed queries, answered FORMERR.",
             sum(workers, [](S s) { return s.resolver.formerr; }));
    w.single("greenfinch_udp_send_errors_total", "counter", "UDP answers the kernel refused.",
             sum(workers, [](S s) { return s.udp.send_errors; }));
    w.single("greenfinch_tcp_connections_total", "counter", "TCP connections accepted.",
             sum(workers, [](S s) { return s.tcp.connections; }));
    w.single("greenfinch_query_failures_total", "counter",
             "Queries answered SERVFAIL because something failed inside the daemon (each failure is logged).",
             sum(workers, [](S s) { return s.udp.failed + s.tcp.failed; }));
    w.single("greenfinch_tcp_undelivered_total", "counter",
             "TCP queries whose answers never reached the client: it stopped reading or left first, or the daemon "
             "stopped.",
             sum(workers, [](S s) { return s.tcp.undelivered; }));

    w.single("greenfinch_cache_hits_total", "counter", "Queries answered from the memory cache.",
             sum(workers, [](S s) { return s.resolver.cache_hits; }));
    w.single("greenfinch_cache_misses_total", "counter", "Queries the memory cache could not answer fresh.",
             sum(workers, [](S s) { return s.resolver.cache_misses; }));
    w.single("greenfinch_cache_stale_served_total", "counter",
             "Expired answers served (TTL 30) because the upstream failed (RFC 8767).",
             sum(workers, [](S s) { return s.resolver.stale_served; }));
    w.single("greenfinch_cache_prefetches_total", "counter", "Background refreshes of popular entries near expiry.",
             sum(workers, [](S s) { return s.resolver.prefetches; }));
    w.single("greenfinch_cache_evictions_total", "counter", "Memory cache entries evicted to make room.",
             static_cast<double>(memory.evictions));
    w.single("greenfinch_cache_expired_total", "counter", "Memory cache entries dropped past their serve-stale window.",
             static_cast<double>(memory.expired));
    w.single("greenfinch_cache_entries", "gauge", "Entries in the memory cache.", static_cast<double>(memory.size));
    w.single("greenfinch_cache_memory_bytes", "gauge",
             "Memory the memory cache holds for its entries, in 2 MiB chunks kept until exit (freed entries reuse "
             "it); one more chunk is kept ready.",
             static_cast<double>(memory.memory_bytes));
    w.single("greenfinch_coalesced_queries_total", "counter",
             "Queries that joined an identical query already in flight instead of asking again.",
             sum(workers, [](S s) { return s.resolver.coalesced; }));
    w.single("greenfinch_coalesced_takeovers_total", "counter",
             "Queries that had joined one in flight whose leader was killed or timed out first, and asked again.",
             sum(workers, [](S s) { return s.resolver.flights_taken_over; }));

    w.single("greenfinch_upstream_queries_total", "counter", "Queries sent upstream.",
             sum(workers, [](S s) { return s.resolver.upstream_queries; }));
    w.single("greenfinch_upstream_failures_total", "counter",
             "Upstream queries that failed: every server refused, failed or was silent, or the answer was unusable.",
             sum(workers, [](S s) { return s.resolver.upstream_failures; }));
    w.single("greenfinch_upstream_timeouts_total", "counter", "Upstream queries cut off by the upstream budget.",
             sum(workers, [](S s) { return s.resolver.upstream_timeouts; }));
    w.single("greenfinch_servfail_total", "counter", "Queries answered SERVFAIL for want of any answer.",
             sum(workers, [](S s) { return s.resolver.servfail; }));
    w.single("greenfinch_upstream_inflight", "gauge", "Queries waiting on the upstream now.",
             sum(workers, [](S s) { return s.upstream_in_flight; }));
    w.family("greenfinch_upstream_latency_seconds", "histogram", "Time from sending a query upstream to its outcome.");
    double cumulative = 0;
    const auto& bounds = Resolver::Stats::kLatencyBounds;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += sum(workers, [i](S s) { return s.resolver.upstream_latency[i]; });
        char le[32];
        if (i < bounds.size()) {
            std::snprintf(le, sizeof(le), "le=\"%g\"", bounds[i]);
        } else {
            std::snprintf(le, sizeof(le), "le=\"+Inf\"");
        }
        w.sample("greenfinch_upstream_latency_seconds_bucket", cumulative, le);
    }
    w.sample("greenfinch_upstream_latency_seconds_sum", sum(workers, [](S s) { return s.resolver.upstream_latency_sum; }));
    w.sample("greenfinch_upstream_latency_seconds_count", cumulative);

    w.single("greenfinch_greenlets", "gauge", "Live greenlets over every hub: one per query in flight, plus services.",
             sum(workers, [](S s) { return s.live_greenlets; }));

    bool redis = false;
    for (const auto& s : workers) redis = redis || (s && s->redis_configured);
    if (redis) {
        w.single("greenfinch_redis_up", "gauge", "Workers whose Redis connection is up (breaker closed).",
                 sum(workers, [](S s) { return s.redis_up ? 1 : 0; }));
        w.single("greenfinch_redis_hits_total", "counter", "Memory misses answered from Redis.",
                 sum(workers, [](S s) { return s.resolver.shared_cache_hits; }));
        w.single("greenfinch_redis_commands_total", "counter", "Commands sent to Redis.",
                 sum(workers, [](S s) { return s.redis.commands; }));
        w.single("greenfinch_redis_timeouts_total", "counter", "Redis commands that got no reply within redis.timeout_ms.",
                 sum(workers, [](S s) { return s.redis.timeouts; }));
        w.single("greenfinch_redis_errors_total", "counter", "Redis error replies and failed connection attempts.",
                 sum(workers, [](S s) { return s.redis.errors; }));
        w.single("greenfinch_redis_skipped_total", "counter", "Redis commands not sent because Redis was down.",
                 sum(workers, [](S s) { return s.redis.skipped; }));
        w.single("greenfinch_redis_reconnects_total", "counter", "Redis connections made again after a loss.",
                 sum(workers, [](S s) { return s.redis.reconnects; }));
        w.single("greenfinch_redis_foreign_values_total", "counter",
                 "Values under our prefix that were not ours or answered another question: ignored.",
                 sum(workers, [](S s) { return s.redis_values.foreign; }));
    }
    return w.take();
}

}  // namespace greenfinch::daemon
