#include "cache/memory_cache.hpp"

#include <bit>
#include <cmath>

namespace greenfinch::cache {

namespace {
constexpr double kRefreshFraction = 0.9;   // the last 10% of the TTL
constexpr std::uint32_t kMinRefreshTtl = 10;  // shorter TTLs are not worth a background refresh
constexpr std::size_t kProtectedPercent = 80;
}  // namespace

MemoryCache::MemoryCache(Options options)
    : shards_(std::bit_ceil(std::max<std::size_t>(options.shards, 1))),
      shard_capacity_(0),
      serve_stale_(options.serve_stale) {
    reconfigure(options.max_entries, options.serve_stale);
}

void MemoryCache::reconfigure(std::size_t max_entries, std::uint32_t serve_stale) {
    shard_capacity_ = std::max<std::size_t>(1, (max_entries + shards_.size() - 1) / shards_.size());
    serve_stale_ = serve_stale;
}

MemoryCache::Shard& MemoryCache::shard_for(const dns::QueryKey& key) noexcept {
    return shards_[(key.hash() >> 48) & (shards_.size() - 1)];
}

std::optional<Hit> MemoryCache::lookup(const dns::QueryKey& key, double now) {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    auto found = s.index.find(key);
    if (found == s.index.end()) {
        ++s.stats.misses;
        return std::nullopt;
    }
    auto it = found->second;
    const Answer& a = *it->answer;
    const double age = std::max(0.0, now - a.stored_at);
    if (age >= static_cast<double>(a.ttl)) {
        if (age >= static_cast<double>(a.ttl) + serve_stale_.load(std::memory_order_relaxed)) {
            ++s.stats.expired;
            ++s.stats.misses;
            remove(s, it);
            return std::nullopt;
        }
        ++s.stats.stale_hits;
        return Hit{it->answer, Freshness::Stale, static_cast<std::uint32_t>(age)};
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
    Freshness f = Freshness::Fresh;
    if (a.ttl >= kMinRefreshTtl && age >= kRefreshFraction * a.ttl && !a.refresh_claimed.exchange(true)) {
        f = Freshness::Refresh;
    }
    return Hit{it->answer, f, static_cast<std::uint32_t>(age)};
}

void MemoryCache::store(const dns::QueryKey& key, AnswerPtr answer) {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    auto found = s.index.find(key);
    if (found != s.index.end()) {
        found->second->answer = std::move(answer);  // a refresh keeps the entry's place
        return;
    }
    s.probation.push_front(Node{key, std::move(answer), false});
    s.index.emplace(key, s.probation.begin());
    evict_if_full(s);
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
    s.index.erase(it->key);
    (it->protected_segment ? s.protected_ : s.probation).erase(it);
}

void MemoryCache::erase(const dns::QueryKey& key) {
    Shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    auto found = s.index.find(key);
    if (found != s.index.end()) remove(s, found->second);
}

void MemoryCache::clear() {
    for (auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        s.index.clear();
        s.probation.clear();
        s.protected_.clear();
    }
}

CacheStats MemoryCache::stats() const {
    CacheStats total;
    for (const auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        total.hits += s.stats.hits;
        total.misses += s.stats.misses;
        total.stale_hits += s.stats.stale_hits;
        total.evictions += s.stats.evictions;
        total.expired += s.stats.expired;
        total.size += s.index.size();
    }
    return total;
}

}  // namespace greenfinch::cache
