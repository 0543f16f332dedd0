// HashIndex: an open-addressing map from a 64-bit key hash to a handle (a list iterator, a pointer).
//
// The memory cache looks a name up on every query, and a miss is the common case on the forwarding path. A node-based
// map costs a bucket, the node before and the node itself (three cache misses) to say "not here"; this table keeps the
// hash beside the handle in one 16-byte slot, so a miss usually reads one cache line and a hit reads one more (the
// entry). Linear probing, at most half full, backward-shift deletion (no tombstones to pile up under churn).
//
// It stores hashes, not keys: find() hands each slot whose hash matches to the caller's predicate, which compares the
// real keys. Handles must be unique (erase() finds a slot by its handle).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace greenfinch::cache {

template <typename Handle>
class HashIndex {
public:
    // The first match of `hash` for which `same(handle)` holds, or nullptr.
    template <typename Same>
    const Handle* find(std::uint64_t hash, Same&& same) const {
        if (slots_.empty()) return nullptr;
        const std::uint64_t t = tag(hash);
        for (std::size_t i = home(t);; i = next(i)) {
            const Slot& s = slots_[i];
            if (s.tag == 0) return nullptr;
            if (s.tag == t && same(s.handle)) return &s.handle;
        }
    }

    void insert(std::uint64_t hash, Handle handle) {
        if ((size_ + 1) * 2 > slots_.size()) grow((size_ + 1) * 2);
        place(tag(hash), handle);
        ++size_;
    }

    // Removes the slot holding `handle` (inserted with `hash`); false if there is none.
    bool erase(std::uint64_t hash, const Handle& handle) {
        if (slots_.empty()) return false;
        const std::uint64_t t = tag(hash);
        std::size_t i = home(t);
        for (;; i = next(i)) {
            if (slots_[i].tag == 0) return false;
            if (slots_[i].tag == t && slots_[i].handle == handle) break;
        }
        // Pull later members of the probe run back into the hole, so every lookup still meets them before an empty slot.
        for (std::size_t j = next(i);; j = next(j)) {
            Slot& s = slots_[j];
            if (s.tag == 0) break;
            const std::size_t h = home(s.tag);
            const bool reachable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
            if (reachable) {
                slots_[i] = s;
                i = j;
            }
        }
        slots_[i] = Slot{};
        --size_;
        return true;
    }

    // Makes room for `entries` without growing again.
    void reserve(std::size_t entries) {
        if (entries * 2 > slots_.size()) grow(entries * 2);
    }

    void clear() {
        for (Slot& s : slots_) s = Slot{};
        size_ = 0;
    }

    std::size_t size() const noexcept { return size_; }

private:
    struct Slot {
        std::uint64_t tag = 0;  // 0: empty
        Handle handle{};
    };

    // Bit 0 forced on, so that no real hash reads as an empty slot; the other 63 bits still tell keys apart.
    static std::uint64_t tag(std::uint64_t hash) noexcept { return hash | 1u; }
    // Fibonacci hashing: the multiply spreads every bit of the hash into the top bits kept, whatever hash the caller
    // uses (FNV-1a's low bits, for one, mix poorly).
    std::size_t home(std::uint64_t t) const noexcept {
        return static_cast<std::size_t>((t * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    std::size_t next(std::size_t i) const noexcept { return (i + 1) & (slots_.size() - 1); }

    void place(std::uint64_t t, const Handle& handle) {
        std::size_t i = home(t);
        while (slots_[i].tag != 0) i = next(i);
        slots_[i] = Slot{t, handle};
    }

    void grow(std::size_t slots) {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(std::bit_ceil(std::max<std::size_t>(slots, 16)), Slot{});
        shift_ = 64 - std::countr_zero(slots_.size());
        for (const Slot& s : old) {
            if (s.tag != 0) place(s.tag, s.handle);
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
    int shift_ = 64;
};

}  // namespace greenfinch::cache
