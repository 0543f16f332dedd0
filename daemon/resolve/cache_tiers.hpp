// CacheTiers: the memory cache in front and, when configured, the shared cache (Redis) behind it.
//
// Lookups go to memory; the shared tier is asked only on a memory miss, by the query leading the flight for that key,
// and its answer is copied into memory (a stale one too: it is the fallback should the upstream fail). A new answer
// from the upstream goes to both tiers, except SERVFAIL, which stays in memory (the shared cache keeps the fleet's
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

class CacheTiers {
public:
    CacheTiers(cache::Cache& memory, cache::Cache* shared) noexcept : memory_(memory), shared_(shared) {}

    std::optional<cache::Hit> lookup(const dns::QueryKey& key, double now) { return memory_.lookup(key, now); }
    bool has_shared() const noexcept { return shared_ != nullptr; }
    // The shared tier's fresh answer for a memory miss, now in memory too; nullptr if it has none fit for `purpose`.
    cache::AnswerPtr from_shared(const dns::QueryKey& key, double now, FetchFor purpose);
    // Brings in the memory index's slot for `key` while the caller still checks the answer it is about to store.
    void prepare_store(const dns::QueryKey& key) { memory_.prepare_store(key); }
    std::pmr::memory_resource& answer_memory() noexcept { return memory_.answer_memory(); }
    void store(const dns::QueryKey& key, const cache::AnswerPtr& answer, double now);

private:
    cache::Cache& memory_;
    cache::Cache* shared_;
};

}  // namespace greenfinch::daemon
