#include "daemon/resolve/upstream_fetch.hpp"

#include "cache/policy.hpp"
#include "core/engine/hub.hpp"
#include "dns/answer.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/upstream_query.hpp"

#include <spdlog/spdlog.h>

#include <string>

#include <mutex>
#include <optional>
#include <utility>

namespace greenfinch::daemon {

void UpstreamFetch::warn(std::string_view what) {
    if (auto held = warnings_.admit(steady_seconds())) {
        spdlog::warn(
            "upstream: {} (and {} more upstream failures in the last 10 s; clients get stale answers or SERVFAIL)",
            what, *held);
    }
}

UpstreamFetch::Asked UpstreamFetch::ask(const dns::QueryKey& key, UpstreamRoute& route, const Screen& screen) {
    route.slots.acquire();
    std::lock_guard<core::Semaphore> slot(route.slots, std::adopt_lock);
    ++stats_.upstream_queries;
    ++route.stats.queries;
    const auto payload = static_cast<std::uint16_t>(options_.udp_payload);
    const dns::OptRecord ours{.udp_payload = payload, .dnssec_ok = key.dnssec_ok()};
    dns::UpstreamQueryBuffer buffer;
    const std::span<const std::byte> query = dns::write_upstream_query(key, payload, buffer);
    // The hub's time of the pass that sent the query and of the one its answer woke: accurate to a pass, and no
    // clock reads (in a VM those cost more than the rest of the bookkeeping).
    core::Hub& hub = core::Hub::current();
    const double sent = hub.now();
    upstream::Reply r = route.upstream->query(query, std::nullopt);
    tiers_.prepare_store(key);  // the index's memory comes in while the answer is checked and parsed
    stats_.record_upstream_latency(hub.now() - sent);
    if (r.outcome == upstream::Outcome::ServersFailed) {
        // Not upstream trouble: an upstream that works says this name cannot be resolved (a broken zone, say).
        // That is an answer, kept for servfail_ttl so that clients retrying do not each reach the upstream.
        r.answer.resize(buffer.size());
        r.answer.resize(dns::make_error_response(query, dns::Rcode::ServFail, r.answer, ours));
        r.outcome = upstream::Outcome::Answered;
    }
    if (r.outcome != upstream::Outcome::Answered) {
        ++stats_.upstream_failures;
        ++route.stats.failures;
        warn(r.detail.empty() ? upstream::describe(r.outcome) : r.detail);
        return {nullptr, nullptr, r.outcome};
    }
    dns::Message m;
    if (dns::parse_message(r.answer, m) != dns::ParseStatus::Ok || !m.header.qr() || !key.same_question(r.answer, m) ||
        !dns::prepare_forwarded_answer(r.answer, m, ours)) {
        ++stats_.upstream_failures;
        ++route.stats.failures;
        warn("a malformed answer, or one to another question");
        return {nullptr, nullptr, upstream::Outcome::Failed};
    }
    std::optional<std::vector<std::byte>> screened = screen_answer(r.answer, m, screen);
    if (screened && screened->empty()) return {nullptr, nullptr, upstream::Outcome::Failed};
    const double stored_at = options_.clock();
    Asked asked;
    asked.raw = make_answer(r.answer, std::move(m), stored_at, asked.raw_keep);
    if (!screened) {
        asked.answer = asked.raw;
        asked.keep = asked.raw_keep;
    } else if (dns::Message sm; dns::parse_message(*screened, sm) == dns::ParseStatus::Ok) {
        asked.answer = make_answer(*screened, std::move(sm), stored_at, asked.keep);
    } else {
        return {nullptr, nullptr, upstream::Outcome::Failed};
    }
    return asked;
}

cache::AnswerPtr UpstreamFetch::make_answer(std::vector<std::byte>& wire, dns::Message m, double stored_at,
                                            Keep& keep) {
    const std::optional<std::uint32_t> ttl = cache::cache_ttl(m, options_.policy);
    if (!ttl) {
        keep = Keep::serve_only;
        return cache::Answer::make(wire, std::move(m), stored_at, 0);
    }
    keep = Keep::store;
    cache::normalize_ttls(wire, m, *ttl, options_.policy);
    return cache::Answer::make(wire, std::move(m), stored_at, *ttl, tiers_.answer_memory());
}

cache::AnswerPtr UpstreamFetch::screened(const cache::AnswerPtr& answer, const Screen& screen) {
    std::optional<std::vector<std::byte>> screened = screen_answer(answer->wire, answer->parsed, screen);
    if (!screened) return answer;
    dns::Message m;
    if (screened->empty() || dns::parse_message(*screened, m) != dns::ParseStatus::Ok) return nullptr;
    Keep keep = Keep::store;
    return make_answer(*screened, std::move(m), answer->stored_at, keep);
}

std::optional<std::vector<std::byte>> UpstreamFetch::screen_answer(std::span<const std::byte> wire,
                                                                   const dns::Message& m, const Screen& screen) {
    policy::Policy::Screening s = screen.policy.screen(wire, m, screen.verdict);
    switch (s.outcome) {
        case policy::Policy::Screened::Kept: return std::nullopt;
        case policy::Policy::Screened::Blocked: ++stats_.cname_blocked; break;
        case policy::Policy::Screened::Filtered:
            ++stats_.rebind_filtered;
            stats_.rebind_records_removed += s.removed;
            if (auto held = rebind_warnings_.admit(steady_seconds())) {
                std::string name;
                dns::append_presentation(name, std::span(wire).subspan(m.question.name_offset, m.question.name_length));
                spdlog::warn(
                    "rebinding protection: {} private or local address(es) removed from the answer for {} "
                    "(and {} more answers filtered in the last 10 s)",
                    s.removed, name, *held);
            }
            if (s.filtered.empty()) warn("an answer rebinding protection could not filter");
            break;
    }
    return std::move(s.filtered);
}

}  // namespace greenfinch::daemon
