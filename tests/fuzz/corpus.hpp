// A saved corpus read for the properties' Catch2 tests, the byte edits that mutate wire inputs, and inputs shown in hex
// when one breaks a property.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace greenfinch::test {

using FuzzInput = std::vector<std::byte>;

// Every file of `directory`, named, in name order: directory order is the file system's, and runs must not depend on
// it.
inline std::vector<std::pair<std::string, FuzzInput>> read_corpus(const std::filesystem::path& directory) {
    std::vector<std::pair<std::string, FuzzInput>> inputs;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        std::ifstream file(entry.path(), std::ios::binary);
        const std::vector<char> bytes{std::istreambuf_iterator<char>(file), {}};
        FuzzInput input(bytes.size());
        std::transform(bytes.begin(), bytes.end(), input.begin(), [](char c) { return static_cast<std::byte>(c); });
        inputs.emplace_back(entry.path().filename().string(), std::move(input));
    }
    std::sort(inputs.begin(), inputs.end());
    return inputs;
}

// The wire edits that find parser bugs, by number: 0 a byte, 1 a compression pointer (0b11 + offset), 2 a section count
// (set below `counts`), 3 a byte in, 4 a byte out. Other numbers change nothing.
inline void edit_wire(FuzzInput& input, std::mt19937& rng, unsigned edit, unsigned counts) {
    const auto pick = [&](std::size_t n) { return n == 0 ? 0 : rng() % n; };
    switch (edit) {
        case 0:
            if (!input.empty()) input[pick(input.size())] = static_cast<std::byte>(rng());
            break;
        case 1:
            if (input.size() > 13) {
                const std::size_t at = 12 + pick(input.size() - 13);
                const std::size_t target = pick(std::min<std::size_t>(input.size(), 0x3fff));
                input[at] = static_cast<std::byte>(0xc0 | (target >> 8));
                input[at + 1] = static_cast<std::byte>(target & 0xff);
            }
            break;
        case 2:
            if (input.size() >= 12) input[4 + 2 * pick(4) + 1] = static_cast<std::byte>(pick(counts));
            break;
        case 3:
            input.insert(input.begin() + static_cast<std::ptrdiff_t>(pick(input.size() + 1)), std::byte(rng()));
            break;
        case 4:
            if (!input.empty()) input.erase(input.begin() + static_cast<std::ptrdiff_t>(pick(input.size())));
            break;
        default: break;
    }
}

inline std::string hex(const FuzzInput& input) {
    std::ostringstream out;
    constexpr std::string_view digits = "0123456789abcdef";
    for (const auto b : input) {
        const auto v = std::to_integer<unsigned>(b);
        out << digits[v >> 4] << digits[v & 15];
    }
    return out.str();
}

}  // namespace greenfinch::test
