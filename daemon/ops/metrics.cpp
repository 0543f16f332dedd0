#include "daemon/ops/metrics.hpp"

#include "dns/presentation.hpp"

#include <cstdio>
#include <string_view>

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

double number(std::uint64_t n) { return static_cast<double>(n); }

// A label value as the exposition format quotes it: backslash, double quote and line feed escaped.
std::string label(std::string_view name, std::string_view value) {
    std::string out = std::string(name) + "=\"";
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out + '"';
}
}  // namespace

std::string render_metrics(const std::vector<std::optional<WorkerStats>>& workers, const cache::CacheStats& memory,
                           const PolicyStatus& policy) {
    Writer w;
    const WorkerTotals totals = add_up(workers);
    const WorkerStats& s = totals.sum;
    w.single("greenfinch_workers", "gauge", "Worker threads, each with its own hub.", number(totals.workers));
    w.single("greenfinch_workers_unresponsive", "gauge", "Workers whose hub did not answer this scrape in time.",
             number(totals.workers - totals.answering));

    w.family("greenfinch_responses_total", "counter", "Answers sent, by transport and RCODE.");
    for (int t = 0; t < 2; ++t) {
        for (unsigned rcode = 0; rcode < 16; ++rcode) {
            const double n = number(s.resolver.responses[static_cast<std::size_t>(t)][rcode]);
            if (n == 0 && rcode != 0 && rcode != 2 && rcode != 3) continue;  // keep the common ones, even at 0
            w.sample(
                "greenfinch_responses_total", n,
                std::string("transport=\"") + (t == 0 ? "udp" : "tcp") + "\",rcode=\"" + dns::rcode_name(rcode) + "\"");
        }
    }
    w.single("greenfinch_queries_total", "counter", "Queries received, over every transport.",
             number(s.resolver.queries));
    w.single("greenfinch_queries_dropped_total", "counter",
             "Datagrams not worth an answer (too short for a header, or a response), dropped and counted.",
             number(s.resolver.dropped));
    w.single("greenfinch_queries_malformed_total", "counter", "Malformed queries, answered FORMERR.",
             number(s.resolver.formerr));
    w.single("greenfinch_udp_send_errors_total", "counter", "UDP answers the kernel refused.",
             number(s.udp.send_errors));
    w.single("greenfinch_tcp_connections_total", "counter", "TCP connections accepted.", number(s.tcp.connections));
    w.single("greenfinch_query_failures_total", "counter",
             "Queries answered SERVFAIL because something failed inside the daemon (each failure is logged).",
             number(s.udp.failed + s.tcp.failed));
    w.single("greenfinch_tcp_undelivered_total", "counter",
             "TCP queries whose answers never reached the client: it stopped reading or left first, or the daemon "
             "stopped.",
             number(s.tcp.undelivered));

    w.single("greenfinch_cache_hits_total", "counter", "Queries answered from the memory cache.",
             number(s.resolver.cache_hits));
    w.single("greenfinch_cache_misses_total", "counter", "Queries the memory cache could not answer fresh.",
             number(s.resolver.cache_misses));
    w.single("greenfinch_cache_stale_served_total", "counter",
             "Expired answers served (TTL 30) because the upstream failed (RFC 8767).",
             number(s.resolver.stale_served));
    w.single("greenfinch_cache_prefetches_total", "counter", "Background refreshes of popular entries near expiry.",
             number(s.resolver.prefetches));
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
             number(s.resolver.coalesced));
    w.single("greenfinch_coalesced_takeovers_total", "counter",
             "Queries that had joined one in flight whose leader was killed or timed out first, and asked again.",
             number(s.resolver.flights_taken_over));

    w.single("greenfinch_upstream_queries_total", "counter", "Queries sent upstream.",
             number(s.resolver.upstream_queries));
    w.single("greenfinch_upstream_failures_total", "counter",
             "Upstream queries that failed: every server refused, failed or was silent, or the answer was unusable.",
             number(s.resolver.upstream_failures));
    w.single("greenfinch_upstream_timeouts_total", "counter", "Upstream queries cut off by the upstream budget.",
             number(s.resolver.upstream_timeouts));
    w.single("greenfinch_servfail_total", "counter", "Queries answered SERVFAIL for want of any answer.",
             number(s.resolver.servfail));
    w.single("greenfinch_upstream_inflight", "gauge", "Queries waiting on the upstream now.",
             number(s.upstream_in_flight));
    w.family("greenfinch_upstream_latency_seconds", "histogram", "Time from sending a query upstream to its outcome.");
    double cumulative = 0;
    const auto& bounds = ResolverStats::kLatencyBounds;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += number(s.resolver.upstream_latency[i]);
        char le[32];
        if (i < bounds.size()) {
            std::snprintf(le, sizeof(le), "le=\"%g\"", bounds[i]);
        } else {
            std::snprintf(le, sizeof(le), "le=\"+Inf\"");
        }
        w.sample("greenfinch_upstream_latency_seconds_bucket", cumulative, le);
    }
    w.sample("greenfinch_upstream_latency_seconds_sum", s.resolver.upstream_latency_sum);
    w.sample("greenfinch_upstream_latency_seconds_count", cumulative);

    w.family("greenfinch_policy_answers_total", "counter",
             "Answers the policy gave or changed: local data, special names, blocked names, upstream answers blocked "
             "for their CNAME chain, upstream answers rebinding protection filtered.");
    w.sample("greenfinch_policy_answers_total", number(s.resolver.local_answers), label("source", "local"));
    w.sample("greenfinch_policy_answers_total", number(s.resolver.special_answers), label("source", "special"));
    w.sample("greenfinch_policy_answers_total", number(s.resolver.blocked_answers), label("source", "blocked"));
    w.sample("greenfinch_policy_answers_total", number(s.resolver.cname_blocked), label("source", "blocked_cname"));
    w.sample("greenfinch_policy_answers_total", number(s.resolver.rebind_filtered), label("source", "rebind_filtered"));
    w.single("greenfinch_rebind_records_removed_total", "counter",
             "Records rebinding protection removed from upstream answers.", number(s.resolver.rebind_records_removed));
    const auto by_zone = [&](const char* name, const char* help, std::uint64_t RouteStats::*field) {
        w.family(name, "counter", help);
        for (const auto& [zone, stats] : s.routes) w.sample(name, number(stats.*field), label("zone", zone));
    };
    by_zone("greenfinch_zone_upstream_queries_total", "Queries sent to a forward zone's servers (\".\": [upstream]).",
            &RouteStats::queries);
    by_zone("greenfinch_zone_upstream_failures_total", "Of those, the ones without a usable answer.",
            &RouteStats::failures);
    by_zone("greenfinch_zone_upstream_timeouts_total", "Resolutions through a zone's servers cut off by its budget.",
            &RouteStats::timeouts);

    w.family("greenfinch_policy_file_entries", "gauge",
             "Entries loaded from each list and hosts file: names of a list, address-name pairs of a hosts file.");
    for (const auto& f : policy.loaded.files) {
        w.sample("greenfinch_policy_file_entries", number(f.entries),
                 label("key", f.key) + "," + label("path", f.path));
    }
    w.family("greenfinch_policy_file_bad_lines", "gauge", "Lines of each list and hosts file skipped as unreadable.");
    for (const auto& f : policy.loaded.files) {
        w.sample("greenfinch_policy_file_bad_lines", number(f.bad.count),
                 label("key", f.key) + "," + label("path", f.path));
    }
    w.family("greenfinch_policy_file_load_seconds", "gauge", "Time reading, parsing and indexing each file took.");
    for (const auto& f : policy.loaded.files) {
        w.sample("greenfinch_policy_file_load_seconds", f.seconds, label("key", f.key) + "," + label("path", f.path));
    }
    w.single("greenfinch_policy_names", "gauge", "Names in the policy's index (zones, local names, listed names).",
             number(policy.loaded.names));
    w.single("greenfinch_policy_memory_bytes", "gauge", "Memory the policy's name index holds.",
             number(policy.loaded.memory_bytes));
    w.single("greenfinch_policy_loaded_timestamp_seconds", "gauge",
             "When the policy in force was loaded (Unix time): at start or by the last reload that succeeded.",
             policy.loaded_at);
    w.family("greenfinch_reloads_total", "counter", "Reloads (SIGHUP) by outcome.");
    w.sample("greenfinch_reloads_total", number(policy.reloads), label("outcome", "applied"));
    w.sample("greenfinch_reloads_total", number(policy.reloads_refused), label("outcome", "refused"));

    w.single("greenfinch_greenlets", "gauge", "Live greenlets over every hub: one per query in flight, plus services.",
             number(s.live_greenlets));

    if (s.redis_configured) {
        w.single("greenfinch_redis_up", "gauge", "Workers whose Redis connection is up (breaker closed).",
                 number(s.redis_up));
        w.single("greenfinch_redis_hits_total", "counter", "Memory misses answered from Redis.",
                 number(s.resolver.shared_cache_hits));
        w.single("greenfinch_redis_commands_total", "counter", "Commands sent to Redis.", number(s.redis.commands));
        w.single("greenfinch_redis_timeouts_total", "counter",
                 "Redis commands that got no reply within redis.timeout_ms.", number(s.redis.timeouts));
        w.single("greenfinch_redis_errors_total", "counter", "Redis error replies and failed connection attempts.",
                 number(s.redis.errors));
        w.single("greenfinch_redis_skipped_total", "counter", "Redis commands not sent because Redis was down.",
                 number(s.redis.skipped));
        w.single("greenfinch_redis_reconnects_total", "counter", "Redis connections made again after a loss.",
                 number(s.redis.reconnects));
        w.single("greenfinch_redis_foreign_values_total", "counter",
                 "Values under our prefix that were not ours or answered another question: ignored.",
                 number(s.redis_values.foreign));
    }
    return w.take();
}

}  // namespace greenfinch::daemon
