#include "core/memory/huge_page_pool.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

using greenfinch::core::HugePagePool;

namespace {
constexpr std::uintptr_t kChunkMask = HugePagePool::kChunk - 1;

long minor_faults() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return u.ru_minflt;
}

std::uintptr_t chunk_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p) & ~kChunkMask; }
}  // namespace

TEST_CASE("huge page pool: blocks come from one aligned chunk, a freed block is reused by its size class") {
    HugePagePool pool;
    CHECK(pool.stats().chunks == 0);  // nothing is mapped before it is needed
    std::vector<void*> blocks;
    for (int i = 0; i < 100; ++i) blocks.push_back(pool.allocate(40));
    CHECK(pool.stats().chunks == 1);
    CHECK(pool.stats().blocks_in_use == 100);
    const std::set<void*> distinct(blocks.begin(), blocks.end());
    CHECK(distinct.size() == 100);
    for (void* b : blocks) {
        CHECK(reinterpret_cast<std::uintptr_t>(b) % 16 == 0);
        CHECK(chunk_of(b) == chunk_of(blocks.front()));
        std::memset(b, 0xab, 40);  // every block is writable, for all of its size
    }
    pool.deallocate(blocks[7], 40);
    CHECK(pool.stats().blocks_in_use == 99);
    CHECK(pool.allocate(33) == blocks[7]);  // 33 to 48 bytes: the same class as 40
    void* other = pool.allocate(60);        // another class: a fresh block
    CHECK(distinct.count(other) == 0);
    for (void* b : blocks) pool.deallocate(b, 40);
    pool.deallocate(other, 60);
    CHECK(pool.stats().blocks_in_use == 0);
    CHECK(pool.stats().chunks == 1);  // kept for what comes next
}

TEST_CASE("huge page pool: a full chunk is followed by another, and large or over-aligned requests go elsewhere") {
    HugePagePool pool;
    std::vector<void*> blocks;
    const std::size_t per_chunk = HugePagePool::kChunk / HugePagePool::kMaxBlock;
    for (std::size_t i = 0; i < per_chunk + 1; ++i) blocks.push_back(pool.allocate(HugePagePool::kMaxBlock));
    CHECK(pool.stats().chunks == 2);
    CHECK(chunk_of(blocks.back()) != chunk_of(blocks.front()));
    void* large = pool.allocate(HugePagePool::kMaxBlock + 1);
    void* aligned = pool.allocate(64, 64);
    CHECK(reinterpret_cast<std::uintptr_t>(aligned) % 64 == 0);
    CHECK(pool.stats().outside == 2);
    CHECK(pool.stats().chunks == 2);
    pool.deallocate(large, HugePagePool::kMaxBlock + 1);
    pool.deallocate(aligned, 64, 64);
    CHECK(pool.stats().outside == 0);
    for (void* b : blocks) pool.deallocate(b, HugePagePool::kMaxBlock);
}

TEST_CASE("huge page pool: filling a chunk takes no page fault once it is mapped") {
    // The point of the pool: memory that grows block by block would fault once per 4 KiB page it reaches (about
    // 375 times for these 1.5 MB); the chunk is backed by a huge page, or populated, when it is mapped.
    HugePagePool pool;
    std::vector<void*> blocks{pool.allocate(1024)};
    const long before = minor_faults();
    for (int i = 0; i < 1500; ++i) {
        blocks.push_back(pool.allocate(1024));
        std::memset(blocks.back(), i & 0xff, 1024);
    }
    const long faults = minor_faults() - before;
    CHECK(pool.stats().chunks == 1);
#if defined(__SANITIZE_ADDRESS__)
    (void)faults;  // AddressSanitizer's shadow of each block faults in as the block is unpoisoned
#else
    CHECK(faults < 8);  // a few for this test's own vector, none per page of the chunk
#endif
    for (void* b : blocks) pool.deallocate(b, 1024);
}

TEST_CASE("huge page pool: blocks taken on one thread may be given back on another") {
    HugePagePool pool;
    constexpr int kPerThread = 20000;
    std::vector<void*> handed(kPerThread);
    std::thread producer([&] {
        for (int i = 0; i < kPerThread; ++i) {
            handed[static_cast<std::size_t>(i)] = pool.allocate(static_cast<std::size_t>(16 + i % 500));
        }
    });
    std::thread churn([&] {  // at the same time, another thread takes and gives back blocks of its own
        for (int i = 0; i < kPerThread; ++i) pool.deallocate(pool.allocate(200), 200);
    });
    producer.join();
    churn.join();
    std::thread consumer([&] {
        for (int i = 0; i < kPerThread; ++i) {
            pool.deallocate(handed[static_cast<std::size_t>(i)], static_cast<std::size_t>(16 + i % 500));
        }
    });
    consumer.join();
    CHECK(pool.stats().blocks_in_use == 0);
    const std::set<void*> distinct(handed.begin(), handed.end());
    CHECK(distinct.size() == handed.size());  // no block was handed out twice
}

TEST_CASE("huge page pool: the next chunk is prepared on another thread while one is cut up, and taken when due") {
    HugePagePool pool;
    const std::size_t per_chunk = HugePagePool::kChunk / HugePagePool::kMaxBlock;
    std::vector<void*> blocks{pool.allocate(HugePagePool::kMaxBlock)};
    // The spare is the pool's own thread's to make; its mapping takes a few milliseconds at most here.
    const auto spare_ready = [&pool] {
        for (int i = 0; i < 2000 && pool.stats().spares == 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return pool.stats().spares == 1;
    };
    REQUIRE(spare_ready());
    CHECK(pool.stats().chunks == 1);
    while (blocks.size() < per_chunk + 1) blocks.push_back(pool.allocate(HugePagePool::kMaxBlock));
    CHECK(pool.stats().chunks == 2);  // the spare went into use...
    CHECK(spare_ready());             // ...and another is on its way
    for (void* b : blocks) pool.deallocate(b, HugePagePool::kMaxBlock);
}
