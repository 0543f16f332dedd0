// libFuzzer's entry point over local_properties.hpp: a violated property aborts, so the fuzzer saves the input.
// Build and run as wire_fuzz (README, "Fuzzing"), with tests/fuzz/local_corpus as the seed corpus. An input it saves
// belongs in tests/fuzz/local_corpus once the bug is fixed.
#include "tests/fuzz/local_properties.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string violation =
        greenfinch::test::local_property_violation(std::span(reinterpret_cast<const std::byte*>(data), size));
    if (!violation.empty()) {
        std::fprintf(stderr, "local property violated: %s\n", violation.c_str());
        std::abort();
    }
    return 0;
}
