#include "policy/policy.hpp"

#include "dns/records.hpp"
#include "policy/rebind.hpp"

namespace greenfinch::policy {

namespace {
const std::string kRootZone = ".";
}  // namespace

const std::string& Policy::zone_name(std::uint16_t zone) const noexcept {
    return zone < parts_.zones.size() ? parts_.zones[zone] : kRootZone;
}

std::optional<LocalAnswer> Policy::answer_local(const Query& query, const Verdict& verdict, const ReplyRoom& room,
                                                std::span<std::byte> out) const noexcept {
    const LocalData& data = verdict.decision == Decision::Special ? parts_.special : parts_.local;
    return data.answer(
        {.wire = query.wire, .message = query.parsed, .qname = query.name, .limit = room.limit, .opt = room.opt}, out);
}

std::size_t Policy::answer_blocked(const Query& query, const Verdict& verdict, const ReplyRoom& room,
                                   std::span<std::byte> out) const noexcept {
    return write_blocked_response({.wire = query.wire, .parsed = query.parsed, .listed_at = verdict.listed_at},
                                  parts_.block_answer, room, out);
}

Policy::Screening Policy::screen(std::span<const std::byte> wire, const dns::Message& parsed,
                                 const Verdict& verdict) const {
    Screening s;
    if (parts_.blocks) {
        dns::CnameChain chain(wire, parsed);
        while (const auto target = chain.next()) {
            if (!blocked(parts_.table, *target)) continue;
            // The response a client asking for the target itself would get, to the question asked: it is stored
            // in place of the answer, so that hits on it cost what any hit does.
            std::optional<dns::OptRecord> opt;
            if (parsed.edns.present)
                opt = dns::OptRecord{.udp_payload = parsed.edns.udp_size, .dnssec_ok = parsed.edns.dnssec_ok};
            s.filtered.resize(512);
            s.filtered.resize(write_blocked_response({.wire = wire, .parsed = parsed, .listed_at = 0},
                                                     parts_.block_answer, {.limit = 512, .opt = opt}, s.filtered));
            s.outcome = s.filtered.empty() ? Screened::Kept : Screened::Blocked;
            if (s.outcome == Screened::Blocked) return s;
        }
    }
    if (parts_.rebind_protection && !verdict.rebind_exempt) {
        RebindResult r = filter_rebinding(wire, parsed);
        switch (r.status) {
            case RebindStatus::unchanged: break;
            case RebindStatus::filtered:
                s.outcome = Screened::Filtered;
                s.filtered = std::move(r.wire);
                s.removed = r.dropped;
                break;
            case RebindStatus::failed:
                // Records that had to go could not be taken out: nothing of the answer may reach a client.
                s.outcome = Screened::Filtered;
                s.filtered.clear();
                s.removed = r.dropped;
                break;
        }
    }
    return s;
}

}  // namespace greenfinch::policy
