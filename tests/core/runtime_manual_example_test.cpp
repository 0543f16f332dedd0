// The example of docs/runtime.md ("In one page"), verbatim in spirit: if this breaks, the manual is lying.
#include "core/engine/greenlet.hpp"
#include "core/primitives/queue.hpp"

#include <catch2/catch.hpp>

using namespace greenfinch::core;
using namespace std::chrono_literals;

TEST_CASE("README: a worker sums a bounded queue until a scoped Timeout tells it the jobs ran out") {
    Hub hub;
    Queue<int> jobs(100);
    auto worker = spawn([&] {
        int sum = 0;
        for (;;) {
            Timeout t(50ms);
            try {
                sum += jobs.get();
            } catch (const TimeoutExpired& e) {
                if (!t.owns(e)) throw;
                return sum;
            }
        }
    });
    for (int i = 1; i <= 10; ++i) jobs.put(i);
    CHECK(worker->get() == 55);
}
