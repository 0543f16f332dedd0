#include "daemon/resolve/cache_tiers.hpp"

namespace greenfinch::daemon {

cache::AnswerPtr CacheTiers::from_shared(const dns::QueryKey& key, double now, FetchFor purpose) {
    if (!shared_) return nullptr;
    std::optional<cache::Hit> hit = shared_->lookup(key, now);
    if (!hit) return nullptr;
    if (hit->freshness == cache::Freshness::Refresh) {
        // As old as ours: a refresh must go upstream. Otherwise let the memory tier claim the prefetch itself.
        if (purpose == FetchFor::Prefetch) return nullptr;
        hit->answer->refresh_claimed.store(false);
    }
    memory_.store(key, hit->answer);
    if (hit->freshness == cache::Freshness::Stale) return nullptr;
    return hit->answer;
}

void CacheTiers::store(const dns::QueryKey& key, const cache::AnswerPtr& answer, double now) {
    if (answer->parsed.header.rcode() == dns::Rcode::ServFail) {
        const std::optional<cache::Hit> held = memory_.lookup(key, now);
        if (!held || held->answer->parsed.header.rcode() == dns::Rcode::ServFail) memory_.store(key, answer);
        return;
    }
    memory_.store(key, answer);
    if (shared_) shared_->store(key, answer);  // only queued: nothing waits for the shared cache's write
}

}  // namespace greenfinch::daemon
