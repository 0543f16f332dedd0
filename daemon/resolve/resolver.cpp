#include "daemon/resolve/resolver.hpp"

#include "core/engine/greenlet.hpp"
#include "core/engine/hub.hpp"
#include "core/primitives/timeout.hpp"
#include "dns/answer.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "dns/upstream_query.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <utility>

namespace greenfinch::daemon {

Resolver::Resolver(cache::Cache& cache, cache::Cache* shared_cache, upstream::Upstream& upstream, Options options)
    : cache_(cache),
      back_(shared_cache),
      upstream_(&upstream),
      options_(options),
      upstream_slots_(options.max_upstream_inflight) {}

Resolver::~Resolver() { refreshes_.kill(); }

double Resolver::now() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Resolver::cache_clock() noexcept {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::size_t Resolver::resolve(std::span<const std::byte> query, const QueryOrigin& origin, std::span<std::byte> out) {
    ++stats_.queries;
    const double started = options_.log_queries ? now() : 0.0;
    Source source = Source::None;
    const std::size_t n = answer(query, origin.transport, out, source);
    if (n >= dns::kHeaderSize) {
        ++stats_.responses[static_cast<std::size_t>(origin.transport)][std::to_integer<std::size_t>(out[3]) & 0x0fu];
    }
    if (options_.log_queries) log_query(query, origin, out.first(n), source, started);
    return n;
}

std::size_t Resolver::answer(std::span<const std::byte> query, Transport transport, std::span<std::byte> out,
                             Source& source) {
    source = Source::Local;
    // A standard query carries its question and at most an OPT record (as Unbound requires). Refused before the
    // parse, so records that only make work (a 64 KiB query of names pointing at each other, say) are never read.
    if (const auto h = dns::parse_header(query);
        h && !h->qr() && h->opcode() == 0 && (h->ancount != 0 || h->nscount != 0 || h->arcount > 1)) {
        const std::size_t n = dns::make_error_response(query, dns::Rcode::FormErr, out);
        (n ? stats_.formerr : stats_.dropped)++;
        return n;
    }
    dns::Message q;
    switch (dns::parse_message(query, q)) {
        case dns::ParseStatus::Drop:
            ++stats_.dropped;
            return 0;
        case dns::ParseStatus::FormErr: {
            const std::size_t n = dns::make_error_response(query, dns::Rcode::FormErr, out);
            (n ? stats_.formerr : stats_.dropped)++;
            return n;
        }
        case dns::ParseStatus::Ok:
            break;
    }
    if (q.header.qr()) {  // a response sent to us: answering it could start a loop
        ++stats_.dropped;
        return 0;
    }
    if (q.header.opcode() != 0) return dns::make_error_response(query, dns::Rcode::NotImp, out, our_opt(q));

    const dns::QueryKey key(query, q);
    dns::AnswerRewrite rw{q.header.id, query.subspan(q.question.name_offset, q.question.name_length), 0,
                          std::nullopt, transport == Transport::Udp ? dns::udp_limit(q, options_.udp_payload) : 65535,
                          q.edns.present, q.header.rd()};

    const double now = options_.clock();
    std::optional<cache::Hit> hit = cache_.lookup(key, now);
    if (hit && hit->freshness != cache::Freshness::Stale) {
        ++stats_.cache_hits;
        if (hit->freshness == cache::Freshness::Refresh && options_.prefetch) prefetch(key);
        rw.age = hit->age;
        source = Source::Cache;
        return dns::write_answer(hit->answer->wire, hit->answer->parsed, rw, out);
    }
    ++stats_.cache_misses;
    const auto serve_stale = [&](const cache::Answer& stale) {
        ++stats_.stale_served;
        rw.fixed_ttl = options_.stale_ttl;
        source = Source::Stale;
        return dns::write_answer(stale.wire, stale.parsed, rw, out);
    };
    if (hit && now - hit->answer->refresh_failed_at.load(std::memory_order_relaxed) < options_.stale_recheck) {
        return serve_stale(*hit->answer);
    }
    Source fetched = Source::Upstream;
    cache::AnswerPtr fresh = hit && refreshes_in_background() ? refresh_stale(key, hit->answer, fetched)
                                                              : fetch(key, fetched, false);
    // An upstream's SERVFAIL is an answer, but an expired one of ours is the better answer (RFC 8767).
    if (fresh && !(hit && fresh->parsed.header.rcode() == dns::Rcode::ServFail)) {
        source = fetched;
        if (fetched != Source::Upstream) {  // straight from upstream it is not a second old: spare the clock
            const double age = options_.clock() - fresh->stored_at;
            rw.age = age > 0 ? static_cast<std::uint32_t>(age) : 0;
        }
        return dns::write_answer(fresh->wire, fresh->parsed, rw, out);
    }
    if (!hit && back_) hit = cache_.lookup(key, options_.clock());  // fetch may have left Redis' copy in memory
    if (hit && hit->freshness != cache::Freshness::Stale) {  // stored meanwhile by another flight
        rw.age = hit->age;
        source = Source::Cache;
        return dns::write_answer(hit->answer->wire, hit->answer->parsed, rw, out);
    }
    if (hit) {
        if (!refreshes_in_background()) hit->answer->refresh_failed_at.store(options_.clock(), std::memory_order_relaxed);
        return serve_stale(*hit->answer);
    }
    ++stats_.servfail;
    return dns::make_error_response(query, dns::Rcode::ServFail, out, our_opt(q));
}

std::optional<dns::OptRecord> Resolver::our_opt(const dns::Message& query) const noexcept {
    if (!query.edns.present) return std::nullopt;
    return dns::OptRecord{static_cast<std::uint16_t>(options_.udp_payload), query.edns.dnssec_ok};
}

Resolver::Flight* Resolver::flight_for(const dns::QueryKey& key) {
    Flight* const* leading = flights_.find(key.hash(), [&key](Flight* f) { return *f->key == key; });
    return leading ? *leading : nullptr;
}

cache::AnswerPtr Resolver::follow(const dns::QueryKey& key, Flight& leading, core::Seconds timeout, Source& source,
                                  bool refreshing) {
    ++stats_.coalesced;
    source = Source::Coalesced;
    core::Ref<Flight> flight(&leading);
    core::Timeout budget(timeout);
    try {
        cache::AnswerPtr answer = flight->result.get();
        if (answer || !flight->abandoned) return answer;
        // Nobody asked on our behalf: the first follower to wake leads a new flight, the others follow it.
        ++stats_.flights_taken_over;
        return fetch(key, source, refreshing);
    } catch (const core::TimeoutExpired& e) {
        if (!budget.owns(e)) throw;
        return nullptr;
    }
}

cache::AnswerPtr Resolver::fetch(const dns::QueryKey& key, Source& source, bool refreshing) {
    if (Flight* leading = flight_for(key)) return follow(key, *leading, options_.upstream_timeout, source, refreshing);
    core::Ref<Flight> flight = core::make_ref<Flight>(key);
    flights_.insert(key.hash(), flight.get());
    const auto land = [&](cache::AnswerPtr answer, bool abandoned) {
        flights_.erase(key.hash(), flight.get());
        flight->abandoned = abandoned;  // then followers ask again rather than wait out their budget for nothing
        flight->result.set(std::move(answer));
    };
    cache::AnswerPtr answer;
    core::Timeout budget(options_.upstream_timeout);  // the shared cache's lookup counts against it too
    try {
        answer = from_shared_cache(key, refreshing);
        if (answer) {
            source = Source::SharedCache;
        } else {
            source = Source::Upstream;
            answer = ask_upstream(key);
        }
    } catch (const core::TimeoutExpired& e) {
        if (!budget.owns(e)) {
            land(nullptr, true);
            throw;
        }
        ++stats_.upstream_timeouts;
        warn_upstream("no answer within the upstream budget");
    } catch (...) {
        land(nullptr, true);
        throw;
    }
    land(answer, false);
    return answer;
}

cache::AnswerPtr Resolver::ask_upstream(const dns::QueryKey& key) {
    upstream_slots_.acquire();
    std::lock_guard<core::Semaphore> slot(upstream_slots_, std::adopt_lock);
    ++stats_.upstream_queries;
    dns::UpstreamQueryBuffer buffer;
    const std::span<const std::byte> query =
        dns::write_upstream_query(key, static_cast<std::uint16_t>(options_.udp_payload), buffer);
    // The hub's time of the pass that sent the query and of the one its answer woke: accurate to a pass, and no
    // clock reads (in a VM those cost more than the rest of the bookkeeping).
    core::Hub& hub = core::Hub::current();
    const double sent = hub.now();
    upstream::Reply r = upstream_->query(query, std::nullopt);
    cache_.prepare_store(key);  // the index's memory comes in while the answer is checked and parsed
    record_latency(hub.now() - sent);
    if (r.outcome == upstream::Outcome::ServersFailed) {
        // Not upstream trouble: an upstream that works says this name cannot be resolved (a broken zone, say).
        // That is an answer, kept for servfail_ttl so that clients retrying do not each reach the upstream.
        r.answer.resize(buffer.size());
        r.answer.resize(dns::make_error_response(query, dns::Rcode::ServFail, r.answer,
                                                 dns::OptRecord{static_cast<std::uint16_t>(options_.udp_payload),
                                                                key.dnssec_ok()}));
        r.outcome = upstream::Outcome::Answered;
    }
    if (r.outcome != upstream::Outcome::Answered) {
        ++stats_.upstream_failures;
        warn_upstream(r.detail.empty() ? upstream::describe(r.outcome) : r.detail);
        return nullptr;
    }
    dns::Message m;
    if (dns::parse_message(r.answer, m) != dns::ParseStatus::Ok || !m.header.qr() || !key.same_question(r.answer, m)) {
        ++stats_.upstream_failures;
        warn_upstream("a malformed answer, or one to another question");
        return nullptr;
    }
    // The OPT record clients get states what we take, not what the upstream does.
    if (m.edns.present) dns::write_u16(r.answer, m.edns.offset + 3, static_cast<std::uint16_t>(options_.udp_payload));
    const double stored_at = options_.clock();
    const std::optional<std::uint32_t> ttl = cache::cache_ttl(m, options_.policy);
    if (!ttl) return cache::Answer::make(r.answer, std::move(m), stored_at, 0);  // served, not stored
    cache::normalize_ttls(r.answer, m, *ttl, options_.policy);
    const bool servfail = m.header.rcode() == dns::Rcode::ServFail;
    cache::AnswerPtr answer = cache::Answer::make(r.answer, std::move(m), stored_at, *ttl, cache_.answer_memory());
    if (servfail) {
        // Only in memory, and never over an answer that may still be served stale: Redis keeps the fleet's
        // answers, not one daemon's moment of failure.
        const std::optional<cache::Hit> held = cache_.lookup(key, stored_at);
        if (!held || held->answer->parsed.header.rcode() == dns::Rcode::ServFail) cache_.store(key, answer);
        return answer;
    }
    cache_.store(key, answer);
    if (back_) back_->store(key, answer);  // only queued: nothing waits for the shared cache's write
    return answer;
}

void Resolver::record_latency(double seconds) noexcept {
    seconds = std::max(seconds, 0.0);  // the hub's time follows the wall clock, which may be stepped back meanwhile
    std::size_t i = 0;
    while (i < Stats::kLatencyBounds.size() && seconds > Stats::kLatencyBounds[i]) ++i;
    ++stats_.upstream_latency[i];
    stats_.upstream_latency_sum += seconds;
}

void Resolver::reconfigure(const Options& options) {
    auto clock = std::move(options_.clock);
    const int slots = options_.max_upstream_inflight;
    options_ = options;
    options_.clock = std::move(clock);
    options_.max_upstream_inflight = slots;
}

cache::AnswerPtr Resolver::from_shared_cache(const dns::QueryKey& key, bool refreshing) {
    if (!back_) return nullptr;
    std::optional<cache::Hit> hit = back_->lookup(key, options_.clock());
    if (!hit) return nullptr;
    if (hit->freshness == cache::Freshness::Refresh) {
        // As old as ours: a refresh must go upstream. Otherwise let the memory tier claim the prefetch itself.
        if (refreshing) return nullptr;
        hit->answer->refresh_claimed.store(false);
    }
    cache_.store(key, hit->answer);  // a stale copy too: it is the fallback if the upstream fails
    if (hit->freshness == cache::Freshness::Stale) return nullptr;
    ++stats_.shared_cache_hits;
    return hit->answer;
}

void Resolver::warn_upstream(std::string_view what) {
    if (auto held = upstream_warnings_.admit(now())) {
        spdlog::warn("upstream: {} (and {} more upstream failures in the last 10 s; clients get stale answers or SERVFAIL)",
                     what, *held);
    }
}

void Resolver::log_query(std::span<const std::byte> query, const QueryOrigin& origin,
                         std::span<const std::byte> response, Source source, double started) const {
    static constexpr std::array<std::string_view, 7> kSource{"dropped", "cache", "redis", "upstream", "coalesced", "stale", "local"};
    const char* transport = origin.transport == Transport::Udp ? "udp" : "tcp";
    const double ms = (now() - started) * 1000.0;
    dns::Message q;
    if (dns::parse_message(query, q) != dns::ParseStatus::Ok) {
        spdlog::info("query {} {} malformed ({} bytes) -> {} {:.2f}ms", origin.peer.to_string(), transport, query.size(),
                     response.empty() ? "dropped" : "FORMERR", ms);
        return;
    }
    std::string name;
    dns::append_presentation(name, query.subspan(q.question.name_offset, q.question.name_length));
    const std::string rcode = response.size() >= dns::kHeaderSize
                                  ? dns::rcode_name(std::to_integer<unsigned>(response[3]) & 0x0fu)
                                  : std::string("-");
    spdlog::info("query {} {} {} {} -> {} {} {:.2f}ms {}B", origin.peer.to_string(), transport, name,
                 dns::type_name(q.question.qtype), rcode, kSource[static_cast<std::size_t>(source)], ms, response.size());
}

cache::AnswerPtr Resolver::refresh_stale(const dns::QueryKey& key, const cache::AnswerPtr& stale, Source& source) {
    const core::Seconds timer(options_.stale_client_timeout);
    // Already being refreshed (by the background greenlet of an earlier client): wait on that, within the timer.
    if (Flight* leading = flight_for(key)) return follow(key, *leading, timer, source, false);
    auto refresh = refreshes_.spawn([this, key, stale] {
        Source from = Source::Upstream;
        cache::AnswerPtr fresh = fetch(key, from, false);
        if (!fresh || fresh->parsed.header.rcode() == dns::Rcode::ServFail) {
            stale->refresh_failed_at.store(options_.clock(), std::memory_order_relaxed);
        }
        return std::pair{std::move(fresh), from};
    });
    core::Timeout within(timer);
    try {
        auto [fresh, from] = refresh->get();
        source = from;
        return fresh;
    } catch (const core::TimeoutExpired& e) {
        if (!within.owns(e)) throw;
    } catch (const core::GreenletKilled&) {  // the resolver is going: the stale answer is still an answer
    }
    return nullptr;
}

void Resolver::prefetch(const dns::QueryKey& key) {
    ++stats_.prefetches;
    refreshes_.spawn([this, key] {
        Source source;
        fetch(key, source, true);
    });
}

}  // namespace greenfinch::daemon
