// HashIndex: an open-addressing map from a 64-bit key hash to a handle (a list iterator, a pointer).
//
// Built for lookups that mostly miss, on memory the CPU has not touched since the last query. A node-based map costs
// a bucket, the node before and the node itself (three cache misses) to say "not here". Here a byte per slot (empty,
// or 7 bits of the hash) sits in an array of its own, sixteen times denser than the slots: a miss reads one byte of
// it, on one of few pages, and a hit reads one slot more (the full hash and the handle) before the entry itself.
// Linear probing, at most half full, backward-shift deletion (no tombstones to pile up under churn); the table shrinks
// again when it empties to an eighth, but never below what reserve() asked for, so a small, busy table stays small.
//
// It stores hashes, not keys: find() hands each slot whose hash matches to the caller's predicate, which compares the
// real keys. Handles must be unique (erase() finds a slot by its handle).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace greenfinch::core {

template <typename Handle>
class HashIndex {
public:
    // The first match of `hash` for which `same(handle)` holds, or nullptr.
    template <typename Same>
    const Handle* find(std::uint64_t hash, Same&& same) const {
        if (slots_.empty()) return nullptr;
        const std::uint64_t t = tag(hash);
        const Probe p = probe(t);
        for (std::size_t i = p.home;; i = next(i)) {
            const std::uint8_t c = control_[i];
            if (c == kEmpty) return nullptr;
            if (c == p.control && slots_[i].tag == t && same(slots_[i].handle)) return &slots_[i].handle;
        }
    }

    // Starts loading the memory a find() or insert() of `hash` reads first, without waiting for it.
    void prefetch(std::uint64_t hash) const noexcept {
        if (slots_.empty()) return;
        const std::size_t home = probe(tag(hash)).home;
        __builtin_prefetch(&control_[home], 1);
        __builtin_prefetch(&slots_[home], 1);
    }

    void insert(std::uint64_t hash, Handle handle) {
        if ((size_ + 1) * 2 > slots_.size()) rebuild((size_ + 1) * 2);
        place(tag(hash), handle);
        ++size_;
    }

    // Removes the slot holding `handle` (inserted with `hash`); false if there is none.
    bool erase(std::uint64_t hash, const Handle& handle) {
        if (slots_.empty()) return false;
        const std::uint64_t t = tag(hash);
        const Probe p = probe(t);
        std::size_t i = p.home;
        for (;; i = next(i)) {
            if (control_[i] == kEmpty) return false;
            if (control_[i] == p.control && slots_[i].tag == t && slots_[i].handle == handle) break;
        }
        // Pull later members of the probe run back into the hole, so every lookup still meets them before an empty slot.
        for (std::size_t j = next(i);; j = next(j)) {
            if (control_[j] == kEmpty) break;
            const std::size_t h = probe(slots_[j].tag).home;
            const bool reachable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
            if (reachable) {
                control_[i] = control_[j];
                slots_[i] = slots_[j];
                i = j;
            }
        }
        control_[i] = kEmpty;
        slots_[i] = Slot{};
        --size_;
        if (size_ * 8 < slots_.size() && slots_.size() > floor_) rebuild(std::max(floor_, size_ * 4));
        return true;
    }

    // Makes room for `entries` without growing again, and keeps that room however few entries remain.
    void reserve(std::size_t entries) {
        floor_ = std::max(floor_, std::bit_ceil(entries * 2));
        if (floor_ > slots_.size()) rebuild(floor_);
    }

    void clear() {
        std::fill(control_.begin(), control_.end(), kEmpty);
        std::fill(slots_.begin(), slots_.end(), Slot{});
        size_ = 0;
    }

    std::size_t size() const noexcept { return size_; }
    // Slots in the table (a power of two, at least twice size()).
    std::size_t capacity() const noexcept { return slots_.size(); }

private:
    static constexpr std::uint8_t kEmpty = 0;
    static constexpr std::size_t kMinSlots = 16;

    struct Slot {
        std::uint64_t tag = 0;
        Handle handle{};
    };
    struct Probe {
        std::size_t home;
        std::uint8_t control;
    };

    // Bit 0 forced on: a tag is never 0, whatever the hash.
    static std::uint64_t tag(std::uint64_t hash) noexcept { return hash | 1u; }
    // Fibonacci hashing: the multiply spreads every bit of the hash into the top bits, whatever hash the caller uses
    // (FNV-1a's low bits, for one, mix poorly). The top bits pick the home slot, the 7 below them the control byte.
    Probe probe(std::uint64_t t) const noexcept {
        const std::uint64_t mixed = t * 0x9E3779B97F4A7C15ull;
        return {static_cast<std::size_t>(mixed >> shift_),
                static_cast<std::uint8_t>(0x80u | ((mixed >> (shift_ - 7)) & 0x7fu))};
    }
    std::size_t next(std::size_t i) const noexcept { return (i + 1) & (slots_.size() - 1); }

    void place(std::uint64_t t, const Handle& handle) {
        const Probe p = probe(t);
        std::size_t i = p.home;
        while (control_[i] != kEmpty) i = next(i);
        control_[i] = p.control;
        slots_[i] = Slot{t, handle};
    }

    void rebuild(std::size_t slots) {
        std::vector<std::uint8_t> old_control = std::move(control_);
        std::vector<Slot> old = std::move(slots_);
        const std::size_t n = std::bit_ceil(std::max(slots, kMinSlots));
        control_.assign(n, kEmpty);
        slots_.assign(n, Slot{});
        shift_ = 64 - std::countr_zero(n);
        for (std::size_t i = 0; i < old.size(); ++i) {
            if (old_control[i] != kEmpty) place(old[i].tag, old[i].handle);
        }
    }

    std::vector<std::uint8_t> control_;  // per slot: kEmpty, or 0x80 | 7 bits of the mixed hash
    std::vector<Slot> slots_;
    std::size_t size_ = 0;
    std::size_t floor_ = kMinSlots;
    int shift_ = 64;
};

}  // namespace greenfinch::core
