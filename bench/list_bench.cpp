// Micro-benchmarks of the list parser: what loading a block list of a million names costs before the index.
//
// Target: a list of 1,000,000 names loads in well under 3 s on one core, the index included; the parser's share
// should be a small fraction of that. The lists are generated (random labels, 23 bytes a name on average, as public
// lists' names are), one name per line and in hosts format.
// Run: build/bench/list_bench
#include "policy/list_file.hpp"

#include <benchmark/benchmark.h>

#include <random>
#include <string>

using greenfinch::policy::parse_name_list;

namespace {

std::string generated_list(std::string_view prefix) {
    constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    constexpr std::string_view tops[] = {"com", "net", "org", "example.com", "co.uk", "io", "info", "de"};
    std::mt19937 rng(1);
    const auto label = [&](std::string& out, unsigned shortest, unsigned longest) {
        for (unsigned n = shortest + rng() % (longest - shortest + 1); n > 0; --n) out += alphabet[rng() % 36];
        out += '.';
    };
    std::string text = "# generated\n127.0.0.1 localhost\n";
    for (int i = 0; i < 1'000'000; ++i) {
        text += prefix;
        if (rng() % 10 < 3) label(text, 2, 6);
        label(text, 6, 12);
        label(text, 4, 9);
        text += tops[rng() % 8];
        text += '\n';
    }
    return text;
}

void parse(benchmark::State& state, std::string_view prefix) {
    const std::string text = generated_list(prefix);
    std::size_t bytes = 0;
    for (auto _ : state) {
        const auto report = parse_name_list(text, [&](std::span<const std::byte> name) { bytes += name.size(); });
        benchmark::DoNotOptimize(report.names);
    }
    benchmark::DoNotOptimize(bytes);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
    state.counters["ns_per_name"] = benchmark::Counter(static_cast<double>(state.iterations()) * 1e6,
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

// One name per line: `ads.example.com`.
static void BM_ParsePlainList(benchmark::State& state) { parse(state, ""); }
BENCHMARK(BM_ParsePlainList)->Unit(benchmark::kMillisecond);

// Hosts format: `0.0.0.0 ads.example.com`.
static void BM_ParseHostsFormatList(benchmark::State& state) { parse(state, "0.0.0.0 "); }
BENCHMARK(BM_ParseHostsFormatList)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
