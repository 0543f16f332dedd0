// Resolver: the path of one query, from the client's bytes to the bytes of its answer (docs/architecture.md).
//
//   header (not a query: dropped; an opcode other than QUERY: NOTIMP) -> parse (malformed: FORMERR; an EDNS version
//   other than 0: BADVERS) -> key -> policy (policy/policy.hpp: local data and special names answered here, AA set;
//   blocked names answered as [block] answer says; the rest routed to their forward zone) -> cache
//     fresh hit: answered from cache, TTLs aged; in the last 10% of its TTL the first hit also refreshes it in a
//       background greenlet (prefetch)
//     miss or stale: fetch, coalesced: the first asker for a key leads, the others wait on its AsyncResult under
//       their own Timeout; the leader asks the shared cache (Redis, if configured, within its own short timeout),
//       and failing that takes a unit of its route's Semaphore and asks the route's upstream, all within the route's
//       budget, validates the answer (its question must be ours), screens it (rebinding protection, the CNAME
//       chain's block check), stores it in both tiers and wakes them.
//       So a burst for a new name costs one Redis read and at most one upstream query.
//     stale, and the refresh not done within stale_client_timeout (RFC 8767's client response timer, 1.8 s): the
//       stale entry; the refresh goes on in the background.
//     no answer in time: the stale entry (TTL 30, RFC 8767) if there is one, else SERVFAIL. Never silence. An
//       upstream's own SERVFAIL (every server said so) is an answer, cached in memory for servfail_ttl, but a stale
//       entry is served before it. For stale_recheck seconds after that failure the stale entry is served at once,
//       without asking again (RFC 8767 5: an outage costs each name one budget, not one per query).
// An EDNS client is told why, with an Extended DNS Error (RFC 8914): a stale answer carries Stale Answer; a SERVFAIL
// of ours No Reachable Authority when the upstream did not answer in time (or refused), Network Error when no server
// could be reached at all.
// resolve() runs in the query's own greenlet and blocks only it. One Resolver per hub; the cache and the policy may be
// shared. Its parts: CacheTiers (memory, then Redis), Flights (coalescing), UpstreamFetch (ask, check, screen,
// store), the upstream routes (one per forward zone), the query log.
#pragma once

#include "cache/cache.hpp"
#include "core/primitives/pool.hpp"
#include "daemon/resolve/cache_tiers.hpp"
#include "daemon/resolve/flights.hpp"
#include "daemon/resolve/query_log.hpp"
#include "daemon/resolve/resolver_options.hpp"
#include "daemon/resolve/resolver_stats.hpp"
#include "daemon/resolve/responder.hpp"
#include "daemon/resolve/upstream_fetch.hpp"
#include "daemon/resolve/upstream_routes.hpp"
#include "dns/message.hpp"
#include "dns/query_key.hpp"
#include "policy/policy.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>

namespace greenfinch::daemon {

class Resolver {
public:
    using Options = ResolverOptions;
    using Stats = ResolverStats;

    // `shared_cache` (Redis; may be null) sits behind `cache` (memory): asked only on a memory miss, by the one query
    // that leads the flight for that key, and given every new upstream answer. `routes` are indexed as `policy`
    // numbers its forward zones (route 0 for [upstream] servers, which must be there).
    Resolver(cache::Cache& cache, cache::Cache* shared_cache, UpstreamRoutes routes, policy::PolicySnapshot policy,
             Options options);
    ~Resolver();  // stops the background refreshes, which point back here
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Writes the answer to `query` into `out` and returns its size; 0 means send nothing (not a query at all).
    // Over UDP the answer fits the client's size limit (TC=1 beyond it).
    std::size_t resolve(std::span<const std::byte> query, const QueryOrigin& origin, std::span<std::byte> out);

    const Stats& stats() const noexcept { return stats_; }
    // What a reload may change (caching policy, prefetch, query log); the clock stays.
    void reconfigure(const Options& options);
    // New queries go to `routes` (a reload's new servers); those in flight finish on the old ones. Returns the old.
    UpstreamRoutes use_routes(UpstreamRoutes routes) noexcept { return std::exchange(routes_, std::move(routes)); }
    const UpstreamRoutes& routes() const noexcept { return routes_; }
    // New queries are decided by `policy`; with new routes, call use_routes() first: the policy numbers them.
    void use_policy(policy::PolicySnapshot policy) noexcept { policy_ = std::move(policy); }
    static double now() noexcept { return steady_seconds(); }
    static double cache_clock() noexcept { return coarse_steady_seconds(); }

private:
    struct Answered {
        std::size_t size;       // of the response written; 0: nothing to send
        AnswerSource source;    // where it came from, for the query log
        std::uint16_t zone{0};  // the forward zone it went to, if it went upstream
    };
    // Where a miss goes: its route (held while the query is out, whatever a reload does meanwhile) and what the
    // policy decided, which the screening of the answer needs.
    struct Route {
        std::shared_ptr<UpstreamRoute> upstream;
        policy::Verdict verdict;
    };
    Route route_for(const policy::Verdict& verdict) const;
    // The answer for a name the policy decides (not Decision::Forward); nullopt if it is to be forwarded after all.
    std::optional<Answered> answer_by_policy(const policy::Policy::Query& query, const policy::Verdict& verdict,
                                             std::size_t limit, std::span<std::byte> out);
    // A local CNAME chain that leaves local data (`local`, in `out`): the answer for its target, from the cache or the
    // target's route, appended, as Unbound does, so that a stub resolver that does not follow CNAMEs itself gets an
    // address. Returns the response's size: the local part alone when the target has no answer or it does not fit.
    std::size_t append_cname_target(const policy::Policy::Query& query, const policy::LocalAnswer& local,
                                    std::size_t limit, std::span<std::byte> out);
    Answered answer(std::span<const std::byte> query, Transport transport, std::span<std::byte> out);

    struct Fetched {
        cache::AnswerPtr answer;  // nullptr: none to give (the upstream failed or the budget ran out)
        AnswerSource source;
        std::optional<dns::EdeCode> failure{};  // no answer: why, as the client's SERVFAIL tells it, if known
    };
    // The answer for `key`, from the shared cache or the upstream, coalesced with any fetch of it in flight.
    Fetched fetch(const dns::QueryKey& key, FetchFor purpose, const Route& route);
    // Waits for `leading`'s answer to `key`, for at most `timeout` (nullptr then). If the leader is killed (its TCP
    // client gone, say) or its own budget runs out first, the followers ask again within what is left of theirs.
    Fetched follow(const dns::QueryKey& key, Flights::Flight& leading, core::Seconds timeout, FetchFor purpose,
                   const Route& route);
    void prefetch(const dns::QueryKey& key, Route route);
    // fetch() for a key whose `stale` answer the client can be given: run in the background (or joined, if one is
    // already under way), and waited for no longer than stale_client_timeout (nullptr then). A refresh that fails
    // marks `stale` (refresh_failed_at) itself.
    Fetched refresh_stale(const dns::QueryKey& key, const cache::AnswerPtr& stale, const Route& route);
    bool refreshes_in_background(const Route& route) const noexcept {
        return options_.stale_client_timeout < route.upstream->budget.count();
    }
    // The OPT record for a response we make ourselves: one if the client sent one (RFC 6891 7), its DO echoed.
    std::optional<dns::OptRecord> our_opt(const dns::Message& query,
                                          std::optional<dns::EdeCode> ede = std::nullopt) const noexcept;
    // NOTIMP to a query with an opcode other than QUERY, with an OPT record if it has one and parses.
    std::size_t not_implemented(std::span<const std::byte> query, const dns::Header& header, std::span<std::byte> out);

    Options options_;
    Stats stats_;
    CacheTiers tiers_;
    Flights flights_;
    UpstreamFetch upstream_fetch_;
    UpstreamRoutes routes_;
    policy::PolicySnapshot policy_;
    core::Group refreshes_;
};

}  // namespace greenfinch::daemon
