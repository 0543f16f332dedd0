#include "dns/query_key.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace greenfinch::dns {

namespace {
// FNV-1a, 64-bit: short keys, one pass, good enough spread for a sharded map.
std::uint64_t fnv1a(std::span<const std::byte> b) noexcept {
    std::uint64_t h = 14695981039346656037ull;
    for (auto x : b) {
        h ^= std::to_integer<std::uint64_t>(x);
        h *= 1099511628211ull;
    }
    return h;
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
    hash_ = fnv1a(bytes());
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
