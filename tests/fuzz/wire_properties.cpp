#include "tests/fuzz/wire_properties.hpp"

#include "cache/cache.hpp"
#include "cache/policy.hpp"
#include "cache/redis_format.hpp"
#include "dns/answer.hpp"
#include "dns/answer_filter.hpp"
#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "dns/query_key.hpp"
#include "dns/records.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace greenfinch::test {

namespace {

using dns::Message;
using dns::ParseStatus;

// Knobs drawn from the input itself, so that one input always runs the same way.
std::uint8_t knob(std::span<const std::byte> input, std::size_t i) {
    return input.size() > i ? std::to_integer<std::uint8_t>(input[input.size() - 1 - i]) : 0;
}

std::string check_error_responses(std::span<const std::byte> input) {
    static constexpr std::array rcodes = {dns::Rcode::FormErr, dns::Rcode::ServFail, dns::Rcode::Refused};
    std::vector<std::byte> out(std::size_t{knob(input, 0)} * 4 + 12 * (knob(input, 1) & 1));
    for (const auto rcode : rcodes) {
        const std::size_t n = dns::make_error_response(input, rcode, out);
        if (n > out.size()) return "an error response longer than its buffer";
        if (n == 0) continue;
        const auto header = dns::parse_header(std::span(out.data(), n));
        if (!header || !header->qr()) return "an error response that is not a response";
        // Without a question to echo, whatever went wrong, the query was malformed.
        if (header->rcode() != rcode && (header->rcode() != dns::Rcode::FormErr || header->qdcount != 0)) {
            return "an error response with another rcode";
        }
    }
    return {};
}

bool same_parse(const Message& a, const Message& b) {
    return a.ttl_offsets == b.ttl_offsets && a.end == b.end && a.question.end == b.question.end &&
           a.question.qtype == b.question.qtype && a.edns.present == b.edns.present &&
           a.soa.has_value() == b.soa.has_value();
}

// As the resolver stores an answer: TTLs normalised, then kept in memory and in Redis.
std::string check_stored(std::span<const std::byte> input, const Message& m, const dns::QueryKey& key,
                         std::vector<std::byte>& stored, Message& stored_parse) {
    cache::CachePolicy policy;
    policy.min_ttl = knob(input, 2);
    const auto ttl = cache::cache_ttl(m, policy);
    if (!ttl) return {};
    cache::normalize_ttls(stored, m, *ttl, policy);
    if (dns::parse_message(stored, stored_parse) != ParseStatus::Ok || !same_parse(m, stored_parse)) {
        return "an answer that parsed no longer parses the same once its TTLs are normalised";
    }
    for (const auto at : stored_parse.ttl_offsets) {
        if (dns::read_u32(stored, at) > *ttl) return "a record that outlives its cache entry";
    }
    const auto answer = cache::Answer::make(stored, stored_parse, 1.7e9, *ttl);
    const auto back = cache::decode_redis_value(cache::encode_redis_value(*answer, 1.7e9), key);
    if (m.header.qr() != back.has_value()) return "a stored answer that does not come back from Redis";
    if (back && (back->wire != stored || back->ttl != *ttl)) return "a stored answer that came back from Redis changed";
    return {};
}

// As a client gets an answer: its ID, its spelling of the name, TTLs aged, its size limit.
std::string check_served(std::span<const std::byte> input, std::span<const std::byte> stored, const Message& parsed) {
    std::vector<std::byte> client_name(stored.begin() + static_cast<std::ptrdiff_t>(parsed.question.name_offset),
                                       stored.begin() + static_cast<std::ptrdiff_t>(parsed.question.end - 4));
    for (std::size_t i = 0; i < client_name.size(); ++i) {
        const auto c = std::to_integer<unsigned char>(client_name[i]);
        const bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
        if (letter && ((knob(input, 3) >> (i % 8)) & 1)) client_name[i] ^= std::byte{0x20};
    }
    dns::AnswerRewrite rewrite;
    rewrite.id = 0xbeef;
    rewrite.client_qname = client_name;
    rewrite.age = knob(input, 4);
    if (knob(input, 5) & 1) rewrite.fixed_ttl = 30;
    rewrite.limit = (knob(input, 6) & 1) ? 65535 : std::size_t{512} + std::size_t{knob(input, 7)} * 16;
    rewrite.client_edns = (knob(input, 8) & 1) != 0;
    std::vector<std::byte> out(65535);
    const std::size_t n = dns::write_answer(stored, parsed, rewrite, out);
    if (n == 0 || n > rewrite.limit) return "an answer for a client that is empty or over its limit";
    Message back;
    if (dns::parse_message(std::span(out.data(), n), back) != ParseStatus::Ok) {
        return "an answer for a client that does not parse";
    }
    if (back.header.id != rewrite.id) return "an answer for a client with another ID";
    const auto echoed = std::span(out).subspan(back.question.name_offset, back.question.name_length);
    if (!std::ranges::equal(echoed, client_name)) {
        return "an answer for a client with another spelling of the name";
    }
    if (back.header.ancount + back.header.nscount + back.header.arcount == 0 && parsed.ttl_offsets.size() > 0 &&
        !back.truncated()) {
        return "records dropped without TC";
    }
    return {};
}

// A record as a reader sees it: section, type, class, TTL, owner and RDATA, names read out in full. Empty if a name
// does not read.
std::vector<std::byte> read_record(std::span<const std::byte> w, const dns::Record& r) {
    std::vector<std::byte> out;
    const auto bytes = [&](std::size_t from, std::size_t to) {
        out.insert(out.end(), w.begin() + static_cast<std::ptrdiff_t>(from),
                   w.begin() + static_cast<std::ptrdiff_t>(to));
    };
    std::array<std::byte, dns::kMaxNameLength> name{};
    bool readable = true;
    // The name at `at`, which must lie inside the record; returns the offset after it.
    const auto read = [&](std::size_t at) -> std::size_t {
        const auto n = dns::read_name(w.first(r.end()), at, name);
        if (!n) {
            readable = false;
            return r.end();
        }
        out.insert(out.end(), name.begin(), name.begin() + static_cast<std::ptrdiff_t>(n->length));
        return n->end;
    };
    out.push_back(static_cast<std::byte>(r.section));
    bytes(r.ttl_offset - 4, r.ttl_offset + 4);
    read(r.offset);
    const std::size_t at = r.rdata_offset;
    switch (r.type) {
        case dns::type::NS:
        case dns::type::CNAME:
        case dns::type::PTR:
        case dns::type::DNAME: read(at); break;
        case dns::type::MX:
            bytes(at, at + 2);
            read(at + 2);
            break;
        case dns::type::SRV:
            bytes(at, at + 6);
            read(at + 6);
            break;
        case dns::type::SOA: bytes(read(read(at)), r.end()); break;
        default: bytes(at, r.end());
    }
    if (!readable) out.clear();
    return out;
}

// Records: the walk sees what the parser saw; the CNAME chain ends in bounds; a message rebuilt without some of its
// records parses, holds exactly the others, reading as they did, and is served like any other answer.
std::string check_records(std::span<const std::byte> input, const Message& m) {
    dns::RecordWalk walk(input, m);
    std::size_t records = 0;
    std::vector<std::uint16_t> ttls;
    for (const dns::Record& r : walk) {
        ++records;
        if (r.type == dns::type::OPT) {
            if (r.offset != m.edns.offset) return "a walk that finds OPT where the parser did not";
        } else {
            ttls.push_back(static_cast<std::uint16_t>(r.ttl_offset));
        }
    }
    if (walk.failed() || records != std::size_t{m.header.ancount} + m.header.nscount + m.header.arcount) {
        return "a walk that fails on a message the parser accepted";
    }
    if (ttls != m.ttl_offsets) return "a walk that finds TTLs where the parser did not";

    dns::CnameChain chain(input, m);
    std::size_t hops = 0;
    while (const auto target = chain.next()) {
        const auto n = dns::read_name(*target, 0);
        if (!n || n->length != target->size() || n->compressed) return "a CNAME target that is not a whole name";
        if (std::ranges::any_of(*target, [](std::byte b) { return b >= std::byte{'A'} && b <= std::byte{'Z'}; })) {
            return "a CNAME target not lowercased";
        }
        if (++hops > dns::kMaxCnameHops) return "a CNAME chain longer than its bound";
    }
    if (chain.end_reason() == dns::ChainEnd::malformed || chain.end_reason() == dns::ChainEnd::none) {
        return "a CNAME chain that breaks on a message the parser accepted";
    }

    // Which records go: by their offset under a mask, the whole answer section, or the addresses.
    const std::uint8_t mask = knob(input, 9);
    const std::uint8_t mode = knob(input, 10) % 3;
    const auto choose = [&](const dns::Record& r) {
        const bool drop = mode == 0   ? ((mask >> (r.offset % 8)) & 1) != 0
                          : mode == 1 ? r.section == dns::Section::answer
                                      : r.type == dns::type::A || r.type == dns::type::AAAA;
        return drop ? dns::Keep::drop : dns::Keep::keep;
    };
    std::vector<std::vector<std::byte>> kept;
    std::array<std::size_t, 3> counts{};
    std::size_t dropped = 0;
    for (const dns::Record& r : dns::RecordWalk(input, m)) {
        if (r.type != dns::type::OPT && choose(r) == dns::Keep::drop) {
            ++dropped;
            continue;
        }
        kept.push_back(read_record(input, r));
        if (kept.back().empty()) return "a record whose names do not read, in a message the parser accepted";
        ++counts[static_cast<std::size_t>(r.section)];
    }
    const dns::FilterResult filtered = dns::filter_records(input, m, choose);
    if (dropped == 0) {
        return filtered.status == dns::FilterStatus::unchanged && filtered.wire.empty()
                   ? std::string{}
                   : "a filter that dropped nothing and still copied";
    }
    if (filtered.status == dns::FilterStatus::too_large) return {};
    if (filtered.status != dns::FilterStatus::filtered) return "a filter that fails on a message the parser accepted";
    if (filtered.dropped != dropped) return "a filter that reports another number of records dropped";
    const auto& out = filtered.wire;
    Message back;
    if (out.size() > 65535 || dns::parse_message(out, back) != ParseStatus::Ok || back.end != out.size() ||
        back.ttl_offsets != filtered.parsed.ttl_offsets) {
        return "a filtered message that does not parse, or not as the filter said";
    }
    if (back.header.ancount != counts[0] || back.header.nscount != counts[1] || back.header.arcount != counts[2] ||
        back.header.flags != m.header.flags ||
        !std::equal(input.begin() + 12, input.begin() + 12 + 4 + static_cast<std::ptrdiff_t>(m.question.name_length),
                    out.begin() + 12)) {
        return "a filtered message with another header or question";
    }
    std::size_t i = 0;
    bool same = true;
    for (const dns::Record& r : dns::RecordWalk(out, back))
        same = same && i < kept.size() && read_record(out, r) == kept[i++];
    if (!same || i != kept.size()) return "a filtered message whose records are not the ones kept, as they read";
    return check_served(input, out, back);
}

}  // namespace

std::string wire_property_violation(std::span<const std::byte> input) {
    if (auto broken = check_error_responses(input); !broken.empty()) return broken;
    Message m;
    if (dns::parse_message(input, m) != ParseStatus::Ok) return {};
    if (m.end > input.size() || m.question.end > m.end) return "a parse that reaches past the message";
    for (const auto at : m.ttl_offsets) {
        if (at < m.question.end || at + 4u > m.end) return "a TTL offset outside the records";
    }
    const std::size_t limit = dns::udp_limit(m, 4096);
    if (limit < 512 || limit > 4096) return "a UDP limit outside [512, cap]";
    const dns::QueryKey key(input, m);
    if (!key.same_question(input, m)) return "a message that does not ask its own key's question";
    if (dns::format_message(input, m).empty()) return "a message printed as nothing";

    std::vector<std::byte> stored(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(m.end));
    Message stored_parse = m;
    if (auto broken = check_stored(input, m, key, stored, stored_parse); !broken.empty()) return broken;
    if (auto broken = check_served(input, stored, stored_parse); !broken.empty()) return broken;
    if (auto broken = check_records(input, m); !broken.empty()) return broken;

    // Whatever else a shared Redis may hold under our prefix: read as a miss or as an answer to this question.
    const std::string_view raw(reinterpret_cast<const char*>(input.data()), input.size());
    for (const std::string& value : {std::string(raw), "GF1" + std::string(12, '\0') + std::string(raw)}) {
        if (const auto v = cache::decode_redis_value(value, key); v && !key.same_question(v->wire, v->parsed)) {
            return "a Redis value read as the answer to another question";
        }
    }
    return {};
}

}  // namespace greenfinch::test
