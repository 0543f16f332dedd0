// Coroutine stacks: the guard page below each one, and reuse from the pool in steady state.
#include "core/engine/stack_pool.hpp"
#include "core/engine/greenlet.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <vector>

using namespace greenfinch::core;
using namespace std::chrono_literals;

TEST_CASE("a stack overflow faults on the guard page instead of corrupting memory") {
    // In a child process: recurse without bound inside a greenlet; it must die of SIGSEGV (or SIGBUS).
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::signal(SIGSEGV, SIG_DFL);  // undo a sanitizer's handler: we want the kernel's verdict
        std::signal(SIGBUS, SIG_DFL);
        Hub hub;
        auto g = spawn([] {
            struct Recurse {
                static int down(volatile char* prev, int depth) {
                    volatile char frame[512];
                    frame[0] = static_cast<char>(depth);
                    if (prev) frame[1] = prev[0];
                    // The bound is never reached: 64 KiB of stack runs out first.
                    return depth < (1 << 30) ? down(frame, depth + 1) + frame[1] : 0;
                }
            };
            return Recurse::down(nullptr, 0);
        });
        g->join();
        ::_exit(0);  // not reached
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK((WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS));
}

TEST_CASE("the guard page sits right below each pooled stack") {
    // Touching the byte below the lowest usable address must fault: checked in a child process.
    StackPool pool(StackPool::Config{64 * 1024, 4});
    auto sc = pool.allocate();
    char* low = static_cast<char*>(StackPool::lowest_usable(sc));
    low[0] = 1;  // the lowest usable byte is writable
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::signal(SIGSEGV, SIG_DFL);
        *(low - 1) = 1;
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    pool.deallocate(sc);
    CHECK(pool.free_count() == 1);
}

TEST_CASE("spawning in steady state takes stacks from the pool, mapping nothing new") {
    Hub hub;
    for (int i = 0; i < 10; ++i) spawn([] { sleep(0s); });
    sleep(0s);
    sleep(0s);
    const auto mapped = RawGreenlet::thread_stacks().mapped_count();
    for (int round = 0; round < 100; ++round) {
        std::vector<Ref<Greenlet>> gs;
        for (int i = 0; i < 10; ++i) gs.push_back(spawn([] { sleep(0s); }));
        joinall(gs);
    }
    CHECK(RawGreenlet::thread_stacks().mapped_count() == mapped);
}
