// MemoryCache: the in-process Cache, shared by every worker thread.
//
// Sharded by key hash, one mutex per shard, so workers rarely contend. Bounded by entries. Eviction is segmented LRU:
// a new entry goes on probation; a second hit promotes it to the protected segment (80% of the shard); eviction takes
// the least recently used entry on probation first. A scan of names asked once (a zone walk, a random-subdomain
// flood) therefore churns the probation segment and leaves the popular names alone, where plain LRU would lose them.
// Expired entries stay for `serve_stale` seconds more (RFC 8767) and are then dropped when met.
#pragma once

#include "cache/cache.hpp"
#include "cache/stored_key.hpp"
#include "core/hash_index.hpp"

#include <list>
#include <mutex>
#include <vector>

namespace greenfinch::cache {

class MemoryCache final : public Cache {
public:
    struct Options {
        std::size_t max_entries = 100000;
        std::uint32_t serve_stale = 0;  // seconds an expired answer stays available as a fallback; 0: off
        std::size_t shards = 16;        // rounded up to a power of two
    };

    explicit MemoryCache(Options options);

    std::optional<Hit> lookup(const dns::QueryKey& key, double now) override;
    void store(const dns::QueryKey& key, AnswerPtr answer) override;
    void prepare_store(const dns::QueryKey& key) noexcept override;
    void erase(const dns::QueryKey& key) override;
    // Drops every entry for `name` (wire form, lowercased), whatever its type or flags: a walk over the whole cache,
    // for the operator's flush, not for the query path. Returns how many went.
    std::size_t erase_name(std::span<const std::byte> name);
    void clear() override;
    CacheStats stats() const override;

    // Changes the limits in place (on reload): a smaller max_entries evicts as entries are next stored.
    void reconfigure(std::size_t max_entries, std::uint32_t serve_stale);

private:
    struct Node {
        StoredKey key;
        AnswerPtr answer;
        bool protected_segment = false;
    };
    using NodeList = std::list<Node>;
    struct Shard {
        mutable std::mutex mutex;
        core::HashIndex<NodeList::iterator> index;  // by key hash; the entry is in one of the two lists
        NodeList probation;  // most recent first
        NodeList protected_;
        CacheStats stats;
    };

    Shard& shard_for(const dns::QueryKey& key) noexcept;
    static auto same_key(const dns::QueryKey& key) noexcept;  // the predicate for index.find()
    void evict_if_full(Shard& s);
    void remove(Shard& s, NodeList::iterator it);

    std::vector<Shard> shards_;
    std::atomic<std::size_t> shard_capacity_;
    std::atomic<std::uint32_t> serve_stale_;
};

}  // namespace greenfinch::cache
