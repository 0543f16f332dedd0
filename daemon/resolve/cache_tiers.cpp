#include "daemon/resolve/cache_tiers.hpp"

namespace greenfinch::daemon {

std::optional<cache::Hit> CacheTiers::shared_hit(const dns::QueryKey& key, double now, FetchFor purpose) {
    if (!shared_) return std::nullopt;
    std::optional<cache::Hit> hit = shared_->lookup(key, now);
    if (hit && hit->freshness == cache::Freshness::Refresh) {
        // As old as ours: a refresh must go upstream. Otherwise let the memory tier claim the prefetch itself.
        if (purpose == FetchFor::Prefetch) return std::nullopt;
        hit->answer->refresh_claimed.store(false);
    }
    return hit;
}

void CacheTiers::store(const dns::QueryKey& key, const Stored& stored, double now) {
    if (stored.answer && stored.answer->parsed.header.rcode() == dns::Rcode::ServFail) {
        const std::optional<cache::Hit> held = memory_.lookup(key, now);
        if (!held || held->answer->parsed.header.rcode() == dns::Rcode::ServFail) memory_.store(key, stored.answer);
        return;
    }
    if (stored.answer) memory_.store(key, stored.answer);
    // Only queued: nothing waits for the shared cache's write.
    if (shared_ && stored.tier == SharedTier::used && stored.shared) shared_->store(key, stored.shared);
}

}  // namespace greenfinch::daemon
