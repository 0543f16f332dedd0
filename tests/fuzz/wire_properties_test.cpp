// The fuzz corpus as a test: every saved input (the seeds, and each input a fuzzer once broke something with), then
// a fixed-seed run of mutations from them, all checked against wire_properties.hpp. Under the sanitizer build this is
// a small fuzzer run on every CI pass; `wire_fuzz` (README, "Fuzzing") runs the same checks for as long as you like.
#include "tests/fuzz/wire_properties.hpp"

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

using greenfinch::test::wire_property_violation;
using Input = std::vector<std::byte>;

std::vector<std::pair<std::string, Input>> corpus() { return greenfinch::test::read_corpus(GREENFINCH_FUZZ_CORPUS); }

using greenfinch::test::hex;

// One of the edits that find parser bugs: a byte, a pointer (0b11 + offset), a count, bytes in or out, a copied run.
void mutate(Input& input, std::mt19937& rng) {
    const auto pick = [&](std::size_t n) { return n == 0 ? 0 : rng() % n; };
    const auto place = [&] { return input.begin() + static_cast<std::ptrdiff_t>(pick(input.size() + 1)); };
    const unsigned edit = static_cast<unsigned>(rng() % 6);
    switch (edit) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4: greenfinch::test::edit_wire(input, rng, edit, 4); break;
        default:
            if (input.size() > 4) {
                const std::size_t from = pick(input.size() - 2);
                const std::size_t length = 1 + pick(std::min<std::size_t>(16, input.size() - from - 1));
                const Input run(input.begin() + static_cast<std::ptrdiff_t>(from),
                                input.begin() + static_cast<std::ptrdiff_t>(from + length));
                input.insert(place(), run.begin(), run.end());
            }
    }
}

}  // namespace

TEST_CASE("every input of the fuzz corpus keeps the wire properties") {
    const auto inputs = corpus();
    REQUIRE(inputs.size() >= 30);  // the seeds: queries and answers of every section and record kind we check
    for (const auto& [name, input] : inputs) {
        INFO(name << ": " << hex(input));
        CHECK(wire_property_violation(input).empty());
    }
}

TEST_CASE("mutations of the fuzz corpus keep the wire properties") {
    const auto inputs = corpus();
    REQUIRE_FALSE(inputs.empty());
    std::mt19937 rng(20261124);
    std::size_t broken = 0;
    for (int round = 0; round < 100000 && broken < 5; ++round) {
        Input input = inputs[rng() % inputs.size()].second;
        for (unsigned edits = 1 + rng() % 4; edits > 0; --edits) mutate(input, rng);
        const std::string violation = wire_property_violation(input);
        if (violation.empty()) continue;
        ++broken;
        FAIL_CHECK(violation << " (round " << round << "): " << hex(input));
    }
    CHECK(broken == 0);
}
