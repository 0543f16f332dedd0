#include "daemon/resolve/upstream_fetch.hpp"

#include "cache/policy.hpp"
#include "core/engine/hub.hpp"
#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/upstream_query.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <utility>

namespace greenfinch::daemon {

UpstreamFetch::UpstreamFetch(upstream::Upstream& upstream, CacheTiers& tiers, const ResolverOptions& options,
                             ResolverStats& stats)
    : upstream_(&upstream),
      tiers_(tiers),
      options_(options),
      stats_(stats),
      slots_(options.max_upstream_inflight) {}

void UpstreamFetch::warn(std::string_view what) {
    if (auto held = warnings_.admit(steady_seconds())) {
        spdlog::warn(
            "upstream: {} (and {} more upstream failures in the last 10 s; clients get stale answers or SERVFAIL)",
            what, *held);
    }
}

cache::AnswerPtr UpstreamFetch::ask(const dns::QueryKey& key) {
    slots_.acquire();
    std::lock_guard<core::Semaphore> slot(slots_, std::adopt_lock);
    ++stats_.upstream_queries;
    const auto payload = static_cast<std::uint16_t>(options_.udp_payload);
    dns::UpstreamQueryBuffer buffer;
    const std::span<const std::byte> query = dns::write_upstream_query(key, payload, buffer);
    // The hub's time of the pass that sent the query and of the one its answer woke: accurate to a pass, and no
    // clock reads (in a VM those cost more than the rest of the bookkeeping).
    core::Hub& hub = core::Hub::current();
    const double sent = hub.now();
    upstream::Reply r = upstream_->query(query, std::nullopt);
    tiers_.prepare_store(key);  // the index's memory comes in while the answer is checked and parsed
    stats_.record_upstream_latency(hub.now() - sent);
    if (r.outcome == upstream::Outcome::ServersFailed) {
        // Not upstream trouble: an upstream that works says this name cannot be resolved (a broken zone, say).
        // That is an answer, kept for servfail_ttl so that clients retrying do not each reach the upstream.
        r.answer.resize(buffer.size());
        r.answer.resize(
            dns::make_error_response(query, dns::Rcode::ServFail, r.answer, dns::OptRecord{payload, key.dnssec_ok()}));
        r.outcome = upstream::Outcome::Answered;
    }
    if (r.outcome != upstream::Outcome::Answered) {
        ++stats_.upstream_failures;
        warn(r.detail.empty() ? upstream::describe(r.outcome) : r.detail);
        return nullptr;
    }
    dns::Message m;
    if (dns::parse_message(r.answer, m) != dns::ParseStatus::Ok || !m.header.qr() || !key.same_question(r.answer, m)) {
        ++stats_.upstream_failures;
        warn("a malformed answer, or one to another question");
        return nullptr;
    }
    // The OPT record clients get states what we take, not what the upstream does.
    if (m.edns.present) dns::write_u16(r.answer, m.edns.offset + 3, payload);
    const double stored_at = options_.clock();
    const std::optional<std::uint32_t> ttl = cache::cache_ttl(m, options_.policy);
    if (!ttl) return cache::Answer::make(r.answer, std::move(m), stored_at, 0);  // served, not stored
    cache::normalize_ttls(r.answer, m, *ttl, options_.policy);
    cache::AnswerPtr answer = cache::Answer::make(r.answer, std::move(m), stored_at, *ttl, tiers_.answer_memory());
    tiers_.store(key, answer, stored_at);
    return answer;
}

}  // namespace greenfinch::daemon
