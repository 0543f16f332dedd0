#include "policy/name_table.hpp"

#include <bit>
#include <cstring>

namespace greenfinch::policy {

namespace {
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;

// FNV-1a's state is a poor hash on its own (its low bits, which pick the slot, mix little): finish it as murmur3 does.
std::uint64_t finish(std::uint64_t h) noexcept {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

std::uint32_t fingerprint(std::uint64_t hash) noexcept { return static_cast<std::uint32_t>(hash >> 32); }

NameTable::Value value_at(const std::vector<std::byte>& arena, std::size_t at) noexcept {
    NameTable::Value v;
    std::memcpy(&v, arena.data() + at + 1 + std::to_integer<std::size_t>(arena[at]), sizeof v);
    return v;
}

bool name_at(const std::vector<std::byte>& arena, std::size_t at, std::span<const std::byte> name) noexcept {
    return std::to_integer<std::size_t>(arena[at]) == name.size() &&
           std::memcmp(arena.data() + at + 1, name.data(), name.size()) == 0;
}

// Linear probing from the hash's low bits; the slot holding `name`, or the empty one where it would go.
std::size_t find_slot(const std::vector<std::uint64_t>& slots, const std::vector<std::byte>& arena,
                      std::span<const std::byte> name, std::uint64_t hash) noexcept {
    const std::size_t mask = slots.size() - 1;
    const std::uint32_t fp = fingerprint(hash);
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        const std::uint64_t slot = slots[i];
        if (slot == 0) return i;
        if (static_cast<std::uint32_t>(slot >> 32) == fp &&
            name_at(arena, static_cast<std::size_t>(slot & 0xffffffffu) - 1, name)) {
            return i;
        }
    }
}

std::uint64_t whole_name_hash(std::span<const std::byte> name) noexcept {
    NameTable::Suffixes s;
    NameTable::suffixes(name, s);
    return s.hashes[0];
}
}  // namespace

void NameTable::suffixes(std::span<const std::byte> name, Suffixes& out) noexcept {
    // Label starts, front to back (the root label ends the walk and is not a suffix of its own).
    out.count = 0;
    for (std::size_t at = 0; at < name.size() && out.count < std::size(out.offsets);) {
        const std::size_t len = std::to_integer<std::size_t>(name[at]);
        if (len == 0) break;
        out.offsets[out.count++] = static_cast<std::uint16_t>(at);
        at += 1 + len;
    }
    // Then the hashes, back to front: each suffix's hash continues the one of the suffix after it.
    std::uint64_t h = kFnvOffset;
    std::size_t end = name.empty() ? 0 : name.size() - 1;  // the root label's byte is in no hash
    for (std::size_t i = out.count; i-- > 0;) {
        for (std::size_t b = end; b-- > out.offsets[i];) {
            h ^= std::to_integer<std::uint64_t>(name[b]);
            h *= kFnvPrime;
        }
        end = out.offsets[i];
        out.hashes[i] = finish(h);
    }
}

void NameTable::Builder::reserve(std::size_t names, std::size_t bytes) {
    arena_.reserve(arena_.size() + bytes + names * (1 + sizeof(Value)));
    std::size_t want = 16;
    while (want < names * 2) want *= 2;
    if (want > slots_.size()) rehash(want);
}

void NameTable::Builder::rehash(std::size_t slot_count) {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(slot_count, 0);
    for (const std::uint64_t slot : old) {
        if (slot == 0) continue;
        const std::size_t at = static_cast<std::size_t>(slot & 0xffffffffu) - 1;
        const auto name = std::span<const std::byte>(arena_).subspan(at + 1, std::to_integer<std::size_t>(arena_[at]));
        slots_[find_slot(slots_, arena_, name, whole_name_hash(name))] = slot;
    }
}

void NameTable::Builder::add(std::span<const std::byte> name, Value value) {
    if ((count_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const std::uint64_t hash = whole_name_hash(name);
    const std::size_t i = find_slot(slots_, arena_, name, hash);
    if (slots_[i] != 0) {
        const std::size_t at = static_cast<std::size_t>(slots_[i] & 0xffffffffu) - 1;
        const Value merged = value_at(arena_, at) | value;
        std::memcpy(arena_.data() + at + 1 + name.size(), &merged, sizeof merged);
        return;
    }
    const std::size_t at = arena_.size();
    arena_.push_back(static_cast<std::byte>(name.size()));
    arena_.insert(arena_.end(), name.begin(), name.end());
    const auto* v = reinterpret_cast<const std::byte*>(&value);
    arena_.insert(arena_.end(), v, v + sizeof value);
    slots_[i] = (static_cast<std::uint64_t>(fingerprint(hash)) << 32) | (at + 1);
    ++count_;
}

NameTable NameTable::Builder::build() && {
    NameTable t;
    arena_.shrink_to_fit();
    t.slots_ = std::move(slots_);
    t.arena_ = std::move(arena_);
    t.count_ = count_;
    return t;
}

std::size_t NameTable::memory_bytes() const noexcept {
    return slots_.capacity() * sizeof(std::uint64_t) + arena_.capacity();
}

NameTable::Value NameTable::probe(std::span<const std::byte> name, std::uint64_t hash) const noexcept {
    const std::size_t i = find_slot(slots_, arena_, name, hash);
    if (slots_[i] == 0) return 0;
    return value_at(arena_, static_cast<std::size_t>(slots_[i] & 0xffffffffu) - 1);
}

NameTable::Value NameTable::find(std::span<const std::byte> name) const noexcept {
    if (count_ == 0 || name.size() <= 1) return 0;
    return probe(name, whole_name_hash(name));
}

}  // namespace greenfinch::policy
