// HugePagePool: memory for many small, long-lived blocks that come and go in any order, from any thread: a cache's
// entries. A std::pmr::memory_resource.
//
// Blocks are carved from 2 MiB chunks, each aligned so that the kernel can back it with one transparent huge page,
// asked to (MADV_HUGEPAGE), and filled at once (MADV_POPULATE_WRITE), so memory that grows block by block costs a
// page fault per chunk instead of one per 4 KiB page: on a virtual machine a fault is dear, and a cache growing by
// one answer per forwarded query took one every few queries. Where the kernel gives no huge page, the chunk is still
// populated in one call, far cheaper per page than faulting each in. Either advice failing leaves an ordinary
// mapping. Filling a chunk takes long (longer still for memory the VM's host has not backed yet): too long to stall a
// hub for, so while one chunk is being cut up, a thread of the pool's own prepares the next (a spare); only a pool that
// outruns it maps a chunk on the spot.
//
// Freed blocks are kept by size class (16-byte steps) for reuse; chunks go back to the system only when the pool is
// destroyed, which therefore must outlive every block taken from it. Requests above kMaxBlock, or aligned beyond
// 16 bytes, go to operator new. Thread-safe (one mutex; an allocation holds it for a few instructions). Under
// AddressSanitizer a block is poisoned while it is not handed out.
#pragma once

#include <array>
#include <condition_variable>
#include <cstddef>
#include <memory_resource>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace greenfinch::core {

class HugePagePool final : public std::pmr::memory_resource {
public:
    static constexpr std::size_t kChunk = std::size_t{2} << 20;
    static constexpr std::size_t kGranule = 16;
    static constexpr std::size_t kMaxBlock = 4096;

    struct Stats {
        std::size_t chunks = 0;         // cut into blocks, each kChunk bytes
        std::size_t spares = 0;         // prepared ahead and not cut into yet (0 or 1)
        std::size_t blocks_in_use = 0;  // handed out from chunks and not yet given back
        std::size_t outside = 0;        // handed out from operator new (too large or too aligned) and not given back
    };

    HugePagePool() = default;
    ~HugePagePool() override;
    HugePagePool(const HugePagePool&) = delete;
    HugePagePool& operator=(const HugePagePool&) = delete;

    Stats stats() const;

private:
    struct FreeBlock {
        FreeBlock* next;
    };
    static constexpr std::size_t kClasses = kMaxBlock / kGranule;

    void* do_allocate(std::size_t bytes, std::size_t alignment) override;
    void do_deallocate(void* block, std::size_t bytes, std::size_t alignment) override;
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

    static bool inside(std::size_t bytes, std::size_t alignment) noexcept {
        return bytes <= kMaxBlock && alignment <= kGranule;
    }
    static std::size_t size_class(std::size_t bytes) noexcept { return bytes == 0 ? 0 : (bytes - 1) / kGranule; }
    // A fresh chunk, advised and populated; throws std::bad_alloc.
    static std::byte* map_chunk();
    // Makes the spare, or else a chunk mapped now, the one blocks are cut from, and asks for the next spare. Called
    // with mutex_ held.
    void add_chunk();
    void prepare_spares(std::stop_token stop);

    mutable std::mutex mutex_;
    std::condition_variable_any spare_wanted_;
    bool want_spare_ = false;
    std::byte* spare_ = nullptr;
    std::array<FreeBlock*, kClasses> free_{};
    std::byte* next_ = nullptr;  // the unused rest of the newest chunk
    std::byte* end_ = nullptr;
    std::vector<std::byte*> chunks_;
    std::size_t in_use_ = 0;
    std::size_t outside_ = 0;
    std::jthread preparer_;  // started with the first chunk
};

}  // namespace greenfinch::core
