// libFuzzer's entry point over list_properties.hpp: a violated property aborts, so the fuzzer saves the input.
// Build and run as wire_fuzz (README, "Fuzzing"), with tests/fuzz/list_corpus as the seed corpus. An input it saves
// belongs in tests/fuzz/list_corpus once the bug is fixed.
#include "tests/fuzz/list_properties.hpp"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string violation =
        greenfinch::test::list_property_violation(std::span(reinterpret_cast<const std::byte*>(data), size));
    if (!violation.empty()) {
        std::fprintf(stderr, "list property violated: %s\n", violation.c_str());
        std::abort();
    }
    return 0;
}
