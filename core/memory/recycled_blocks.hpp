// RecycledBlocks: memory for objects a hub makes and destroys at a high rate (a greenlet per query), kept for reuse
// instead of going back to malloc each time, so that a query answered from cache allocates nothing
// (docs/architecture.md; tests/daemon/resolve/hit_path_allocation_test.cpp holds it to that).
//
// Blocks come in size classes of 64 bytes up to 1 KiB, each from ::operator new, so any block may also simply go
// back there: an object that outlives its hub, or dies on a thread without one, is freed as usual. At most kKeep
// blocks per class are kept, so a burst leaves a bounded amount behind. Under AddressSanitizer nothing is kept, so
// that a use after free is still caught.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace greenfinch::core {

class RecycledBlocks {
public:
    static constexpr std::size_t kGranule = 64;
    static constexpr std::size_t kClasses = 16;
#if defined(__SANITIZE_ADDRESS__)
    static constexpr std::size_t kKeep = 0;
#else
    static constexpr std::size_t kKeep = 1024;
#endif

    RecycledBlocks() = default;
    ~RecycledBlocks();
    RecycledBlocks(const RecycledBlocks&) = delete;
    RecycledBlocks& operator=(const RecycledBlocks&) = delete;

    // A block of at least `size` bytes: a kept one if there is one.
    void* allocate(std::size_t size);
    // Takes back a block from allocate() or allocate_unkept() of the same `size`.
    void deallocate(void* block, std::size_t size) noexcept;
    // A block of at least `size` bytes that deallocate() may keep, for when no RecycledBlocks is at hand.
    static void* allocate_unkept(std::size_t size) { return ::operator new(block_size(size)); }

private:
    // Sizes beyond the largest class are allocated exactly and never kept.
    static std::size_t size_class(std::size_t size) noexcept { return (size + kGranule - 1) / kGranule - 1; }
    static std::size_t block_size(std::size_t size) noexcept {
        return size_class(size) < kClasses ? (size_class(size) + 1) * kGranule : size;
    }

    std::array<std::vector<void*>, kClasses> free_;
};

}  // namespace greenfinch::core
