#include "cache/memory_cache.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace greenfinch::cache {

namespace {
constexpr std::size_t kProtectedPercent = 80;
constexpr std::size_t kMaxReservedPerShard = 1 << 16;
}  // namespace

auto MemoryCache::same_key(const dns::QueryKey& key) noexcept {
    return [&key](const NodeList::iterator& it) { return it->key == key; };
}

MemoryCache::MemoryCache(Options options)
    : shards_(std::bit_ceil(std::max<std::size_t>(options.shards, 1))),
      shard_capacity_(0),
      serve_stale_(options.serve_stale) {
    for (auto& s : shards_) s.emplace(memory_);
    reconfigure(options.max_entries, options.serve_stale);
    // Rehashing a growing index would land on forwarded queries; a slot is 16 bytes, two per entry.
    for (auto& s : shards_) s->index.reserve(std::min<std::size_t>(shard_capacity_, kMaxReservedPerShard));
}

void MemoryCache::reconfigure(std::size_t max_entries, std::uint32_t serve_stale) {
    shard_capacity_ = std::max<std::size_t>(1, (max_entries + shards_.size() - 1) / shards_.size());
    serve_stale_ = serve_stale;
}

MemoryCache::Shard& MemoryCache::shard_for(const dns::QueryKey& key) noexcept {
    return *shards_[(key.hash() >> 48) & (shards_.size() - 1)];
}

std::optional<Hit> MemoryCache::lookup(const dns::QueryKey& key, double now) {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    const NodeList::iterator* found = s.index.find(key.hash(), same_key(key));
    if (!found) {
        ++s.stats.misses;
        return std::nullopt;
    }
    const NodeList::iterator it = *found;
    std::optional<Hit> hit = classify(it->answer, now, serve_stale_.load(std::memory_order_relaxed));
    if (!hit) {
        ++s.stats.expired;
        ++s.stats.misses;
        remove(s, it);
        return std::nullopt;
    }
    if (hit->freshness == Freshness::Stale) {
        ++s.stats.stale_hits;
        return hit;
    }
    ++s.stats.hits;
    // Recently used: to the front of the protected segment (promoted from probation on its second use).
    if (!it->protected_segment) {
        it->protected_segment = true;
        s.protected_.splice(s.protected_.begin(), s.probation, it);
        const std::size_t protected_cap = std::max<std::size_t>(1, shard_capacity_ * kProtectedPercent / 100);
        if (s.protected_.size() > protected_cap) {
            auto demoted = std::prev(s.protected_.end());
            demoted->protected_segment = false;
            s.probation.splice(s.probation.begin(), s.protected_, demoted);
        }
    } else {
        s.protected_.splice(s.protected_.begin(), s.protected_, it);
    }
    return hit;
}

void MemoryCache::store(const dns::QueryKey& key, AnswerPtr answer) {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    if (const NodeList::iterator* found = s.index.find(key.hash(), same_key(key))) {
        (*found)->answer = std::move(answer);  // a refresh keeps the entry's place
        return;
    }
    s.probation.push_front(Node{.key = StoredKey(key), .answer = std::move(answer), .protected_segment = false});
    s.index.insert(key.hash(), s.probation.begin());
    evict_if_full(s);
}

void MemoryCache::prepare_store(const dns::QueryKey& key) noexcept {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    s.index.prefetch(key.hash());
}

void MemoryCache::evict_if_full(Shard& s) {
    const std::size_t cap = shard_capacity_;
    while (s.index.size() > cap) {
        NodeList& from = s.probation.empty() ? s.protected_ : s.probation;
        remove(s, std::prev(from.end()));
        ++s.stats.evictions;
    }
}

void MemoryCache::remove(Shard& s, NodeList::iterator it) {
    s.index.erase(it->key.hash(), it);
    (it->protected_segment ? s.protected_ : s.probation).erase(it);
}

void MemoryCache::erase(const dns::QueryKey& key) {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    if (const NodeList::iterator* found = s.index.find(key.hash(), same_key(key))) remove(s, *found);
}

std::size_t MemoryCache::erase_name(std::span<const std::byte> name) {
    return erase_if([name](std::span<const std::byte> n, const Answer&) {
        return n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin());
    });
}

std::size_t MemoryCache::erase_if(
    const std::function<bool(std::span<const std::byte> name, const Answer& answer)>& drop) {
    std::size_t erased = 0;
    for (auto& slot : shards_) {
        Shard& s = *slot;
        std::lock_guard lock(s.mutex);
        for (NodeList* list : {&s.probation, &s.protected_}) {
            for (auto it = list->begin(); it != list->end();) {
                const auto next = std::next(it);
                if (drop(it->key.name(), *it->answer)) {
                    remove(s, it);
                    ++erased;
                }
                it = next;
            }
        }
    }
    return erased;
}

void MemoryCache::clear() {
    for (auto& slot : shards_) {
        Shard& s = *slot;
        std::lock_guard lock(s.mutex);
        s.index.clear();
        s.probation.clear();
        s.protected_.clear();
    }
}

CacheStats MemoryCache::stats() const {
    CacheStats total;
    for (const auto& slot : shards_) {
        const Shard& s = *slot;
        std::lock_guard lock(s.mutex);
        total.hits += s.stats.hits;
        total.misses += s.stats.misses;
        total.stale_hits += s.stats.stale_hits;
        total.evictions += s.stats.evictions;
        total.expired += s.stats.expired;
        total.size += s.index.size();
    }
    total.memory_bytes = memory_.stats().chunks * core::HugePagePool::kChunk;
    return total;
}

}  // namespace greenfinch::cache
