// A saved corpus read for the properties' Catch2 tests, and inputs shown in hex when one breaks a property.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
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
