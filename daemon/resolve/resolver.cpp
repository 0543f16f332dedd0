#include "daemon/resolve/resolver.hpp"

#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/timeout.hpp"
#include "dns/answer.hpp"
#include "dns/header.hpp"

#include <chrono>
#include <ctime>
#include <utility>

namespace greenfinch::daemon {

double steady_seconds() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double coarse_steady_seconds() noexcept {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

Resolver::Resolver(cache::Cache& cache, cache::Cache* shared_cache, upstream::Upstream& upstream, Options options)
    : options_(std::move(options)),
      tiers_(cache, shared_cache),
      upstream_fetch_(upstream, tiers_, options_, stats_) {}

Resolver::~Resolver() { refreshes_.kill(); }

std::size_t Resolver::resolve(std::span<const std::byte> query, const QueryOrigin& origin, std::span<std::byte> out) {
    ++stats_.queries;
    const double started = options_.log_queries ? now() : 0.0;
    const Answered a = answer(query, origin.transport, out);
    if (const std::optional<dns::Header> h = dns::parse_header(out.first(a.size))) {
        ++stats_.responses[static_cast<std::size_t>(origin.transport)][static_cast<std::size_t>(h->rcode())];
    }
    if (options_.log_queries) log_query(query, origin, out.first(a.size), a.source, now() - started);
    return a.size;
}

Resolver::Answered Resolver::answer(std::span<const std::byte> query, Transport transport, std::span<std::byte> out) {
    constexpr AnswerSource kLocal = AnswerSource::Local;
    // A standard query carries its question and at most an OPT record (as Unbound requires). Refused before the
    // parse, so records that only make work (a 64 KiB query of names pointing at each other, say) are never read.
    if (const auto h = dns::parse_header(query);
        h && !h->qr() && h->opcode() == 0 && (h->ancount != 0 || h->nscount != 0 || h->arcount > 1)) {
        const std::size_t n = dns::make_error_response(query, dns::Rcode::FormErr, out);
        (n ? stats_.formerr : stats_.dropped)++;
        return {n, kLocal};
    }
    dns::Message q;
    switch (dns::parse_message(query, q)) {
        case dns::ParseStatus::Drop: ++stats_.dropped; return {0, kLocal};
        case dns::ParseStatus::FormErr: {
            const std::size_t n = dns::make_error_response(query, dns::Rcode::FormErr, out);
            (n ? stats_.formerr : stats_.dropped)++;
            return {n, kLocal};
        }
        case dns::ParseStatus::Ok: break;
    }
    if (q.header.qr()) {  // a response sent to us: answering it could start a loop
        ++stats_.dropped;
        return {0, kLocal};
    }
    if (q.header.opcode() != 0) return {dns::make_error_response(query, dns::Rcode::NotImp, out, our_opt(q)), kLocal};

    const dns::QueryKey key(query, q);
    dns::AnswerRewrite rw{
        .id = q.header.id,
        .client_qname = query.subspan(q.question.name_offset, q.question.name_length),
        .limit = transport == Transport::Udp ? dns::udp_limit(q, options_.udp_payload) : 65535,
        .client_edns = q.edns.present,
        .client_rd = q.header.rd(),
    };
    const auto from_cache = [&](const cache::Hit& hit) {
        rw.age = hit.age;
        return Answered{dns::write_answer(hit.answer->wire, hit.answer->parsed, rw, out), AnswerSource::Cache};
    };

    const double now = options_.clock();
    std::optional<cache::Hit> hit = tiers_.lookup(key, now);
    if (hit && hit->freshness != cache::Freshness::Stale) {
        ++stats_.cache_hits;
        if (hit->freshness == cache::Freshness::Refresh && options_.prefetch) prefetch(key);
        return from_cache(*hit);
    }
    ++stats_.cache_misses;
    const auto serve_stale = [&](const cache::Answer& stale) {
        ++stats_.stale_served;
        rw.fixed_ttl = options_.stale_ttl;
        return Answered{dns::write_answer(stale.wire, stale.parsed, rw, out), AnswerSource::Stale};
    };
    if (hit && now - hit->answer->refresh_failed_at.load(std::memory_order_relaxed) < options_.stale_recheck) {
        return serve_stale(*hit->answer);
    }
    const Fetched fresh =
        hit && refreshes_in_background() ? refresh_stale(key, hit->answer) : fetch(key, FetchFor::Client);
    // An upstream's SERVFAIL is an answer, but an expired one of ours is the better answer (RFC 8767).
    if (fresh.answer && !(hit && fresh.answer->parsed.header.rcode() == dns::Rcode::ServFail)) {
        if (fresh.source != AnswerSource::Upstream) {  // straight from upstream it is not a second old: spare the clock
            const double age = options_.clock() - fresh.answer->stored_at;
            rw.age = age > 0 ? static_cast<std::uint32_t>(age) : 0;
        }
        return {dns::write_answer(fresh.answer->wire, fresh.answer->parsed, rw, out), fresh.source};
    }
    if (!hit && tiers_.has_shared()) hit = tiers_.lookup(key, options_.clock());  // fetch may have left Redis' copy
    if (hit && hit->freshness != cache::Freshness::Stale)
        return from_cache(*hit);  // stored meanwhile by another flight
    if (hit) {
        if (!refreshes_in_background())
            hit->answer->refresh_failed_at.store(options_.clock(), std::memory_order_relaxed);
        return serve_stale(*hit->answer);
    }
    ++stats_.servfail;
    return {dns::make_error_response(query, dns::Rcode::ServFail, out, our_opt(q)), kLocal};
}

std::optional<dns::OptRecord> Resolver::our_opt(const dns::Message& query) const noexcept {
    if (!query.edns.present) return std::nullopt;
    return dns::OptRecord{static_cast<std::uint16_t>(options_.udp_payload), query.edns.dnssec_ok};
}

Resolver::Fetched Resolver::follow(const dns::QueryKey& key, Flights::Flight& leading, core::Seconds timeout,
                                   FetchFor purpose) {
    ++stats_.coalesced;
    core::Ref<Flights::Flight> flight(&leading);
    core::Timeout budget(timeout);
    try {
        cache::AnswerPtr answer = flight->result.get();
        if (answer || !flight->abandoned) return {std::move(answer), AnswerSource::Coalesced};
        // Nobody asked on our behalf: the first follower to wake leads a new flight, the others follow it.
        ++stats_.flights_taken_over;
        return fetch(key, purpose);
    } catch (const core::TimeoutExpired& e) {
        if (!budget.owns(e)) throw;
        return {nullptr, AnswerSource::Coalesced};
    }
}

Resolver::Fetched Resolver::fetch(const dns::QueryKey& key, FetchFor purpose) {
    if (Flights::Flight* leading = flights_.find(key)) return follow(key, *leading, options_.upstream_timeout, purpose);
    Flights::LeadFlight flight(flights_, key);
    Fetched fetched{nullptr, AnswerSource::SharedCache};
    core::Timeout budget(options_.upstream_timeout);  // the shared cache's lookup counts against it too
    try {
        fetched.answer = tiers_.from_shared(key, options_.clock(), purpose);
        if (fetched.answer) {
            ++stats_.shared_cache_hits;
        } else {
            fetched.source = AnswerSource::Upstream;
            fetched.answer = upstream_fetch_.ask(key);
        }
    } catch (const core::TimeoutExpired& e) {
        if (!budget.owns(e)) throw;  // the flight lands abandoned
        ++stats_.upstream_timeouts;
        upstream_fetch_.warn("no answer within the upstream budget");
    }
    flight.land(fetched.answer);
    return fetched;
}

void Resolver::reconfigure(const Options& options) {
    auto clock = std::move(options_.clock);
    const int slots = options_.max_upstream_inflight;
    options_ = options;
    options_.clock = std::move(clock);
    options_.max_upstream_inflight = slots;
}

Resolver::Fetched Resolver::refresh_stale(const dns::QueryKey& key, const cache::AnswerPtr& stale) {
    const core::Seconds timer(options_.stale_client_timeout);
    // Already being refreshed (by the background greenlet of an earlier client): wait on that, within the timer.
    if (Flights::Flight* leading = flights_.find(key)) return follow(key, *leading, timer, FetchFor::Client);
    auto refresh = refreshes_.spawn([this, key, stale] {
        Fetched fresh = fetch(key, FetchFor::Client);
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

void Resolver::prefetch(const dns::QueryKey& key) {
    ++stats_.prefetches;
    refreshes_.spawn([this, key] { fetch(key, FetchFor::Prefetch); });
}

}  // namespace greenfinch::daemon
