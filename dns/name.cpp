#include "dns/name.hpp"

#include "dns/header.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace greenfinch::dns {

namespace {
// Whether [at, at + size) shares a byte with one of the 4-byte fields starting at `ttl_fields` (ascending).
bool overlaps_ttl_field(std::size_t at, std::size_t size, std::span<const std::uint16_t> ttl_fields) noexcept {
    if (ttl_fields.empty() || at + size <= ttl_fields.front()) return false;  // the usual case: the question's bytes
    const auto after = std::upper_bound(ttl_fields.begin(), ttl_fields.end(), at + size - 1);
    return after != ttl_fields.begin() && at < std::size_t{*(after - 1)} + 4;
}
}  // namespace

CheckedName::CheckedName(std::span<const std::byte> m, std::size_t name_offset, std::size_t name_length) noexcept
    : offset(name_offset),
      length(name_length) {
    for (std::size_t at = 0; at + 1 < length; at += 1 + std::to_integer<std::size_t>(m[offset + at])) {
        label_starts.set(at);
    }
}

std::optional<NameSpan> read_name(std::span<const std::byte> m, std::size_t offset, std::span<std::byte> expanded,
                                  std::span<const std::uint16_t> ttl_fields, const CheckedName* checked) noexcept {
    std::size_t at = offset;
    std::size_t limit = m.size();  // after a pointer: the pointer itself, since the name it leads to lies before it
    std::size_t length = 0;
    std::optional<std::size_t> end;  // set at the first pointer: the name continues elsewhere
    std::size_t hops = 0;
    for (;;) {
        if (at >= limit) return std::nullopt;
        const auto b = std::to_integer<std::size_t>(m[at]);
        const std::size_t kind = b & 0xc0;
        if (kind == 0xc0) {
            if (at + 2 > limit) return std::nullopt;
            if (end && overlaps_ttl_field(at, 2, ttl_fields)) return std::nullopt;  // a pointer made of TTL bytes
            const std::size_t target = ((b & 0x3f) << 8) | std::to_integer<std::size_t>(m[at + 1]);
            // Only strictly backwards (no loops, no forward references), and never into the header.
            if (target >= at || target < kHeaderSize) return std::nullopt;
            if (++hops > kMaxPointerHops) return std::nullopt;
            if (!end) end = at + 2;
            // Only for a pointer past the checked name. From one inside it (its bytes read as a label's), the name
            // would run on through that pointer, which the walk refuses.
            if (checked && checked->offset + checked->length <= at && target >= checked->offset &&
                target - checked->offset < checked->length && checked->label_starts.test(target - checked->offset)) {
                const std::size_t rest = checked->offset + checked->length - target;
                if (length + rest > kMaxNameLength) return std::nullopt;
                if (expanded.size() >= length + rest) std::memcpy(expanded.data() + length, m.data() + target, rest);
                return NameSpan{.end = *end, .length = length + rest, .compressed = true};
            }
            limit = at;
            at = target;
            continue;
        }
        if (kind != 0) return std::nullopt;  // 0x40 and 0x80: reserved / obsolete label types
        if (length + b + 1 > kMaxNameLength) return std::nullopt;
        if (at + 1 + b > limit) return std::nullopt;
        // Only what is reached through a pointer can lie where fields were read before.
        if (end && overlaps_ttl_field(at, 1 + b, ttl_fields)) return std::nullopt;
        if (expanded.size() >= length + b + 1) std::memcpy(expanded.data() + length, m.data() + at, b + 1);
        length += b + 1;
        if (b == 0) break;
        at += 1 + b;
    }
    return NameSpan{.end = end ? *end : at + 1, .length = length, .compressed = end.has_value()};
}

namespace {
// Within each byte, bit 7 of `from_a` says "at least 'A'" and of `past_z` "beyond 'Z'", computed on the low seven bits
// so that no carry crosses into the next byte; bytes with bit 7 set are never letters. An upper-case letter gets 0x20,
// which is bit 7 shifted down twice.
void lowercase_word(std::byte* p) noexcept {
    constexpr std::uint64_t kEach = 0x0101010101010101ull;
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    const std::uint64_t low7 = x & (0x7f * kEach);
    const std::uint64_t from_a = low7 + (0x80 - 'A') * kEach;
    const std::uint64_t past_z = low7 + (0x80 - 'Z' - 1) * kEach;
    x |= (from_a & ~past_z & ~x & (0x80 * kEach)) >> 2;
    std::memcpy(p, &x, 8);
}
}  // namespace

void lowercase_name(std::span<std::byte> name) noexcept {
    // Eight bytes at a time: every query's name goes through here.
    std::byte* p = name.data();
    std::size_t left = name.size();
    for (; left >= 8; left -= 8, p += 8) lowercase_word(p);
    if (left == 0) return;
    if (name.size() >= 8) {  // the last eight bytes again: folding a byte twice changes nothing
        lowercase_word(name.data() + name.size() - 8);
        return;
    }
    for (; left > 0; --left, ++p) {
        const auto c = std::to_integer<unsigned char>(*p);
        if (c >= 'A' && c <= 'Z') *p = static_cast<std::byte>(c | 0x20);
    }
}

void append_presentation(std::string& out, std::span<const std::byte> wire) {
    std::size_t at = 0;
    if (wire.empty() || wire[0] == std::byte{0}) {
        out += '.';
        return;
    }
    while (at < wire.size()) {
        const auto len = std::to_integer<std::size_t>(wire[at++]);
        if (len == 0) break;
        for (std::size_t i = 0; i < len && at < wire.size(); ++i, ++at) {
            const auto c = std::to_integer<unsigned char>(wire[at]);
            // The characters zone-file syntax gives a meaning, escaped so that the text reads back as this name.
            if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '$' || c == '@') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x21 || c > 0x7e) {
                out += '\\';
                out += static_cast<char>('0' + c / 100);
                out += static_cast<char>('0' + c / 10 % 10);
                out += static_cast<char>('0' + c % 10);
            } else {
                out += static_cast<char>(c);
            }
        }
        out += '.';
    }
}

}  // namespace greenfinch::dns
