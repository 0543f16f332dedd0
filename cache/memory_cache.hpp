// MemoryCache: the in-process Cache, shared by every worker thread.
//
// Sharded by key hash, one mutex per shard, so workers rarely contend. Bounded by entries. Eviction is segmented LRU:
// a new entry goes on probation; a second hit promotes it to the protected segment (80% of the shard); eviction takes
// the least recently used entry on probation first. A scan of names asked once (a zone walk, a random-subdomain
// flood) therefore churns the probation segment and leaves the popular names alone, where plain LRU would lose them.
// Expired entries stay for `serve_stale` seconds more (RFC 8767) and are then dropped when met.
// Entries, and the answers made for them through answer_memory(), live in a HugePagePool: a cache filling up after a
// start takes a page fault per 2 MiB, not one per 4 KiB. That memory is reused as entries come and go, and goes back
// to the system when the cache is destroyed, which every answer made in it must precede.
#pragma once

#include "cache/cache.hpp"
#include "cache/stored_key.hpp"
#include "core/memory/hash_index.hpp"
#include "core/memory/huge_page_pool.hpp"

#include <functional>
#include <list>
#include <memory_resource>
#include <mutex>
#include <optional>
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
    std::pmr::memory_resource& answer_memory() noexcept override { return memory_; }
    void erase(const dns::QueryKey& key) override;
    // Drops every entry for `name` (wire form, lowercased), whatever its type or flags: a walk over the whole cache,
    // for the operator's flush, not for the query path. Returns how many went.
    std::size_t erase_name(std::span<const std::byte> name);
    // Drops every entry for which `drop(name, answer)` holds (`name` in wire form, lowercased): a walk over the whole
    // cache, for a reload that changed what some answers would be. Returns how many went.
    std::size_t erase_if(const std::function<bool(std::span<const std::byte> name, const Answer& answer)>& drop);
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
    using NodeList = std::pmr::list<Node>;
    struct Shard {
        explicit Shard(std::pmr::memory_resource& memory) : probation(&memory), protected_(&memory) {}
        mutable std::mutex mutex;
        core::HashIndex<NodeList::iterator> index;  // by key hash; the entry is in one of the two lists
        NodeList probation;                         // most recent first
        NodeList protected_;
        CacheStats stats;
    };

    Shard& shard_for(const dns::QueryKey& key) noexcept;
    static auto same_key(const dns::QueryKey& key) noexcept;  // the predicate for index.find()
    void evict_if_full(Shard& s);
    void remove(Shard& s, NodeList::iterator it);

    core::HugePagePool memory_;  // before the shards: destroyed after the entries in them
    // Optional only so that a Shard, which cannot move, is built in place with the pool.
    std::vector<std::optional<Shard>> shards_;
    std::atomic<std::size_t> shard_capacity_;
    std::atomic<std::uint32_t> serve_stale_;
};

}  // namespace greenfinch::cache
