// The local fuzz corpus as a test: every saved input (the seeds: a query for each name of the local data asked, of
// each kind, and each input a fuzzer once broke something with), then a fixed-seed run of mutations from them, all
// checked against local_properties.hpp. `local_fuzz` runs the same checks for as long as you like.
#include "tests/fuzz/local_properties.hpp"

#include "tests/fuzz/corpus.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>
#include <vector>

namespace {

using greenfinch::test::local_property_violation;
using Input = std::vector<std::byte>;

std::vector<std::pair<std::string, Input>> corpus() { return greenfinch::test::read_corpus(GREENFINCH_LOCAL_CORPUS); }

using greenfinch::test::hex;

// Where the question's name ends (uncompressed labels from offset 12), if it does.
std::optional<std::size_t> name_end(const Input& input) {
    std::size_t at = 12;
    while (at < input.size()) {
        const auto label = std::to_integer<std::size_t>(input[at]);
        if (label == 0) return at + 1;
        if (label > 63) return std::nullopt;
        at += label + 1;
    }
    return std::nullopt;
}

void put16(Input& input, std::size_t at, unsigned v) {
    input[at] = static_cast<std::byte>(v >> 8);
    input[at + 1] = static_cast<std::byte>(v & 0xff);
}

// The types local data answers differently, and some it holds nothing of.
constexpr std::array<unsigned, 16> kTypes = {1, 2, 5, 6, 12, 15, 16, 28, 33, 39, 41, 65, 255, 257, 99, 0};

// The edits of the wire corpus (a byte, a pointer, a count, bytes in or out, a copied run), and the ones a query's
// answer turns on: its type and class, a letter's case, a header flag, a label added or taken off, the name of
// another input, an OPT record added.
void mutate(Input& input, const std::vector<std::pair<std::string, Input>>& inputs, std::mt19937& rng) {
    const auto pick = [&](std::size_t n) { return n == 0 ? 0 : rng() % n; };
    const auto end = name_end(input);
    const bool question = end && *end + 4 <= input.size();
    const unsigned edit = static_cast<unsigned>(rng() % 12);
    switch (edit) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4: greenfinch::test::edit_wire(input, rng, edit, 3); break;
        case 5:
            if (question) put16(input, *end, kTypes[pick(kTypes.size())]);
            break;
        case 6:
            if (question) put16(input, *end + 2, std::array{1u, 1u, 255u, 3u}[pick(4)]);
            break;
        case 7:
            if (end) {
                const std::size_t at = 12 + pick(*end - 12);
                const auto c = std::to_integer<unsigned char>(input[at]);
                if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') input[at] ^= std::byte{0x20};
            }
            break;
        case 8:
            if (input.size() >= 12) {
                static constexpr std::array<unsigned, 8> kBits = {0x8000, 0x0800, 0x0400, 0x0200,
                                                                  0x0100, 0x0040, 0x0020, 0x0010};
                const unsigned bit = kBits[pick(kBits.size())];
                input[bit > 0xff ? 2 : 3] ^= static_cast<std::byte>(bit > 0xff ? bit >> 8 : bit);
            }
            break;
        case 9:
            if (end && *end > 13 && rng() % 2) {
                const auto label = std::to_integer<std::size_t>(input[12]);
                input.erase(input.begin() + 12, input.begin() + static_cast<std::ptrdiff_t>(13 + label));
            } else if (end) {
                static constexpr std::array<std::string_view, 4> kLabels = {"x", "www", "*", "mail"};
                const std::string_view label = kLabels[pick(kLabels.size())];
                Input added{static_cast<std::byte>(label.size())};
                for (const char c : label) added.push_back(static_cast<std::byte>(c));
                input.insert(input.begin() + 12, added.begin(), added.end());
            }
            break;
        case 10: {
            const Input& other = inputs[pick(inputs.size())].second;
            const auto other_end = name_end(other);
            if (end && other_end) {
                input.erase(input.begin() + 12, input.begin() + static_cast<std::ptrdiff_t>(*end));
                input.insert(input.begin() + 12, other.begin() + 12,
                             other.begin() + static_cast<std::ptrdiff_t>(*other_end));
            }
            break;
        }
        default:
            if (question && input.size() >= 12) {
                input.resize(*end + 4);
                put16(input, 10, 1);
                const Input opt{std::byte{0}, std::byte{0}, std::byte{41}, std::byte{0x10},
                                std::byte{0}, std::byte{0}, std::byte{0},  static_cast<std::byte>(rng() % 2 ? 0x80 : 0),
                                std::byte{0}, std::byte{0}, std::byte{0}};
                input.insert(input.end(), opt.begin(), opt.end());
            }
    }
}

}  // namespace

TEST_CASE("every input of the local fuzz corpus keeps the local properties") {
    const auto inputs = corpus();
    REQUIRE(inputs.size() >= 60);  // the seeds: each name and kind of name the local data holds, and some it does not
    for (const auto& [name, input] : inputs) {
        INFO(name << ": " << hex(input));
        CHECK(local_property_violation(input).empty());
    }
}

TEST_CASE("mutations of the local fuzz corpus keep the local properties") {
    const auto inputs = corpus();
    REQUIRE_FALSE(inputs.empty());
    std::mt19937 rng(20261126);
    std::size_t broken = 0;
    for (int round = 0; round < 40000 && broken < 5; ++round) {
        Input input = inputs[rng() % inputs.size()].second;
        for (unsigned edits = 1 + rng() % 3; edits > 0; --edits) mutate(input, inputs, rng);
        const std::string violation = local_property_violation(input);
        if (violation.empty()) continue;
        ++broken;
        FAIL_CHECK(violation << " (round " << round << "): " << hex(input));
    }
    CHECK(broken == 0);
}
