// CacheTiers: the memory cache in front and, when configured, the shared cache (Redis) behind it.
//
// Lookups go to memory; the shared tier is asked only on a memory miss, by the query leading the flight for that key,
// and its answer is copied into memory (a stale one too: it is the fallback should the upstream fail). A new answer
// from the upstream goes to both tiers (memory gets it screened by this daemon's policy, the shared tier as it came;
// a forward zone's answers stay out of the shared tier), except SERVFAIL, which stays in memory (the shared cache keeps the fleet's
// answers, not one daemon's moment of failure) and never replaces an entry that may still be served stale.
#pragma once

#include "cache/cache.hpp"
#include "dns/query_key.hpp"

#include <cstdint>
#include <optional>

namespace greenfinch::daemon {

// What a fetch is for: a client, which takes any answer not yet expired, or a prefetch, which needs an answer
// fresher than the one it replaces.
enum class FetchFor : std::uint8_t { Client, Prefetch };

// Whether a key's answers go to the shared tier: a forward zone's stay out, since the daemons sharing a Redis may
// send that zone to other servers, or have no such zone.
enum class SharedTier : std::uint8_t { used, skipped };

class CacheTiers {
public:
    CacheTiers(cache::Cache& memory, cache::Cache* shared) noexcept : memory_(memory), shared_(shared) {}

    std::optional<cache::Hit> lookup(const dns::QueryKey& key, double now) { return memory_.lookup(key, now); }
    bool has_shared() const noexcept { return shared_ != nullptr; }
    // The shared tier's fresh answer for a memory miss, passed through `screen` (the shared tier keeps answers as the
    // upstream gave them; `screen` returns this daemon's form of one, or nullptr when nothing of it may be served)
    // and now in memory too; nullptr if it has none fit for `purpose`. A stale one goes to memory as well, as the
    // fallback should the upstream fail.
    template <class Screen>
    cache::AnswerPtr from_shared(const dns::QueryKey& key, double now, FetchFor purpose, Screen&& screen) {
        std::optional<cache::Hit> hit = shared_hit(key, now, purpose);
        if (!hit) return nullptr;
        cache::AnswerPtr ours = screen(hit->answer);
        if (!ours) return nullptr;
        memory_.store(key, ours);
        return hit->freshness == cache::Freshness::Stale ? nullptr : ours;
    }
    // Brings in the memory index's slot for `key` while the caller still checks the answer it is about to store.
    void prepare_store(const dns::QueryKey& key) { memory_.prepare_store(key); }
    std::pmr::memory_resource& answer_memory() noexcept { return memory_.answer_memory(); }

    struct Stored {
        cache::AnswerPtr answer;  // for memory: what clients get (nullptr: nothing to keep there)
        cache::AnswerPtr shared;  // for the shared tier: the answer as the upstream gave it (nullptr: nothing)
        SharedTier tier = SharedTier::used;
    };
    void store(const dns::QueryKey& key, const Stored& stored, double now);

private:
    std::optional<cache::Hit> shared_hit(const dns::QueryKey& key, double now, FetchFor purpose);

    cache::Cache& memory_;
    cache::Cache* shared_;
};

}  // namespace greenfinch::daemon
