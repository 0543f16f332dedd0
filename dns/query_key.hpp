// QueryKey: what makes two queries the same for the cache and for coalescing: the question name lowercased, QTYPE,
// QCLASS, and the two bits that change the answer a resolver gives: DO (DNSSEC records wanted) and CD (checking
// disabled). Held inline (no allocation) with its hash computed once.
#pragma once

#include "dns/message.hpp"
#include "dns/name.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

namespace greenfinch::dns {

class QueryKey {
public:
    static constexpr std::size_t kTrailer = 5;  // the bytes after the name: QTYPE, QCLASS and the DO/CD flags

    QueryKey() = default;
    // From a message parse_message() accepted, and the bytes it parsed.
    QueryKey(std::span<const std::byte> wire, const Message& message) noexcept;

    std::span<const std::byte> bytes() const noexcept { return {bytes_.data(), size_}; }
    std::span<const std::byte> name() const noexcept { return {bytes_.data(), size_ - kTrailer}; }
    std::uint16_t qtype() const noexcept;
    std::uint16_t qclass() const noexcept;
    bool dnssec_ok() const noexcept { return (flags() & 2) != 0; }
    bool checking_disabled() const noexcept { return (flags() & 1) != 0; }
    std::uint64_t hash() const noexcept { return hash_; }
    // Whether `m`, parsed from `wire`, asks this key's question: name (case aside), type and class.
    bool same_question(std::span<const std::byte> wire, const Message& m) const noexcept;

    friend bool operator==(const QueryKey& a, const QueryKey& b) noexcept;

private:
    std::uint8_t flags() const noexcept { return std::to_integer<std::uint8_t>(bytes_[size_ - 1u]); }
    std::array<std::byte, kMaxNameLength + 5> bytes_;  // only the first size_ bytes mean anything: not zeroed
    std::uint16_t size_ = 0;
    std::uint64_t hash_ = 0;
};

}  // namespace greenfinch::dns

template <>
struct std::hash<greenfinch::dns::QueryKey> {
    std::size_t operator()(const greenfinch::dns::QueryKey& k) const noexcept { return k.hash(); }
};
