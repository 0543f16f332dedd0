#include "dns/query_key.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace greenfinch::dns {

namespace {
// Eight bytes at a time, each word multiplied in, then murmur3's finaliser so that every bit of the result depends
// on every input bit: the shard takes the top bits and the index the low ones.
std::uint64_t hash_bytes(std::span<const std::byte> b) noexcept {
    const auto word = [&b](std::size_t at) {
        std::uint64_t w;
        std::memcpy(&w, b.data() + at, 8);
        return w;
    };
    const auto mix = [](std::uint64_t h, std::uint64_t w) {
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        return h ^ (h >> 32);
    };
    std::uint64_t h = b.size();
    std::size_t at = 0;
    for (; at + 8 <= b.size(); at += 8) h = mix(h, word(at));
    if (at < b.size()) {
        if (b.size() >= 8) {
            h = mix(h, word(b.size() - 8));  // the last eight bytes, overlapping the words before
        } else {
            std::uint64_t w = 0;
            std::memcpy(&w, b.data(), b.size());
            h = mix(h, w);
        }
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}
}  // namespace

QueryKey::QueryKey(std::span<const std::byte> wire, const Message& m) noexcept {
    const std::size_t n = m.question.name_length;
    std::memcpy(bytes_.data(), wire.data() + m.question.name_offset, n);
    lowercase_name(std::span(bytes_.data(), n));
    write_u16(bytes_, n, m.question.qtype);
    write_u16(bytes_, n + 2, m.question.qclass);
    bytes_[n + 4] = static_cast<std::byte>((m.edns.dnssec_ok ? 2 : 0) | (m.checking_disabled() ? 1 : 0));
    size_ = static_cast<std::uint16_t>(n + 5);
    hash_ = hash_bytes(bytes());
}

std::uint16_t QueryKey::qtype() const noexcept { return read_u16(bytes_, size_ - 5u); }
std::uint16_t QueryKey::qclass() const noexcept { return read_u16(bytes_, size_ - 3u); }

bool QueryKey::same_question(std::span<const std::byte> wire, const Message& m) const noexcept {
    const std::size_t n = m.question.name_length;
    if (n != size_ - 5u || m.question.qtype != qtype() || m.question.qclass != qclass()) return false;
    std::array<std::byte, kMaxNameLength> name;
    std::memcpy(name.data(), wire.data() + m.question.name_offset, n);
    lowercase_name(std::span(name.data(), n));
    return std::memcmp(name.data(), bytes_.data(), n) == 0;
}

bool operator==(const QueryKey& a, const QueryKey& b) noexcept {
    return a.hash_ == b.hash_ && a.size_ == b.size_ && std::memcmp(a.bytes_.data(), b.bytes_.data(), a.size_) == 0;
}

}  // namespace greenfinch::dns
