// How answers are kept in Redis: keys and values, shared by every daemon of a fleet, so versioned.
//
// Key: the configured prefix (default "greenfinch:v1:"), then the question readable: the lowercased name in
// presentation form, type, class, and the DO and CD bits, e.g. "greenfinch:v1:www.example.com.:A:IN:do0cd0". The
// name ends with its dot and the fields after it have a fixed form, so the key is unambiguous whatever the name holds;
// Redis keys are binary-safe, and `redis-cli --scan --pattern 'greenfinch:v1:*example.com.*'` finds a zone's entries.
//
// Value: "GF1" (the format), the wall-clock time it was stored (unix milliseconds, big-endian u64), the entry TTL
// (big-endian u32), then the answer in wire format with its TTLs as stored. A reader that gets anything else (another
// format, a foreign value under our prefix, a truncated one, an answer to another question) treats it as a miss.
#pragma once

#include "cache/cache.hpp"
#include "dns/query_key.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace greenfinch::cache {

std::string redis_key(std::string_view prefix, const dns::QueryKey& key);

std::string encode_redis_value(const Answer& answer, double stored_at_unix);

struct RedisValue {
    std::vector<std::byte> wire;
    dns::Message parsed;
    double stored_at_unix = 0;
    std::uint32_t ttl = 0;
};
// nullopt unless `value` is ours, whole, and answers exactly `key`'s question.
std::optional<RedisValue> decode_redis_value(std::string_view value, const dns::QueryKey& key);

}  // namespace greenfinch::cache
