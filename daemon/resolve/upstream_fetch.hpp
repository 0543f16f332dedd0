// UpstreamFetch: one question asked of the upstream, and its answer made a cache entry.
//
// ask() takes a unit of its route's Semaphore (at most [upstream] max_inflight questions out at once per zone per
// hub), asks the route's upstream the key's question (dns/upstream_query.hpp: never the client's query as it came), checks that the answer is a response
// to that question, makes it ours (dns::prepare_forwarded_answer: AA clear, RA set, our OPT record with the key's DO
// and none of the upstream's options, so that a hit needs no rewrite of its own), screens it (policy/policy.hpp:
// rebinding protection, a CNAME chain leading to a blocked name), applies the caching policy (clamps, RFC 2308) and
// stores it in the cache tiers. Every server answering SERVFAIL is an answer, a SERVFAIL of our own kept
// for servfail_ttl; anything else that is not an answer is counted, warned about (one line per 10 s, with the count
// held back) and returns no answer, with the reason (the client's SERVFAIL says it, RFC 8914).
#pragma once

#include "cache/cache.hpp"
#include "core/io/log_throttle.hpp"
#include "daemon/resolve/cache_tiers.hpp"
#include "daemon/resolve/resolver_options.hpp"
#include "daemon/resolve/resolver_stats.hpp"
#include "daemon/resolve/upstream_routes.hpp"
#include "dns/query_key.hpp"
#include "policy/policy.hpp"
#include "upstream/upstream.hpp"

#include <string_view>
#include <vector>

namespace greenfinch::daemon {

class UpstreamFetch {
public:
    // `options` and `stats` are the resolver's, which outlive this.
    UpstreamFetch(CacheTiers& tiers, const ResolverOptions& options, ResolverStats& stats) noexcept
        : tiers_(tiers),
          options_(options),
          stats_(stats) {}

    struct Asked {
        cache::AnswerPtr answer;                                  // nullptr: none to give
        upstream::Outcome outcome = upstream::Outcome::Answered;  // why not (a malformed answer: Failed)
    };
    // What the answer is screened by: the policy in force when it came (`policy`), and what that decided for the
    // name (`verdict`: rebinding protection exempts forward zones).
    struct Screen {
        const policy::Policy& policy;
        const policy::Verdict& verdict;
    };
    Asked ask(const dns::QueryKey& key, UpstreamRoute& route, const Screen& screen);
    // Upstream trouble, rate-limited: one line per 10 s with the count held back.
    void warn(std::string_view what);

private:
    // The screened answer in place of `wire`/`m`; false when nothing of it may be served.
    bool screen_answer(std::vector<std::byte>& wire, dns::Message& m, const Screen& screen);

    CacheTiers& tiers_;
    const ResolverOptions& options_;
    ResolverStats& stats_;
    core::LogThrottle warnings_{10.0};
    core::LogThrottle rebind_warnings_{10.0};
};

}  // namespace greenfinch::daemon
