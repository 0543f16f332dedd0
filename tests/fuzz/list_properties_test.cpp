// The list fuzz corpus as a test: every saved input (the seeds: lists, hosts files and zone-file lines, and each input
// a fuzzer once broke something with), then a fixed-seed run of mutations from them, all checked against
// list_properties.hpp. `list_fuzz` runs the same
// checks for as long as you like.
#include "tests/fuzz/list_properties.hpp"

#include "tests/fuzz/corpus.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string_view>
#include <vector>

namespace {

using greenfinch::test::list_property_violation;
using Input = std::vector<std::byte>;

std::vector<std::pair<std::string, Input>> corpus() { return greenfinch::test::read_corpus(GREENFINCH_LIST_CORPUS); }

// The input as a C string literal, for a failure's message.
std::string escaped(const Input& input) {
    std::ostringstream out;
    constexpr std::string_view digits = "0123456789abcdef";
    for (const auto b : input) {
        const auto v = std::to_integer<unsigned>(b);
        if (v >= 0x20 && v < 0x7f && v != '\\' && v != '"') {
            out << static_cast<char>(v);
        } else {
            out << "\\x" << digits[v >> 4] << digits[v & 15];
        }
    }
    return out.str();
}

// The bytes that change how a line reads: separators, line ends, comments, dots, wildcards, address and zone marks,
// the bytes of a BOM, a letter of each case, digits, the zone-file syntax (quotes, escapes, folding, comments, the
// origin and directives) and (the literal's end) a NUL.
constexpr char kTextBytes[] = " \t\r\n#.*:%_-aZ09\xEF\xBB\xBF\";()\\@$";

// One of the edits that find parser bugs: a byte, a byte that matters to the syntax in or out, a run copied (a label
// grown past 63, a name past 255), a line duplicated.
void mutate(Input& input, std::mt19937& rng) {
    const auto pick = [&](std::size_t n) { return n == 0 ? 0 : rng() % n; };
    const auto place = [&] { return input.begin() + static_cast<std::ptrdiff_t>(pick(input.size() + 1)); };
    const auto syntax = [&] { return static_cast<std::byte>(kTextBytes[pick(sizeof kTextBytes)]); };
    switch (rng() % 6) {
        case 0:
            if (!input.empty()) input[pick(input.size())] = static_cast<std::byte>(rng());
            break;
        case 1:
            if (!input.empty()) input[pick(input.size())] = syntax();
            break;
        case 2: input.insert(place(), syntax()); break;
        case 3:
            if (!input.empty()) input.erase(input.begin() + static_cast<std::ptrdiff_t>(pick(input.size())));
            break;
        case 4:
            if (input.size() > 4) {
                const std::size_t from = pick(input.size() - 2);
                const std::size_t length = 1 + pick(std::min<std::size_t>(80, input.size() - from - 1));
                const Input run(input.begin() + static_cast<std::ptrdiff_t>(from),
                                input.begin() + static_cast<std::ptrdiff_t>(from + length));
                input.insert(place(), run.begin(), run.end());
            }
            break;
        default:
            if (input.size() > 2) {
                const std::size_t from = pick(input.size());
                auto end = std::find(input.begin() + static_cast<std::ptrdiff_t>(from), input.end(), std::byte{'\n'});
                if (end != input.end()) ++end;
                const Input line(input.begin() + static_cast<std::ptrdiff_t>(from), end);
                input.insert(place(), line.begin(), line.end());
            }
    }
}

}  // namespace

TEST_CASE("every input of the list fuzz corpus keeps the list properties") {
    const auto inputs = corpus();
    REQUIRE(inputs.size() >=
            16);  // the seeds: each format of list, hosts file and zone line, and the lines they refuse
    for (const auto& [name, input] : inputs) {
        INFO(name << ": \"" << escaped(input) << "\"");
        CHECK(list_property_violation(input).empty());
    }
}

TEST_CASE("mutations of the list fuzz corpus keep the list properties") {
    const auto inputs = corpus();
    REQUIRE_FALSE(inputs.empty());
    std::mt19937 rng(20261125);
    std::size_t broken = 0;
    for (int round = 0; round < 50000 && broken < 5; ++round) {
        Input input = inputs[rng() % inputs.size()].second;
        for (unsigned edits = 1 + rng() % 8; edits > 0; --edits) mutate(input, rng);
        const std::string violation = list_property_violation(input);
        if (violation.empty()) continue;
        ++broken;
        FAIL_CHECK(violation << " (round " << round << "): \"" << escaped(input) << "\"");
    }
    CHECK(broken == 0);
}
