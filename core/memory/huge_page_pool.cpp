#include "core/memory/huge_page_pool.hpp"

#include <pthread.h>
#include <sys/mman.h>

#include <csignal>
#include <cstdint>
#include <new>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels refuse it with EINVAL, which is fine
#endif

namespace greenfinch::core {

namespace {
// A block not handed out is off limits under AddressSanitizer, as freed heap memory would be.
void poison([[maybe_unused]] void* p, [[maybe_unused]] std::size_t n) noexcept {
#if defined(__SANITIZE_ADDRESS__)
    ASAN_POISON_MEMORY_REGION(p, n);
#endif
}
void unpoison([[maybe_unused]] void* p, [[maybe_unused]] std::size_t n) noexcept {
#if defined(__SANITIZE_ADDRESS__)
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
}
}  // namespace

HugePagePool::~HugePagePool() {
    preparer_.request_stop();
    if (preparer_.joinable()) preparer_.join();
    if (spare_) ::munmap(spare_, kChunk);
    for (std::byte* chunk : chunks_) {
        unpoison(chunk, kChunk);
        ::munmap(chunk, kChunk);
    }
}

HugePagePool::Stats HugePagePool::stats() const {
    std::lock_guard lock(mutex_);
    return {chunks_.size(), spare_ ? std::size_t{1} : 0, in_use_, outside_};
}

std::byte* HugePagePool::map_chunk() {
    // Twice the size, then the aligned chunk inside it kept and the rest given back: a huge page needs a 2 MiB-aligned
    // range, which mmap alone does not promise.
    void* raw = ::mmap(nullptr, 2 * kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto base = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t start = (base + kChunk - 1) & ~(std::uintptr_t{kChunk} - 1);
    if (start > base) ::munmap(raw, start - base);
    if (const std::uintptr_t tail = base + 2 * kChunk - (start + kChunk); tail > 0) {
        ::munmap(reinterpret_cast<void*>(start + kChunk), tail);
    }
    auto* chunk = reinterpret_cast<std::byte*>(start);
    ::madvise(chunk, kChunk, MADV_HUGEPAGE);
    ::madvise(chunk, kChunk, MADV_POPULATE_WRITE);
    return chunk;
}

void HugePagePool::add_chunk() {
    std::byte* chunk = std::exchange(spare_, nullptr);
    if (!chunk) chunk = map_chunk();  // the preparer has not caught up (or this is the first chunk)
    chunks_.push_back(chunk);
    poison(chunk, kChunk);
    next_ = chunk;
    end_ = chunk + kChunk;
    want_spare_ = true;
    if (!preparer_.joinable()) {
        preparer_ = std::jthread([this](std::stop_token stop) { prepare_spares(stop); });
    } else {
        spare_wanted_.notify_one();
    }
}

void HugePagePool::prepare_spares(std::stop_token stop) {
    // Signals are for the threads that handle them: one sent to the process must never land here.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::unique_lock lock(mutex_);
    while (spare_wanted_.wait(lock, stop, [this] { return want_spare_; })) {
        want_spare_ = false;
        lock.unlock();
        std::byte* chunk = nullptr;
        try {
            chunk = map_chunk();
        } catch (const std::bad_alloc&) {
            // Out of memory: the next chunk will be mapped when needed, and fail there for the caller to see.
        }
        lock.lock();
        if (spare_ && chunk) {
            ::munmap(chunk, kChunk);
        } else if (chunk) {
            spare_ = chunk;
        }
    }
}

void* HugePagePool::do_allocate(std::size_t bytes, std::size_t alignment) {
    if (!inside(bytes, alignment)) {
        void* p = ::operator new(bytes, std::align_val_t(alignment));
        std::lock_guard lock(mutex_);
        ++outside_;
        return p;
    }
    const std::size_t c = size_class(bytes);
    const std::size_t size = (c + 1) * kGranule;
    std::lock_guard lock(mutex_);
    if (FreeBlock* block = free_[c]) {
        unpoison(block, size);
        free_[c] = block->next;
        ++in_use_;
        return block;
    }
    // The rest of a chunk too small for this block stays unused: at most kMaxBlock of every kChunk.
    if (static_cast<std::size_t>(end_ - next_) < size) add_chunk();
    std::byte* block = next_;
    next_ += size;
    unpoison(block, size);
    ++in_use_;
    return block;
}

void HugePagePool::do_deallocate(void* block, std::size_t bytes, std::size_t alignment) {
    if (!inside(bytes, alignment)) {
        ::operator delete(block, bytes, std::align_val_t(alignment));
        std::lock_guard lock(mutex_);
        --outside_;
        return;
    }
    const std::size_t c = size_class(bytes);
    std::lock_guard lock(mutex_);
    auto* freed = static_cast<FreeBlock*>(block);
    freed->next = free_[c];
    free_[c] = freed;
    poison(block, (c + 1) * kGranule);
    --in_use_;
}

}  // namespace greenfinch::core
