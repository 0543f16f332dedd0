// Big-endian integers in wire data. Callers check bounds first: these do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace greenfinch::dns {

inline std::uint16_t read_u16(std::span<const std::byte> b, std::size_t at) noexcept {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[at]) << 8) | std::to_integer<unsigned>(b[at + 1]));
}
inline std::uint32_t read_u32(std::span<const std::byte> b, std::size_t at) noexcept {
    return (static_cast<std::uint32_t>(read_u16(b, at)) << 16) | read_u16(b, at + 2);
}
inline void write_u16(std::span<std::byte> b, std::size_t at, std::uint16_t v) noexcept {
    b[at] = static_cast<std::byte>(v >> 8);
    b[at + 1] = static_cast<std::byte>(v & 0xff);
}
inline void write_u32(std::span<std::byte> b, std::size_t at, std::uint32_t v) noexcept {
    write_u16(b, at, static_cast<std::uint16_t>(v >> 16));
    write_u16(b, at + 2, static_cast<std::uint16_t>(v & 0xffff));
}

}  // namespace greenfinch::dns
