// StackPool: coroutine stacks with a guard page, kept for reuse.
//
// Each stack is one mmap: a PROT_NONE guard page at its low end, then `stack_size` bytes growing down towards it, so
// an overflow faults on the guard page instead of writing over a neighbour. Pages are only backed once touched, so a
// parked greenlet costs the few pages it used, not its whole stack. Freed stacks go to a free list (up to
// `max_free`) so that steady-state spawning maps nothing: a fresh stack costs two system calls (mmap, mprotect) and
// the page faults of touching it, a reused one neither.
//
// Every stack costs two kernel memory mappings (the guard splits it), so very many live greenlets need
// vm.max_map_count above its default of 65530; allocate() says so when mmap fails.
//
// Satisfies Boost.Context's StackAllocator concept through StackPool::Allocator. One pool per thread.
#pragma once

#include <boost/context/stack_context.hpp>

#include <cstddef>
#include <vector>

namespace greenfinch::core {

class StackPool {
public:
    struct Config {
        std::size_t stack_size = 64 * 1024;  // usable bytes, rounded up to whole pages
        std::size_t max_free = 1024;         // stacks kept mapped for reuse
    };

    explicit StackPool(Config config);
    ~StackPool();
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;

    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& sc) noexcept;

    std::size_t stack_size() const noexcept { return stack_size_; }
    std::size_t page_size() const noexcept { return page_; }
    std::size_t free_count() const noexcept { return free_.size(); }
    std::size_t mapped_count() const noexcept { return mapped_; }
    // Lowest usable address of a stack handed out by allocate(); the guard page lies just below it.
    static void* lowest_usable(const boost::context::stack_context& sc) noexcept;

    // The allocator object Boost.Context copies into a fiber; it only points back at the pool.
    class Allocator {
    public:
        explicit Allocator(StackPool& pool) noexcept : pool_(&pool) {}
        boost::context::stack_context allocate() { return pool_->allocate(); }
        void deallocate(boost::context::stack_context& sc) noexcept { pool_->deallocate(sc); }

    private:
        StackPool* pool_;
    };

private:
    std::size_t page_;
    std::size_t stack_size_;
    std::size_t max_free_;
    std::size_t mapped_ = 0;
    std::vector<boost::context::stack_context> free_;
};

}  // namespace greenfinch::core
