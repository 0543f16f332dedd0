#include "daemon/resolve/resolver.hpp"

#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/timeout.hpp"
#include "dns/answer.hpp"
#include "dns/answer_filter.hpp"
#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/name.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string_view>
#include <utility>
#include <vector>

namespace greenfinch::daemon {

double steady_seconds() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double wall_seconds() noexcept {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double coarse_steady_seconds() noexcept {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

namespace {
// What a client's SERVFAIL says of an upstream that gave no answer (RFC 8914 4.23, 4.24), if it says anything.
std::optional<dns::EdeCode> failure_ede(upstream::Outcome outcome) noexcept {
    switch (outcome) {
        case upstream::Outcome::TimedOut:
        case upstream::Outcome::Refused: return dns::EdeCode::NoReachableAuthority;
        case upstream::Outcome::Unreachable: return dns::EdeCode::NetworkError;
        default: return std::nullopt;
    }
}
}  // namespace

Resolver::Resolver(cache::Cache& cache, cache::Cache* shared_cache, UpstreamRoutes routes,
                   policy::PolicySnapshot policy, Options options)
    : options_(std::move(options)),
      tiers_(cache, shared_cache),
      upstream_fetch_(tiers_, options_, stats_),
      routes_(std::move(routes)),
      policy_(std::move(policy)) {}

Resolver::~Resolver() { refreshes_.kill(); }

std::size_t Resolver::resolve(std::span<const std::byte> query, const QueryOrigin& origin, std::span<std::byte> out) {
    ++stats_.queries;
    const double started = options_.log_queries ? now() : 0.0;
    const Answered a = answer(query, origin.transport, out);
    if (const std::optional<dns::Header> h = dns::parse_header(out.first(a.size))) {
        ++stats_.responses[static_cast<std::size_t>(origin.transport)][static_cast<std::size_t>(h->rcode())];
    }
    if (options_.log_queries) {
        std::string_view zone;
        if (a.zone != 0) {
            zone = policy_->zone_name(a.zone);
            zone.remove_suffix(1);  // its final dot, as the log writes zones
        }
        log_query(
            query, origin,
            {.response = out.first(a.size), .source = a.source, .zone = zone, .elapsed_seconds = now() - started});
    }
    return a.size;
}

Resolver::Answered Resolver::answer(std::span<const std::byte> query, Transport transport, std::span<std::byte> out) {
    constexpr AnswerSource kOurs = AnswerSource::Error;
    const std::optional<dns::Header> h = dns::parse_header(query);
    if (!h || h->qr()) {  // not even a header, or a response sent to us: answering it could start a loop
        ++stats_.dropped;
        return {0, kOurs};
    }
    // Read before the rest: what follows the header of another opcode need not look like a query at all.
    if (h->opcode() != 0) return {not_implemented(query, *h, out), kOurs};
    const auto formerr = [&] {
        const std::size_t n = dns::make_error_response(query, dns::Rcode::FormErr, out);
        (n ? stats_.formerr : stats_.dropped)++;
        return Answered{n, kOurs};
    };
    // A standard query carries its question and at most an OPT record (as Unbound requires). Refused before the
    // parse, so records that only make work (a 64 KiB query of names pointing at each other, say) are never read.
    if (h->ancount != 0 || h->nscount != 0 || h->arcount > 1) return formerr();
    dns::Message q;
    if (dns::parse_message(query, q) != dns::ParseStatus::Ok) return formerr();
    // RFC 6891 6.1.3: a version we do not speak gets BADVERS, and our OPT says which one we do (0).
    if (q.edns.present && q.edns.version != 0) {
        return {dns::make_error_response(query, dns::Rcode::BadVers, out, our_opt(q)), kOurs};
    }

    const dns::QueryKey key(query, q);
    const std::size_t limit = transport == Transport::Udp ? dns::udp_limit(q, options_.udp_payload) : 65535;
    const policy::Verdict verdict = policy_->route(key.name());
    if (verdict.decision != policy::Decision::Forward) {
        if (auto made = answer_by_policy({.wire = query, .parsed = q, .name = key.name()}, verdict, limit, out)) {
            return *made;
        }
    }
    dns::AnswerRewrite rw{
        .id = q.header.id,
        .client_qname = query.subspan(q.question.name_offset, q.question.name_length),
        .limit = limit,
        .client_edns = q.edns.present,
        .client_rd = q.header.rd(),
    };
    const auto from_cache = [&](const cache::Hit& hit) {
        rw.age = hit.age;
        return Answered{dns::write_answer(hit.answer->wire, hit.answer->parsed, rw, out), AnswerSource::Cache,
                        verdict.zone};
    };

    const double now = options_.clock();
    std::optional<cache::Hit> hit = tiers_.lookup(key, now);
    if (hit && hit->freshness != cache::Freshness::Stale) {
        ++stats_.cache_hits;
        if (hit->freshness == cache::Freshness::Refresh && options_.prefetch) prefetch(key, route_for(verdict));
        return from_cache(*hit);
    }
    ++stats_.cache_misses;
    const Route route = route_for(verdict);
    const auto serve_stale = [&](const cache::Answer& stale) {
        ++stats_.stale_served;
        rw.fixed_ttl = options_.stale_ttl;
        rw.ede = dns::EdeCode::StaleAnswer;
        return Answered{dns::write_answer(stale.wire, stale.parsed, rw, out), AnswerSource::Stale, verdict.zone};
    };
    if (hit && now - hit->answer->refresh_failed_at.load(std::memory_order_relaxed) < options_.stale_recheck) {
        return serve_stale(*hit->answer);
    }
    const Fetched fresh = hit && refreshes_in_background(route) ? refresh_stale(key, hit->answer, route)
                                                                : fetch(key, FetchFor::Client, route);
    // An upstream's SERVFAIL is an answer, but an expired one of ours is the better answer (RFC 8767).
    if (fresh.answer && !(hit && fresh.answer->parsed.header.rcode() == dns::Rcode::ServFail)) {
        if (fresh.source != AnswerSource::Upstream) {  // straight from upstream it is not a second old: spare the clock
            const double age = options_.clock() - fresh.answer->stored_at;
            rw.age = age > 0 ? static_cast<std::uint32_t>(age) : 0;
        }
        return {dns::write_answer(fresh.answer->wire, fresh.answer->parsed, rw, out), fresh.source, verdict.zone};
    }
    if (!hit && tiers_.has_shared()) hit = tiers_.lookup(key, options_.clock());  // fetch may have left Redis' copy
    if (hit && hit->freshness != cache::Freshness::Stale)
        return from_cache(*hit);  // stored meanwhile by another flight
    if (hit) {
        if (!refreshes_in_background(route))
            hit->answer->refresh_failed_at.store(options_.clock(), std::memory_order_relaxed);
        return serve_stale(*hit->answer);
    }
    ++stats_.servfail;
    return {dns::make_error_response(query, dns::Rcode::ServFail, out, our_opt(q, fresh.failure)), kOurs, verdict.zone};
}

std::optional<Resolver::Answered> Resolver::answer_by_policy(const policy::Policy::Query& query,
                                                             const policy::Verdict& verdict, std::size_t limit,
                                                             std::span<std::byte> out) {
    const policy::ReplyRoom room{.limit = limit, .opt = our_opt(query.parsed)};
    if (verdict.decision == policy::Decision::Blocked) {
        ++stats_.blocked_answers;
        return Answered{policy_->answer_blocked(query, verdict, room, out), AnswerSource::Blocked};
    }
    const std::optional<policy::LocalAnswer> local = policy_->answer_local(query, verdict, room, out);
    if (!local) return std::nullopt;  // not a query local data answers (another class): forwarded
    if (verdict.decision == policy::Decision::Special) {
        ++stats_.special_answers;
        return Answered{local->size, AnswerSource::Special};
    }
    ++stats_.local_answers;
    const std::size_t size = local->external_target != 0 ? append_cname_target(query, *local, limit, out) : local->size;
    return Answered{size, AnswerSource::LocalData};
}

std::size_t Resolver::append_cname_target(const policy::Policy::Query& query, const policy::LocalAnswer& local,
                                          std::size_t limit, std::span<std::byte> out) {
    const std::span<const std::byte> response = out.first(local.size);
    dns::Message ours;
    const auto target = dns::read_name(response, local.external_target);
    if (!target || dns::parse_message(response, ours) != dns::ParseStatus::Ok || ours.header.nscount != 0) {
        return local.size;
    }
    // The target as a query of the client's type, class and DO and CD bits, so that it shares the cache and the
    // flights of everyone else's.
    std::vector<std::byte> ask(dns::kHeaderSize);
    dns::write_u16(ask, 2, static_cast<std::uint16_t>(dns::kFlagRd | (query.parsed.header.flags & dns::kFlagCd)));
    dns::write_u16(ask, 4, 1);
    const auto name = response.subspan(local.external_target, target->length);
    ask.insert(ask.end(), name.begin(), name.end());
    dns::lowercase_name(std::span(ask).subspan(dns::kHeaderSize));
    ask.resize(ask.size() + 4);
    dns::write_u16(ask, ask.size() - 4, query.parsed.question.qtype);
    dns::write_u16(ask, ask.size() - 2, query.parsed.question.qclass);
    if (query.parsed.edns.present) {
        dns::write_u16(ask, 10, 1);
        ask.resize(ask.size() + dns::kOptRecordSize);
        dns::write_opt(ask, ask.size() - dns::kOptRecordSize, {.dnssec_ok = query.parsed.edns.dnssec_ok});
    }
    dns::Message m;
    if (dns::parse_message(ask, m) != dns::ParseStatus::Ok) return local.size;
    const dns::QueryKey key(ask, m);
    const policy::Verdict verdict = policy_->route(key.name());
    if (verdict.decision != policy::Decision::Forward) return local.size;  // a blocked target is not looked up

    cache::AnswerPtr answer;
    std::uint32_t age = 0;
    if (const auto hit = tiers_.lookup(key, options_.clock()); hit && hit->freshness != cache::Freshness::Stale) {
        answer = hit->answer;
        age = hit->age;
    } else {
        answer = fetch(key, FetchFor::Client, route_for(verdict)).answer;
    }
    if (!answer) return local.size;
    const dns::Rcode rcode = answer->parsed.header.rcode();
    if (rcode != dns::Rcode::NoError && rcode != dns::Rcode::NxDomain) return local.size;

    // Our answer without its OPT record, the target's answer records, the OPT record again; the target's RCODE
    // (RFC 6604: the last name's).
    const std::size_t records_end = ours.edns.present ? ours.edns.offset : ours.end;
    std::vector<std::byte> joined(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(records_end));
    const std::optional<std::uint16_t> added = dns::append_answer_records(answer->wire, answer->parsed, age, joined);
    if (!added) return local.size;
    joined.insert(joined.end(), response.begin() + static_cast<std::ptrdiff_t>(records_end), response.end());
    if (joined.size() > limit || joined.size() > out.size()) return local.size;
    dns::write_u16(joined, 6, static_cast<std::uint16_t>(ours.header.ancount + *added));
    dns::write_u16(joined, 2,
                   static_cast<std::uint16_t>((ours.header.flags & ~0x000fu) | static_cast<unsigned>(rcode)));
    std::copy(joined.begin(), joined.end(), out.begin());
    return joined.size();
}

Resolver::Route Resolver::route_for(const policy::Verdict& verdict) const {
    return {routes_[verdict.zone < routes_.size() ? verdict.zone : 0], verdict};
}

std::optional<dns::OptRecord> Resolver::our_opt(const dns::Message& query,
                                                std::optional<dns::EdeCode> ede) const noexcept {
    if (!query.edns.present) return std::nullopt;
    return dns::OptRecord{
        .udp_payload = static_cast<std::uint16_t>(options_.udp_payload),
        .dnssec_ok = query.edns.dnssec_ok,
        .ede = ede,
    };
}

std::size_t Resolver::not_implemented(std::span<const std::byte> query, const dns::Header& header,
                                      std::span<std::byte> out) {
    std::optional<dns::OptRecord> opt;
    if (header.ancount == 0 && header.nscount == 0 && header.arcount == 1) {
        dns::Message m;
        if (dns::parse_message(query, m) == dns::ParseStatus::Ok) opt = our_opt(m);
    }
    return dns::make_error_response(query, dns::Rcode::NotImp, out, opt);
}

Resolver::Fetched Resolver::follow(const dns::QueryKey& key, Flights::Flight& leading, core::Seconds timeout,
                                   FetchFor purpose, const Route& route) {
    ++stats_.coalesced;
    core::Ref<Flights::Flight> flight(&leading);
    core::Timeout budget(timeout);
    try {
        cache::AnswerPtr answer = flight->result.get();
        if (answer || !flight->abandoned) return {std::move(answer), AnswerSource::Coalesced, flight->failure};
        // Nobody asked on our behalf: the first follower to wake leads a new flight, the others follow it.
        ++stats_.flights_taken_over;
        return fetch(key, purpose, route);
    } catch (const core::TimeoutExpired& e) {
        if (!budget.owns(e)) throw;
        return {nullptr, AnswerSource::Coalesced, dns::EdeCode::NoReachableAuthority};
    }
}

Resolver::Fetched Resolver::fetch(const dns::QueryKey& key, FetchFor purpose, const Route& route) {
    UpstreamRoute& upstream = *route.upstream;
    if (Flights::Flight* leading = flights_.find(key)) return follow(key, *leading, upstream.budget, purpose, route);
    Flights::LeadFlight flight(flights_, key);
    Fetched fetched{nullptr, AnswerSource::SharedCache};
    const policy::PolicySnapshot policy = policy_;  // the one in force when we asked, whatever a reload does meanwhile
    core::Timeout budget(upstream.budget);          // the shared cache's lookup counts against it too
    const UpstreamFetch::Screen screen{.policy = *policy, .verdict = route.verdict};
    const SharedTier tier = route.verdict.zone == 0 ? SharedTier::used : SharedTier::skipped;
    try {
        if (tier == SharedTier::used) {
            fetched.answer = tiers_.from_shared(key, options_.clock(), purpose, [&](const cache::AnswerPtr& shared) {
                return upstream_fetch_.screened(shared, screen);
            });
        }
        if (fetched.answer) {
            ++stats_.shared_cache_hits;
        } else {
            fetched.source = AnswerSource::Upstream;
            UpstreamFetch::Asked asked = upstream_fetch_.ask(key, upstream, screen);
            // A reload while the question was out may have changed what this answer should be (new lists, another
            // zone's servers), and dropped what it cached before it: the client gets it, the cache does not.
            const bool current = policy == policy_ && route_for(route.verdict).upstream == route.upstream;
            if (asked.answer && current) {
                using Keep = UpstreamFetch::Keep;
                tiers_.store(key,
                             {.answer = asked.keep == Keep::store ? asked.answer : nullptr,
                              .shared = asked.raw_keep == Keep::store ? asked.raw : nullptr,
                              .tier = tier},
                             asked.answer->stored_at);
            }
            fetched.answer = std::move(asked.answer);
            fetched.failure = failure_ede(asked.outcome);
        }
    } catch (const core::TimeoutExpired& e) {
        if (!budget.owns(e)) throw;  // the flight lands abandoned
        fetched.failure = dns::EdeCode::NoReachableAuthority;
        ++stats_.upstream_timeouts;
        ++upstream.stats.timeouts;
        upstream_fetch_.warn(upstream.zone == "." ? "no answer within the upstream budget"
                                                  : "no answer within the budget of the zone " + upstream.zone);
    }
    flight.land(fetched.answer, fetched.failure);
    return fetched;
}

void Resolver::reconfigure(const Options& options) {
    auto clock = std::move(options_.clock);
    options_ = options;
    options_.clock = std::move(clock);
}

Resolver::Fetched Resolver::refresh_stale(const dns::QueryKey& key, const cache::AnswerPtr& stale, const Route& route) {
    const core::Seconds timer(options_.stale_client_timeout);
    // Already being refreshed (by the background greenlet of an earlier client): wait on that, within the timer.
    if (Flights::Flight* leading = flights_.find(key)) return follow(key, *leading, timer, FetchFor::Client, route);
    auto refresh = refreshes_.spawn([this, key, stale, route] {
        Fetched fresh = fetch(key, FetchFor::Client, route);
        if (!fresh.answer || fresh.answer->parsed.header.rcode() == dns::Rcode::ServFail) {
            stale->refresh_failed_at.store(options_.clock(), std::memory_order_relaxed);
        }
        return fresh;
    });
    core::Timeout within(timer);
    try {
        return refresh->get();
    } catch (const core::TimeoutExpired& e) {
        if (!within.owns(e)) throw;
    } catch (const core::GreenletKilled&) {  // the resolver is going: the stale answer is still an answer
    }
    return {nullptr, AnswerSource::Upstream};
}

void Resolver::prefetch(const dns::QueryKey& key, Route route) {
    ++stats_.prefetches;
    refreshes_.spawn([this, key, route = std::move(route)] { fetch(key, FetchFor::Prefetch, route); });
}

}  // namespace greenfinch::daemon
