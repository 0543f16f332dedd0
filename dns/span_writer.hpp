// SpanWriter: a message written into a caller's buffer, field by field, that never passes its end. A write that
// does not fit marks the writer overflowed and writes nothing from then on, so a caller checks once, at the end.
#pragma once

#include "dns/bytes.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace greenfinch::dns {

class SpanWriter {
public:
    explicit SpanWriter(std::span<std::byte> out, std::size_t at = 0) noexcept : out_(out), at_(at) {}

    std::size_t at() const noexcept { return at_; }
    bool overflowed() const noexcept { return overflowed_; }

    void bytes(std::span<const std::byte> b) noexcept {
        if (!room(b.size())) return;
        std::ranges::copy(b, out_.begin() + static_cast<std::ptrdiff_t>(at_));
        at_ += b.size();
    }
    void u16(std::uint16_t v) noexcept {
        if (!room(2)) return;
        write_u16(out_, at_, v);
        at_ += 2;
    }
    void u32(std::uint32_t v) noexcept {
        if (!room(4)) return;
        write_u32(out_, at_, v);
        at_ += 4;
    }
    // A compression pointer to `offset` of the message (below 0x4000).
    void pointer(std::size_t offset) noexcept { u16(static_cast<std::uint16_t>(0xc000 | offset)); }

private:
    bool room(std::size_t n) noexcept {
        if (overflowed_ || n > out_.size() - at_) overflowed_ = true;
        return !overflowed_;
    }

    std::span<std::byte> out_;
    std::size_t at_;
    bool overflowed_ = false;
};

}  // namespace greenfinch::dns
