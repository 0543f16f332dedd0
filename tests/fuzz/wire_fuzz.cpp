// libFuzzer's entry point over wire_properties.hpp: a violated property aborts, so the fuzzer saves the input.
// Build and run: README, "Fuzzing". An input it saves belongs in tests/fuzz/corpus once the bug is fixed.
#include "tests/fuzz/wire_properties.hpp"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string violation =
        greenfinch::test::wire_property_violation(std::span(reinterpret_cast<const std::byte*>(data), size));
    if (!violation.empty()) {
        std::fprintf(stderr, "wire property violated: %s\n", violation.c_str());
        std::abort();
    }
    return 0;
}
