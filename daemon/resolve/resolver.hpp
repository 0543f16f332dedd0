// Resolver: the path of one query, from the client's bytes to the bytes of its answer (DESIGN.md, "One query").
//
//   parse (malformed: FORMERR, or dropped) -> key -> cache
//     fresh hit: answered from cache, TTLs aged; in the last 10% of its TTL the first hit also refreshes it in a
//       background greenlet (prefetch)
//     miss or stale: fetch, coalesced: the first asker for a key leads, the others wait on its AsyncResult under
//       their own Timeout; the leader asks the shared cache (Redis, if configured, within its own short timeout),
//       and failing that takes a unit of the upstream Semaphore and asks the upstream channel, all within the
//       upstream budget, validates the answer (its question must be ours), stores it in both tiers and wakes them.
//       So a burst for a new name costs one Redis read and at most one upstream query.
//     stale, and the refresh not done within stale_client_timeout (RFC 8767's client response timer, 1.8 s): the
//       stale entry; the refresh goes on in the background.
//     no answer in time: the stale entry (TTL 30, RFC 8767) if there is one, else SERVFAIL. Never silence. An
//       upstream's own SERVFAIL (every server said so) is an answer, cached in memory for servfail_ttl, but a stale
//       entry is served before it. For stale_recheck seconds after that failure the stale entry is served at once,
//       without asking again (RFC 8767 5: an outage costs each name one budget, not one per query).
// resolve() runs in the query's own greenlet and blocks only it. One Resolver per hub; the cache may be shared.
#pragma once

#include "cache/cache.hpp"
#include "cache/policy.hpp"
#include "core/primitives/event.hpp"
#include "core/memory/hash_index.hpp"
#include "core/primitives/pool.hpp"
#include "core/primitives/semaphore.hpp"
#include "core/io/log_throttle.hpp"
#include "daemon/resolve/responder.hpp"
#include "upstream/upstream.hpp"
#include "dns/query_key.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>

namespace greenfinch::daemon {

class Resolver {
public:
    struct Options {
        cache::CachePolicy policy;
        bool prefetch = true;
        core::Seconds upstream_timeout{2.0};  // the whole budget of one upstream resolution
        int max_upstream_inflight = 1000;
        std::size_t udp_payload = 1232;       // the largest UDP answer we send, whatever the client offers
        std::uint32_t stale_ttl = 30;         // the TTL a stale answer is served with
        double stale_recheck = 30;            // after a failed refresh, seconds its stale answer is served at once
        // RFC 8767's client response timer: seconds a client whose answer is stale waits for its refresh before it
        // gets the stale answer, the refresh going on in the background (0: at once). From upstream_timeout up, the
        // client waits out the refresh as it would for a miss.
        double stale_client_timeout = 1.8;
        bool log_queries = false;             // one info line per query: client, name, type, rcode, source, time
        // Monotonic seconds, the clock cache entries are stamped with; tests substitute their own.
        std::function<double()> clock = &Resolver::cache_clock;
    };
    struct Stats {
        std::uint64_t queries = 0;
        std::uint64_t cache_hits = 0;
        std::uint64_t cache_misses = 0;
        std::uint64_t shared_cache_hits = 0;  // memory misses the shared cache (Redis) answered
        std::uint64_t stale_served = 0;
        std::uint64_t prefetches = 0;
        std::uint64_t coalesced = 0;
        std::uint64_t flights_taken_over = 0;  // coalesced queries that asked again: their leader was gone first
        std::uint64_t upstream_queries = 0;
        std::uint64_t upstream_failures = 0;
        std::uint64_t upstream_timeouts = 0;
        std::uint64_t servfail = 0;
        std::uint64_t formerr = 0;
        std::uint64_t dropped = 0;
        // Answers sent, by transport (Transport's value) and RCODE.
        std::array<std::array<std::uint64_t, 16>, 2> responses{};
        // Time from sending a query upstream to its answer (or failure): counts at or below each bound, then the
        // total; the sum in seconds. Prometheus' cumulative buckets come from these.
        static constexpr std::array<double, 11> kLatencyBounds{0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                               0.1,   0.2,   0.5,   1.0,  2.0};
        std::array<std::uint64_t, kLatencyBounds.size() + 1> upstream_latency{};
        double upstream_latency_sum = 0;
    };

    // `shared_cache` (Redis; may be null) sits behind `cache` (memory): asked only on a memory miss, by the one query
    // that leads the flight for that key, and given every new upstream answer.
    Resolver(cache::Cache& cache, cache::Cache* shared_cache, upstream::Upstream& upstream, Options options);
    ~Resolver();  // stops the background refreshes, which point back here
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Writes the answer to `query` into `out` and returns its size; 0 means send nothing (not a query at all).
    // Over UDP the answer fits the client's size limit (TC=1 beyond it).
    std::size_t resolve(std::span<const std::byte> query, const QueryOrigin& origin, std::span<std::byte> out);

    const Stats& stats() const noexcept { return stats_; }
    // What a reload may change (policy, prefetch, budget, query log); the clock and the upstream slots stay.
    void reconfigure(const Options& options);
    // New queries go to `upstream` (a reload's new servers); those in flight finish on the old channel.
    void use_upstream(upstream::Upstream& upstream) noexcept { upstream_ = &upstream; }
    // The steady clock in seconds, for the query log's timings and the warnings' rate limit.
    static double now() noexcept;
    // The same clock as the kernel last ticked it (CLOCK_MONOTONIC_COARSE, a few ms behind at most): TTLs count whole
    // seconds, and this read costs a seventh of a precise one. The default Options::clock.
    static double cache_clock() noexcept;

private:
    // Where an answer came from, for the query log.
    enum class Source : std::uint8_t { None, Cache, SharedCache, Upstream, Coalesced, Stale, Local };
    std::size_t answer(std::span<const std::byte> query, Transport transport, std::span<std::byte> out, Source& source);
    void log_query(std::span<const std::byte> query, const QueryOrigin& origin, std::span<const std::byte> response,
                   Source source, double started) const;
    void warn_upstream(std::string_view what);
    void record_latency(double seconds) noexcept;

    struct Flight : core::RefCounted<Flight> {
        explicit Flight(const dns::QueryKey& k) noexcept : key(&k) {}
        const dns::QueryKey* key;                    // the leader's, which outlives the flight's entry in flights_
        core::AsyncResult<cache::AnswerPtr> result;  // nullptr: the upstream gave no usable answer
        bool abandoned = false;  // the leader was killed or timed out first: the question is still open
    };
    // `source`: where the answer came from (Coalesced: another query's flight). `refreshing`: a prefetch, which
    // needs an answer fresher than the one it replaces.
    cache::AnswerPtr fetch(const dns::QueryKey& key, Source& source, bool refreshing);
    Flight* flight_for(const dns::QueryKey& key);  // the flight in progress for `key`, if any
    // Waits for `leading`'s answer to `key`, for at most `timeout` (nullptr then). If the leader is killed (its TCP
    // client gone, say) or its own budget runs out first, the followers ask again within what is left of theirs.
    cache::AnswerPtr follow(const dns::QueryKey& key, Flight& leading, core::Seconds timeout, Source& source,
                            bool refreshing);
    cache::AnswerPtr from_shared_cache(const dns::QueryKey& key, bool refreshing);
    // The upstream is asked the key's question (dns/upstream_query.hpp), never the client's query as it came.
    cache::AnswerPtr ask_upstream(const dns::QueryKey& key);
    void prefetch(const dns::QueryKey& key);
    // fetch() for a key whose `stale` answer the client can be given: run in the background (or joined, if one is
    // already under way), and waited for no longer than stale_client_timeout (nullptr then). A refresh that fails
    // marks `stale` (refresh_failed_at) itself.
    cache::AnswerPtr refresh_stale(const dns::QueryKey& key, const cache::AnswerPtr& stale, Source& source);
    bool refreshes_in_background() const noexcept {
        return options_.stale_client_timeout < options_.upstream_timeout.count();
    }
    // The OPT record for a response we make ourselves: one if the client sent one (RFC 6891 7).
    std::optional<dns::OptRecord> our_opt(const dns::Message& query) const noexcept;

    cache::Cache& cache_;
    cache::Cache* back_;
    upstream::Upstream* upstream_;
    Options options_;
    core::Semaphore upstream_slots_;
    // In-flight upstream queries by key hash; the leader's Ref keeps each alive while it is listed. A flat table that
    // shrinks as flights land: at low load it is a few warm cache lines, where a map kept its peak bucket array.
    core::HashIndex<Flight*> flights_;
    core::Group refreshes_;
    Stats stats_;
    core::LogThrottle upstream_warnings_{10.0};
};

}  // namespace greenfinch::daemon
