// Domain names on the wire (RFC 1035 3.1, 4.1.4): reading them without trusting a byte.
//
// A name is a run of labels (length byte 1-63, then the label) ending in the root label (0), possibly cut short by a
// compression pointer (two bytes, 0b11 then a 14-bit offset) to a name earlier in the message. read_name() accepts a
// pointer only if it points strictly backwards from the pointer itself, past the header, to a name that ends before
// the pointer (so it cannot loop, nor run on through the pointer into what follows); it refuses the reserved label
// types (0b01, 0b10), labels past the end, names longer than 255 bytes once expanded, and names reached through more
// than kMaxPointerHops pointers (no name has more labels than that, and without a cap a message whose every name
// points at the one before costs time quadratic in its size). Given the TTL fields read so far, it also refuses a name
// with a label or a pointer that, reached through a pointer, shares a byte with one of them: TTLs are rewritten in
// stored and served copies, and a name made of TTL bytes would read differently in each.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace greenfinch::dns {

inline constexpr std::size_t kMaxNameLength = 255;
inline constexpr std::size_t kMaxLabelLength = 63;
inline constexpr std::size_t kMaxPointerHops = 127;

struct NameSpan {
    std::size_t end;     // offset just past the name where it starts (past the pointer, if it ends in one)
    std::size_t length;  // length of the expanded name in wire form, root label included (1 for the root)
    bool compressed;     // it ended in a compression pointer
};

// A name read and checked already, written out in full and lying before every TTL field (a message's question): a
// pointer past it to one of its labels needs no walk, since all that follows the label is known good and ends before
// the pointer. Most pointers in an answer lead into its question.
struct CheckedName {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::bitset<kMaxNameLength> label_starts;  // by offset from `offset`

    // The uncompressed name at `offset` of `message` (as read_name() returned it).
    CheckedName(std::span<const std::byte> message, std::size_t offset, std::size_t length) noexcept;
};

// Reads the name at `offset`. With `expanded` (at least kMaxNameLength bytes), writes the name there, uncompressed.
// `ttl_fields`: offsets of the 4-byte TTL fields that nothing reached through a pointer may touch, ascending.
std::optional<NameSpan> read_name(std::span<const std::byte> message, std::size_t offset,
                                  std::span<std::byte> expanded = {}, std::span<const std::uint16_t> ttl_fields = {},
                                  const CheckedName* checked = nullptr) noexcept;

// ASCII lowercase of a wire-form name in place (labels' length bytes are below 'A', so they are left alone).
void lowercase_name(std::span<std::byte> name) noexcept;

// The name in presentation form ("www.example.com."), for logs and tools; `wire` must be a valid uncompressed name.
// Bytes outside printable ASCII are escaped as \DDD; dots, backslashes and the characters zone files give a meaning
// (quote, semicolon, parentheses, $ and @) as \c, so that the text reads back as the same name.
void append_presentation(std::string& out, std::span<const std::byte> wire);

}  // namespace greenfinch::dns
