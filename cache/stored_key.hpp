// StoredKey: a QueryKey as the memory cache keeps one per entry, in the bytes the key needs. Keys of up to
// kInline bytes (a name of up to 41 wire bytes: most names asked) are held in place, longer ones on the heap.
// QueryKey's own buffer fits the longest name there is, which would make an entry three times its size.
#pragma once

#include "dns/query_key.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace greenfinch::cache {

class StoredKey {
public:
    static constexpr std::size_t kInline = 46;

    explicit StoredKey(const dns::QueryKey& key)
        : hash_(key.hash()),
          size_(static_cast<std::uint16_t>(key.bytes().size())) {
        std::byte* to = in_place_.data();
        if (size_ > kInline) {
            on_heap_ = std::make_unique_for_overwrite<std::byte[]>(size_);
            to = on_heap_.get();
        }
        std::memcpy(to, key.bytes().data(), size_);
    }

    std::uint64_t hash() const noexcept { return hash_; }
    std::span<const std::byte> bytes() const noexcept { return {on_heap_ ? on_heap_.get() : in_place_.data(), size_}; }
    // The lowercased name in wire form, as QueryKey::name().
    std::span<const std::byte> name() const noexcept { return bytes().first(size_ - dns::QueryKey::kTrailer); }

    bool operator==(const dns::QueryKey& key) const noexcept {
        const auto other = key.bytes();
        return hash_ == key.hash() && size_ == other.size() && std::memcmp(bytes().data(), other.data(), size_) == 0;
    }

private:
    std::uint64_t hash_;
    std::unique_ptr<std::byte[]> on_heap_;  // set only for a key longer than kInline
    std::uint16_t size_;
    std::array<std::byte, kInline> in_place_;
};

}  // namespace greenfinch::cache
