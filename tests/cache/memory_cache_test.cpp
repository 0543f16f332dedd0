#include "cache/memory_cache.hpp"
#include "tests/cache/fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

using namespace greenfinch;

using test::answer_for;
using test::key_for;

TEST_CASE("an entry is fresh for its TTL, then stale within the serve-stale window, then gone") {
    cache::MemoryCache c({100, 60, 4});
    const auto k = key_for("a.example");
    c.store(k, answer_for("a.example", 1000.0, 100));
    auto hit = c.lookup(k, 1050.5);
    REQUIRE(hit);
    CHECK(hit->freshness == cache::Freshness::Fresh);
    CHECK(hit->age == 50);
    hit = c.lookup(k, 1120.0);
    REQUIRE(hit);
    CHECK(hit->freshness == cache::Freshness::Stale);
    CHECK_FALSE(c.lookup(k, 1161.0));
    CHECK(c.stats().expired == 1);
    CHECK(c.stats().size == 0);
}

TEST_CASE("without serve-stale an expired entry is a miss at once") {
    cache::MemoryCache c({100, 0, 4});
    const auto k = key_for("a.example");
    c.store(k, answer_for("a.example", 0.0, 10));
    CHECK(c.lookup(k, 9.9));
    CHECK_FALSE(c.lookup(k, 10.0));
}

TEST_CASE("in the last 10% of its TTL an entry asks for one refresh, from the first caller only") {
    cache::MemoryCache c({100, 0, 4});
    const auto k = key_for("a.example");
    c.store(k, answer_for("a.example", 0.0, 100));
    CHECK(c.lookup(k, 85.0)->freshness == cache::Freshness::Fresh);
    CHECK(c.lookup(k, 91.0)->freshness == cache::Freshness::Refresh);
    CHECK(c.lookup(k, 92.0)->freshness == cache::Freshness::Fresh);  // claimed already
    c.store(k, answer_for("a.example", 92.0, 100));                  // the refreshed answer
    CHECK(c.lookup(k, 93.0)->age == 1);
    CHECK(c.stats().size == 1);
}

TEST_CASE("popular names survive a scan of names asked once (segmented LRU)") {
    cache::MemoryCache c({100, 0, 1});
    std::vector<dns::QueryKey> hot;
    for (int i = 0; i < 20; ++i) {
        hot.push_back(key_for("hot" + std::to_string(i) + ".example"));
        c.store(hot.back(), answer_for("hot" + std::to_string(i) + ".example", 0.0, 3600));
        REQUIRE(c.lookup(hot.back(), 1.0));  // used twice: protected
    }
    for (int i = 0; i < 1000; ++i) {
        const std::string name = "scan" + std::to_string(i) + ".example";
        c.store(key_for(name), answer_for(name, 2.0, 3600));
    }
    int survivors = 0;
    for (const auto& k : hot) survivors += c.lookup(k, 3.0) ? 1 : 0;
    CHECK(survivors == 20);
    CHECK(c.stats().size == 100);
    CHECK(c.stats().evictions == 920);
}

TEST_CASE("erase and clear") {
    cache::MemoryCache c({100, 0, 4});
    const auto a = key_for("a.example");
    const auto b = key_for("b.example");
    c.store(a, answer_for("a.example", 0.0, 100));
    c.store(b, answer_for("b.example", 0.0, 100));
    c.erase(a);
    CHECK_FALSE(c.lookup(a, 1.0));
    CHECK(c.lookup(b, 1.0));
    c.clear();
    CHECK(c.stats().size == 0);
}

TEST_CASE("several threads share one cache") {
    cache::MemoryCache c({1000, 0, 16});
    std::vector<dns::QueryKey> keys;
    for (int i = 0; i < 200; ++i) keys.push_back(key_for("n" + std::to_string(i) + ".example"));
    auto work = [&](int offset) {
        for (int round = 0; round < 50; ++round) {
            for (int i = 0; i < 200; ++i) {
                const auto& k = keys[static_cast<std::size_t>((i + offset) % 200)];
                if (!c.lookup(k, 1.0))
                    c.store(k, answer_for("n" + std::to_string((i + offset) % 200) + ".example", 0.0, 100));
            }
        }
    };
    std::thread t1(work, 0), t2(work, 100);
    t1.join();
    t2.join();
    const auto s = c.stats();
    CHECK(s.size == 200);
    CHECK(s.hits + s.misses == 2 * 50 * 200);
    CHECK(s.misses >= 200);
}

TEST_CASE("prepare_store is only a hint: nothing is cached until store()") {
    cache::MemoryCache c({100, 0, 4});
    const auto k = key_for("a.example");
    c.prepare_store(k);  // on an empty index too
    CHECK_FALSE(c.lookup(k, 1.0));
    c.store(key_for("b.example"), answer_for("b.example", 0.0, 100));
    c.prepare_store(k);
    CHECK_FALSE(c.lookup(k, 1.0));
    CHECK(c.stats().size == 1);
    c.store(k, answer_for("a.example", 0.0, 100));
    CHECK(c.lookup(k, 1.0));
}

TEST_CASE("keys held in place and keys long enough for the heap are kept whole, found whatever their case") {
    cache::MemoryCache c({1000, 0, 4});
    // Wire lengths 39 to 44 straddle the in-place limit (46 key bytes); the last two are as long as a name can be.
    std::vector<std::string> names;
    for (std::size_t label : {29u, 30u, 31u, 32u, 33u, 34u}) names.push_back(std::string(label, 'x') + ".example");
    const std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                                std::string(53, 'd') + ".example";
    names.push_back(longest);
    names.push_back(longest.substr(0, longest.size() - 9) + "e.example");  // differs in one byte, far from the start
    for (std::size_t i = 0; i < names.size(); ++i) c.store(key_for(names[i]), answer_for(names[i], 0.0, 100 + i));
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::string upper = names[i];
        for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        const auto hit = c.lookup(key_for(upper), 1.0);
        REQUIRE(hit);
        CHECK(hit->answer->parsed.min_ttl == 100 + i);  // its own answer, not a neighbour's
        CHECK_FALSE(c.lookup(key_for(names[i], dns::type::AAAA), 1.0));
    }
    CHECK(c.stats().size == names.size());
    const auto name_wire = [&](const std::string& name) {
        const auto k = key_for(name);
        return std::vector<std::byte>(k.name().begin(), k.name().end());
    };
    CHECK(c.erase_name(name_wire(longest)) == 1);
    CHECK_FALSE(c.lookup(key_for(longest), 1.0));
    CHECK(c.lookup(key_for(names.back()), 1.0));
    CHECK(c.erase_name(name_wire(names[2])) == 1);
    CHECK(c.stats().size == names.size() - 2);
}

TEST_CASE("entries and the answers made in the cache's memory live in its pool, which is reused as they come and go") {
    cache::MemoryCache c({2000, 0, 4});
    CHECK(c.stats().memory_bytes == 0);
    CHECK(&c.answer_memory() != std::pmr::new_delete_resource());
    const auto stored = answer_for("x.example", 0.0, 300);
    for (int round = 0; round < 3; ++round) {  // 3000 answers through a cache of 2000: evictions free pool blocks
        for (int i = 0; i < 1000; ++i) {
            const std::string name = "n" + std::to_string(round * 1000 + i) + ".example";
            const auto plain = answer_for(name, 0.0, 300);
            c.store(key_for(name), cache::Answer::make(plain->wire, plain->parsed, 0.0, 300, c.answer_memory()));
        }
    }
    const auto hit = c.lookup(key_for("n2999.example"), 1.0);
    REQUIRE(hit);
    CHECK(std::ranges::equal(hit->answer->wire, answer_for("n2999.example", 0.0, 300)->wire));
    CHECK(c.stats().size == 2000);
    // Per entry three blocks: its list node, its answer (with the shared_ptr's count) and the answer's wire.
    const auto* pool = dynamic_cast<const core::HugePagePool*>(&c.answer_memory());
    REQUIRE(pool);
    CHECK(pool->stats().blocks_in_use == 3 * 2000);
    CHECK(c.stats().memory_bytes == 2 * 1024 * 1024);  // one chunk held them all, the evicted ones' blocks reused
    c.clear();
    CHECK(c.stats().memory_bytes == 2 * 1024 * 1024);  // kept for the entries to come
}
