#include "tests/fuzz/wire_properties.hpp"

#include "cache/cache.hpp"
#include "cache/policy.hpp"
#include "cache/redis_format.hpp"
#include "dns/answer.hpp"
#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/presentation.hpp"
#include "dns/query_key.hpp"

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
