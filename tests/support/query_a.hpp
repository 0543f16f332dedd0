// query_a(id): the smallest standard query, "a." type A with RD, as a client's bytes: for tests of the serving path
// that care about answers coming back, not about names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace greenfinch::test {

inline std::vector<std::byte> query_a(std::uint16_t id) {
    const std::uint8_t raw[] = {static_cast<std::uint8_t>(id >> 8),
                                static_cast<std::uint8_t>(id),
                                1,
                                0,
                                0,
                                1,
                                0,
                                0,
                                0,
                                0,
                                0,
                                0,
                                1,
                                'a',
                                0,
                                0,
                                1,
                                0,
                                1};
    std::vector<std::byte> out;
    for (auto b : raw) out.push_back(static_cast<std::byte>(b));
    return out;
}

}  // namespace greenfinch::test
