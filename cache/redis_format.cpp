#include "cache/redis_format.hpp"

#include "dns/bytes.hpp"
#include "dns/presentation.hpp"

#include <cmath>
#include <cstring>

namespace greenfinch::cache {

namespace {
constexpr std::string_view kMagic = "GF1";
constexpr std::size_t kHeaderSize = 3 + 8 + 4;

std::string class_name(std::uint16_t qclass) {
    switch (qclass) {
        case 1: return "IN";
        case 3: return "CH";
        case 4: return "HS";
        default: return "CLASS" + std::to_string(qclass);
    }
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
    return v;
}
}  // namespace

std::string redis_key(std::string_view prefix, const dns::QueryKey& key) {
    std::string out(prefix);
    dns::append_presentation(out, key.name());
    out += ':';
    out += dns::type_name(key.qtype());
    out += ':';
    out += class_name(key.qclass());
    out += key.dnssec_ok() ? ":do1" : ":do0";
    out += key.checking_disabled() ? "cd1" : "cd0";
    return out;
}

std::string encode_redis_value(const Answer& answer, double stored_at_unix) {
    std::string out;
    out.reserve(kHeaderSize + answer.wire.size());
    out += kMagic;
    put_be(out, static_cast<std::uint64_t>(std::llround(std::max(0.0, stored_at_unix) * 1000.0)), 8);
    put_be(out, answer.ttl, 4);
    out.append(reinterpret_cast<const char*>(answer.wire.data()), answer.wire.size());
    return out;
}

std::optional<RedisValue> decode_redis_value(std::string_view value, const dns::QueryKey& key) {
    if (value.size() < kHeaderSize + dns::kHeaderSize || !value.starts_with(kMagic)) return std::nullopt;
    RedisValue v;
    v.stored_at_unix = static_cast<double>(get_be(value, 3, 8)) / 1000.0;
    v.ttl = static_cast<std::uint32_t>(get_be(value, 11, 4));
    const std::string_view wire = value.substr(kHeaderSize);
    v.wire.resize(wire.size());
    std::memcpy(v.wire.data(), wire.data(), wire.size());
    if (dns::parse_message(v.wire, v.parsed) != dns::ParseStatus::Ok || !v.parsed.header.qr()) return std::nullopt;
    if (!key.same_question(v.wire, v.parsed)) return std::nullopt;
    return v;
}

}  // namespace greenfinch::cache
