// Cache: where answers are kept between queries. MemoryCache implements it in process; the Redis backend too.
//
// An Answer is an upstream response as stored: its wire bytes (TTLs already normalised, see policy.hpp), its parse,
// when it was stored and for how long it is fresh. Answers are immutable and shared (workers on other threads may be
// serving the same one), except for the one-shot prefetch claim and the time a refresh of it last failed.
//
// lookup() says how usable an answer is at `now` (seconds on the daemon's monotonic clock):
// - Fresh: serve it, TTLs aged by `age`.
// - Refresh: fresh, but in the last 10% of its TTL: serve it, and the first caller to see this (only the first)
//   should refresh it in the background (prefetch).
// - Stale: expired, but within the serve-stale window: serve it only if the upstream fails (RFC 8767).
// A backend may block the calling greenlet cooperatively (Redis does), never the thread.
#pragma once

#include "dns/message.hpp"
#include "dns/query_key.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <span>
#include <vector>

namespace greenfinch::cache {

struct Answer {
    // Keeps a copy of `wire` in `memory`, which must outlive the answer.
    Answer(std::span<const std::byte> wire, std::pmr::memory_resource& memory);
    ~Answer();
    Answer(const Answer&) = delete;
    Answer& operator=(const Answer&) = delete;

    std::span<const std::byte> wire;
    dns::Message parsed;
    double stored_at = 0;
    std::uint32_t ttl = 0;
    mutable std::atomic<bool> refresh_claimed{false};
    // When asking the upstream for a fresher one last failed (daemon clock): for a while after that the expired
    // answer is served at once, without asking again (RFC 8767's failure recheck timer).
    mutable std::atomic<double> refresh_failed_at{-1e300};

    // Parses `wire` (which must parse: it came from parse_message already) and keeps a copy.
    static std::shared_ptr<const Answer> make(std::span<const std::byte> wire, double stored_at, std::uint32_t ttl);
    // Keeps a copy of `wire` with `parsed`, its parse (offsets into it, so they hold for the copy): no second parse.
    // `parsed.min_ttl` and `parsed.soa` keep the TTLs as received; the wire holds the normalised ones. The answer and
    // its wire live in `memory` (Cache::answer_memory() of the cache it is for), which must outlive it.
    static std::shared_ptr<const Answer> make(std::span<const std::byte> wire, dns::Message parsed, double stored_at,
                                              std::uint32_t ttl,
                                              std::pmr::memory_resource& memory = *std::pmr::new_delete_resource());

private:
    std::pmr::memory_resource& memory_;
};
using AnswerPtr = std::shared_ptr<const Answer>;

enum class Freshness : std::uint8_t { Fresh, Refresh, Stale };

struct Hit {
    AnswerPtr answer;
    Freshness freshness;
    std::uint32_t age;  // whole seconds since it was stored
};

struct CacheStats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t stale_hits = 0;
    std::uint64_t evictions = 0;
    std::uint64_t expired = 0;
    std::uint64_t size = 0;
    std::uint64_t memory_bytes = 0;  // taken for entries and their answers, in use or kept for reuse (0: not tracked)

    CacheStats& operator+=(const CacheStats& o) noexcept {
        hits += o.hits;
        misses += o.misses;
        stale_hits += o.stale_hits;
        evictions += o.evictions;
        expired += o.expired;
        size += o.size;
        memory_bytes += o.memory_bytes;
        return *this;
    }
};

// How usable `answer` is at `now` in a cache that keeps expired answers `serve_stale` seconds more: nullopt once past
// that. The first caller to find it in the last 10% of its TTL (TTLs of 10 s or more) gets Refresh, later ones Fresh.
std::optional<Hit> classify(AnswerPtr answer, double now, std::uint32_t serve_stale);

class Cache {
public:
    virtual ~Cache() = default;
    virtual std::optional<Hit> lookup(const dns::QueryKey& key, double now) = 0;
    virtual void store(const dns::QueryKey& key, AnswerPtr answer) = 0;
    // A hint that store() for `key` follows soon: a backend may start pulling in the memory it will touch, so that
    // the work in between (say, parsing the answer) hides the wait. Never blocks, never changes what is cached.
    virtual void prepare_store(const dns::QueryKey&) noexcept {}
    // Where an answer about to be stored here is best made (Answer::make): memory the backend keeps answers in.
    virtual std::pmr::memory_resource& answer_memory() noexcept { return *std::pmr::new_delete_resource(); }
    virtual void erase(const dns::QueryKey& key) = 0;
    virtual void clear() = 0;
    virtual CacheStats stats() const = 0;
};

}  // namespace greenfinch::cache
