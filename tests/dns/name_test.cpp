// Name helpers: case folding must touch ASCII letters only, whatever the length and alignment of the name.
#include "dns/name.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

using namespace greenfinch::dns;

TEST_CASE("lowercase_name folds A-Z and leaves every other byte value alone, at any length and offset") {
    std::vector<std::byte> all(256 + 16);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::byte>(i % 256);
    for (std::size_t offset = 0; offset < 9; ++offset) {
        for (std::size_t length : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 255u}) {
            std::vector<std::byte> name(all.begin() + static_cast<long>(offset),
                                        all.begin() + static_cast<long>(offset + length));
            lowercase_name(name);
            for (std::size_t i = 0; i < length; ++i) {
                const auto before = std::to_integer<unsigned>(all[offset + i]);
                const unsigned want = (before >= 'A' && before <= 'Z') ? before + 32 : before;
                REQUIRE(std::to_integer<unsigned>(name[i]) == want);
            }
        }
    }
}
