#include "core/engine/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace greenfinch::core {

namespace {
std::size_t round_up(std::size_t n, std::size_t page) { return (n + page - 1) / page * page; }
}  // namespace

StackPool::StackPool(Config config)
    : page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))),
      stack_size_(round_up(config.stack_size < 16 * 1024 ? 16 * 1024 : config.stack_size, page_)),
      max_free_(config.max_free) {
    free_.reserve(max_free_ < 4096 ? max_free_ : 4096);
}

StackPool::~StackPool() {
    for (auto& sc : free_) {
        ::munmap(static_cast<char*>(sc.sp) - sc.size - page_, sc.size + page_);
    }
}

boost::context::stack_context StackPool::allocate() {
    if (!free_.empty()) {
        auto sc = free_.back();
        free_.pop_back();
        return sc;
    }
    const std::size_t total = stack_size_ + page_;
    void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED || ::mprotect(base, page_, PROT_NONE) != 0) {
        const int err = errno;
        if (base != MAP_FAILED) ::munmap(base, total);
        throw std::runtime_error("cannot map a greenlet stack (" + std::string(std::strerror(err)) + "; " +
                                 std::to_string(mapped_) +
                                 " stacks mapped: each takes two mappings, raise vm.max_map_count)");
    }
    ++mapped_;
    boost::context::stack_context sc;
    sc.size = stack_size_;
    sc.sp = static_cast<char*>(base) + total;
    return sc;
}

void StackPool::deallocate(boost::context::stack_context& sc) noexcept {
#if defined(__SANITIZE_ADDRESS__)
    // A reused stack must not carry the poison of frames that died on it.
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(sc.sp) - sc.size, sc.size);
#endif
    if (free_.size() < max_free_) {
        free_.push_back(sc);
        return;
    }
    ::munmap(static_cast<char*>(sc.sp) - sc.size - page_, sc.size + page_);
    --mapped_;
}

void* StackPool::lowest_usable(const boost::context::stack_context& sc) noexcept {
    return static_cast<char*>(sc.sp) - sc.size;
}

}  // namespace greenfinch::core
