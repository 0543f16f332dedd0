#include "core/memory/recycled_blocks.hpp"

#include <new>

namespace greenfinch::core {

RecycledBlocks::~RecycledBlocks() {
    for (auto& blocks : free_) {
        for (void* b : blocks) ::operator delete(b);
    }
}

void* RecycledBlocks::allocate(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c < kClasses && !free_[c].empty()) {
        void* b = free_[c].back();
        free_[c].pop_back();
        return b;
    }
    return allocate_unkept(size);
}

void RecycledBlocks::deallocate(void* block, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c < kClasses && free_[c].size() < kKeep) {
        try {
            if (free_[c].capacity() == 0) free_[c].reserve(kKeep);
            free_[c].push_back(block);
            return;
        } catch (const std::bad_alloc&) {}
    }
    ::operator delete(block);
}

}  // namespace greenfinch::core
