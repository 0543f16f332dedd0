// NameTable: an immutable set of domain names, each with a small value, asked for every name a query's name ends in.
//
// The policy asks it once per query, before the cache, with names the table mostly does not hold, so a lookup must
// be cheap when it misses: the suffixes' hashes come from one pass over the name, read from its end (the hash of
// "example.com." is a step of the hash of "www.example.com."), and each suffix costs one probe of a flat array of
// 8-byte slots (32 bits of the hash, where the name lies) that almost always ends at an empty slot or a
// non-matching hash. The names themselves lie in one arena, each with its value, so a table of a million names is
// two allocations.
//
// Names are in wire form and lowercased (dns::lowercase_name); the root is never a member. Values are never 0 (0 says
// "not a member"); adding a name twice ORs the values, so one table can carry several kinds of membership as bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace greenfinch::policy {

class NameTable {
public:
    using Value = std::uint32_t;

    class Builder {
    public:
        Builder() = default;
        // Room for about `names` more names totalling `bytes` bytes, so that a large list grows its arrays little: an
        // estimate on the low side costs a doubling of the slots, one on the high side memory until build().
        void reserve(std::size_t names, std::size_t bytes);
        // `name` must be a valid lowercased wire name other than the root, `value` not 0; the name's value becomes
        // the OR of every value it was added with.
        void add(std::span<const std::byte> name, Value value);
        std::size_t size() const noexcept { return count_; }
        NameTable build() &&;

    private:
        friend class NameTable;
        void rehash(std::size_t slot_count);
        std::vector<std::uint64_t> slots_;  // (hash's top 32 bits << 32) | (arena offset + 1); 0: empty
        std::vector<std::byte> arena_;      // per name: its wire length, the name, then its value (4 bytes)
        std::size_t count_ = 0;
    };

    NameTable() = default;

    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    // Bytes held: the slots and the arena.
    std::size_t memory_bytes() const noexcept;

    struct Match {
        std::size_t offset;  // where in the asked name the member starts: 0 for the name itself
        Value value;
    };
    // Calls `each(match)` for every member the lowercased wire `name` equals or lies under, the longest first; stops
    // when `each` returns false.
    template <class Each>
    void for_each_suffix(std::span<const std::byte> name, Each&& each) const;
    // The value of `name` itself, or 0 when it is not a member.
    Value find(std::span<const std::byte> name) const noexcept;

    // The suffixes of a wire name, longest first: where each starts, and its hash. Reused by the builder.
    struct Suffixes {
        std::size_t count = 0;
        std::uint16_t offsets[128];
        std::uint64_t hashes[128];
    };
    static void suffixes(std::span<const std::byte> name, Suffixes& out) noexcept;

private:
    Value probe(std::span<const std::byte> name, std::uint64_t hash) const noexcept;

    std::vector<std::uint64_t> slots_;
    std::vector<std::byte> arena_;
    std::size_t count_ = 0;
};

template <class Each>
void NameTable::for_each_suffix(std::span<const std::byte> name, Each&& each) const {
    if (count_ == 0) return;
    Suffixes s;
    suffixes(name, s);
    for (std::size_t i = 0; i < s.count; ++i) {
        const std::size_t at = s.offsets[i];
        if (const Value v = probe(name.subspan(at), s.hashes[i]); v != 0) {
            if (!each(Match{.offset = at, .value = v})) return;
        }
    }
}

}  // namespace greenfinch::policy
