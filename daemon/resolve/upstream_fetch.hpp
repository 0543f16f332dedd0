// UpstreamFetch: one question asked of the upstream, and its answer made a cache entry.
//
// ask() takes a unit of the upstream Semaphore (at most max_upstream_inflight questions out at once per hub), asks the
// key's question (dns/upstream_query.hpp: never the client's query as it came), checks that the answer is a response
// to that question, applies the caching policy (clamps, RFC 2308) and stores it in the cache tiers. Every server
// answering SERVFAIL is an answer, a SERVFAIL of our own kept for servfail_ttl; anything else that is not an answer is
// counted, warned about (one line per 10 s, with the count held back) and returns nullptr.
#pragma once

#include "cache/cache.hpp"
#include "core/io/log_throttle.hpp"
#include "core/primitives/semaphore.hpp"
#include "daemon/resolve/cache_tiers.hpp"
#include "daemon/resolve/resolver_options.hpp"
#include "daemon/resolve/resolver_stats.hpp"
#include "dns/query_key.hpp"
#include "upstream/upstream.hpp"

#include <string_view>

namespace greenfinch::daemon {

class UpstreamFetch {
public:
    // `options` and `stats` are the resolver's, which outlive this.
    UpstreamFetch(upstream::Upstream& upstream, CacheTiers& tiers, const ResolverOptions& options,
                  ResolverStats& stats);

    cache::AnswerPtr ask(const dns::QueryKey& key);
    // New questions go to `upstream` (a reload's new servers); those in flight finish on the old one.
    void use_upstream(upstream::Upstream& upstream) noexcept { upstream_ = &upstream; }
    // Upstream trouble, rate-limited: one line per 10 s with the count held back.
    void warn(std::string_view what);

private:
    upstream::Upstream* upstream_;
    CacheTiers& tiers_;
    const ResolverOptions& options_;
    ResolverStats& stats_;
    core::Semaphore slots_;
    core::LogThrottle warnings_{10.0};
};

}  // namespace greenfinch::daemon
