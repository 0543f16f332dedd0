// UpstreamFetch: one question asked of the upstream, and its answer made a cache entry.
//
// ask() takes a unit of its route's Semaphore (at most [upstream] max_inflight questions out at once per zone per
// hub), asks the route's upstream the key's question (dns/upstream_query.hpp: never the client's query as it came), checks that the answer is a response
// to that question, makes it ours (dns::prepare_forwarded_answer: AA clear, RA set, our OPT record with the key's DO
// and none of the upstream's options, so that a hit needs no rewrite of its own), screens it (policy/policy.hpp:
// rebinding protection, a CNAME chain leading to a blocked name) and applies the caching policy (clamps, RFC 2308)
// to both forms; the resolver stores them (the screened one in memory, the one as it came in the shared tier, which
// daemons with other lists share), unless a reload changed the policy or the route meanwhile. Every server answering SERVFAIL is an answer, a SERVFAIL of our own kept
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

#include <cstdint>
#include <optional>
#include <span>
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

    enum class Keep : std::uint8_t {
        store,       // an answer the caching policy keeps
        serve_only,  // one it must not (truncated, negative without an SOA): the asker's alone
    };
    struct Asked {
        cache::AnswerPtr answer;  // screened: what clients get and the memory tier keeps; nullptr: none to give
        cache::AnswerPtr raw;     // as the upstream gave it (made ours): what the shared tier keeps
        upstream::Outcome outcome = upstream::Outcome::Answered;  // why none (a malformed answer: Failed)
        Keep keep = Keep::store;                                  // for `answer`
        Keep raw_keep = Keep::store;                              // for `raw`
    };
    // What the answer is screened by: the policy in force when it was asked (`policy`), and what that decided for the
    // name (`verdict`: rebinding protection exempts forward zones).
    struct Screen {
        const policy::Policy& policy;
        const policy::Verdict& verdict;
    };
    // Asks, checks and screens; the caller stores each form that is not Keep::serve_only.
    Asked ask(const dns::QueryKey& key, UpstreamRoute& route, const Screen& screen);
    // `answer` (the shared tier's, which keeps answers unscreened) as this daemon's policy has it: the same answer,
    // another one, or nullptr when nothing of it may be served.
    cache::AnswerPtr screened(const cache::AnswerPtr& answer, const Screen& screen);
    // Upstream trouble, rate-limited: one line per 10 s with the count held back.
    void warn(std::string_view what);

private:
    // The screened form of the answer `wire`/`m`: nullopt to keep it as it is, empty when nothing of it may be served.
    std::optional<std::vector<std::byte>> screen_answer(std::span<const std::byte> wire, const dns::Message& m,
                                                        const Screen& screen);
    // A cache entry of `wire` (TTLs normalised in place) under the caching policy; `keep` says whether it is one to
    // store.
    cache::AnswerPtr make_answer(std::vector<std::byte>& wire, dns::Message m, double stored_at, Keep& keep);

    CacheTiers& tiers_;
    const ResolverOptions& options_;
    ResolverStats& stats_;
    core::LogThrottle warnings_{10.0};
    core::LogThrottle rebind_warnings_{10.0};
};

}  // namespace greenfinch::daemon
