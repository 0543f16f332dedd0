#include "core/memory/hash_index.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>

using greenfinch::core::HashIndex;

namespace {
// Handles are ints; a key's "real" comparison is the handle itself, so colliding hashes stay distinguishable.
const int* find(const HashIndex<int>& index, std::uint64_t hash, int handle) {
    return index.find(hash, [handle](int h) { return h == handle; });
}
}  // namespace

TEST_CASE("the hash index finds what was inserted and forgets what was erased") {
    HashIndex<int> index;
    CHECK(find(index, 42, 1) == nullptr);
    index.insert(42, 1);
    index.insert(43, 2);
    REQUIRE(find(index, 42, 1));
    CHECK(*find(index, 42, 1) == 1);
    CHECK(find(index, 42, 3) == nullptr);    // the hash matches, the key does not
    CHECK(find(index, 1000, 1) == nullptr);  // the key matches, the hash does not
    CHECK(index.size() == 2);
    CHECK(index.erase(42, 1));
    CHECK_FALSE(index.erase(42, 1));
    CHECK(find(index, 42, 1) == nullptr);
    CHECK(find(index, 43, 2));
    index.clear();
    CHECK(index.size() == 0);
    CHECK(find(index, 43, 2) == nullptr);
}

TEST_CASE("colliding hashes all stay reachable through inserts and erases in any order") {
    HashIndex<int> index;
    // Equal hashes and hashes differing only in bit 0 (which the tag drops) share one probe run.
    for (int i = 0; i < 40; ++i) index.insert(i % 2 ? 7 : 6, i);
    for (int i = 0; i < 40; i += 3) REQUIRE(index.erase(i % 2 ? 7 : 6, i));
    for (int i = 0; i < 40; ++i) CHECK((find(index, i % 2 ? 7 : 6, i) != nullptr) == (i % 3 != 0));
}

TEST_CASE("the hash index agrees with a reference map under random churn, growth and wrap-around") {
    std::mt19937_64 rng(12345);
    HashIndex<int> index;
    std::map<int, std::uint64_t> reference;  // handle -> hash
    int next_handle = 0;
    for (int step = 0; step < 200000; ++step) {
        const bool add = reference.size() < 64 || rng() % 100 < 50;
        if (add) {
            // Few distinct hashes: long probe runs, many of them wrapping past the table's end.
            const std::uint64_t hash = rng() % 97 * 0x100000001ull;
            index.insert(hash, next_handle);
            reference.emplace(next_handle++, hash);
        } else {
            auto it = reference.begin();
            std::advance(it, static_cast<long>(rng() % reference.size()));
            REQUIRE(index.erase(it->second, it->first));
            reference.erase(it);
        }
        if (step % 997 == 0) {
            REQUIRE(index.size() == reference.size());
            REQUIRE(index.capacity() >= 2 * index.size());
            for (const auto& [handle, hash] : reference) REQUIRE(find(index, hash, handle));
        }
    }
}

TEST_CASE("reserve makes room without losing entries") {
    HashIndex<int> index;
    for (int i = 0; i < 100; ++i) index.insert(static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull, i);
    index.reserve(10000);
    for (int i = 0; i < 100; ++i) CHECK(find(index, static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull, i));
}

TEST_CASE("the hash index shrinks as it empties, but never below its reservation") {
    HashIndex<int> index;
    for (int i = 0; i < 1000; ++i) index.insert(static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull, i);
    CHECK(index.capacity() >= 2000);
    for (int i = 0; i < 998; ++i) REQUIRE(index.erase(static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull, i));
    CHECK(index.capacity() == 16);  // two left: back to the smallest table, a few cache lines
    CHECK(find(index, 998ull * 0x9E3779B97F4A7C15ull, 998));
    CHECK(find(index, 999ull * 0x9E3779B97F4A7C15ull, 999));

    HashIndex<int> reserved;
    reserved.reserve(500);
    CHECK(reserved.capacity() == 1024);
    for (int i = 0; i < 3000; ++i) reserved.insert(static_cast<std::uint64_t>(i), i);
    for (int i = 0; i < 3000; ++i) REQUIRE(reserved.erase(static_cast<std::uint64_t>(i), i));
    CHECK(reserved.capacity() == 1024);
    CHECK(reserved.size() == 0);
}
