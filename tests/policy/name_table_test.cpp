// NameTable: membership of a name and of every name it lies under, longest first, at any size.
#include "policy/name_table.hpp"

#include "dns/presentation.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using greenfinch::policy::NameTable;

namespace {
std::vector<std::byte> wire(const std::string& name) { return *greenfinch::dns::wire_name(name); }

// The members `name` lies under, as (offset, value), longest first.
std::vector<std::pair<std::size_t, NameTable::Value>> matches(const NameTable& t, const std::string& name) {
    std::vector<std::pair<std::size_t, NameTable::Value>> out;
    t.for_each_suffix(wire(name), [&](const NameTable::Match& m) {
        out.emplace_back(m.offset, m.value);
        return true;
    });
    return out;
}
}  // namespace

TEST_CASE("a name matches itself and every member it lies under, longest first, and nothing beside it") {
    NameTable::Builder b;
    b.add(wire("example.com"), 1);
    b.add(wire("ads.example.com"), 2);
    b.add(wire("com"), 4);
    const NameTable t = std::move(b).build();
    REQUIRE(t.size() == 3);

    using M = std::vector<std::pair<std::size_t, NameTable::Value>>;
    CHECK(matches(t, "x.ads.example.com") == M{{2, 2}, {6, 1}, {14, 4}});
    CHECK(matches(t, "ads.example.com") == M{{0, 2}, {4, 1}, {12, 4}});
    CHECK(matches(t, "www.example.com") == M{{4, 1}, {12, 4}});
    CHECK(matches(t, "badexample.com") == M{{11, 4}});  // a suffix of the text, not of the labels: no match
    CHECK(matches(t, "example.org").empty());
    CHECK(matches(t, ".").empty());

    CHECK(t.find(wire("example.com")) == 1);
    CHECK(t.find(wire("www.example.com")) == 0);
    CHECK(t.find(wire(".")) == 0);
}

TEST_CASE("for_each_suffix stops when told to") {
    NameTable::Builder b;
    b.add(wire("a.b.c"), 1);
    b.add(wire("b.c"), 2);
    const NameTable t = std::move(b).build();
    int calls = 0;
    t.for_each_suffix(wire("a.b.c"), [&](const NameTable::Match&) {
        ++calls;
        return false;
    });
    CHECK(calls == 1);
}

TEST_CASE("a name added twice keeps one entry with the values ORed") {
    NameTable::Builder b;
    b.add(wire("x.example"), 1);
    b.add(wire("x.example"), 8);
    const NameTable t = std::move(b).build();
    CHECK(t.size() == 1);
    CHECK(t.find(wire("x.example")) == 9);
}

TEST_CASE("an empty table matches nothing") {
    const NameTable t;
    CHECK(t.empty());
    CHECK(matches(t, "example.com").empty());
    CHECK(t.find(wire("example.com")) == 0);
}

TEST_CASE("a table of 200,000 names finds each of them and no other, through every growth") {
    NameTable::Builder b;
    constexpr int kNames = 200'000;
    for (int i = 0; i < kNames; ++i)
        b.add(wire("n" + std::to_string(i) + ".example"), static_cast<NameTable::Value>(i + 1));
    const NameTable t = std::move(b).build();
    REQUIRE(t.size() == kNames);
    for (int i = 0; i < kNames; ++i) {
        REQUIRE(t.find(wire("n" + std::to_string(i) + ".example")) == static_cast<NameTable::Value>(i + 1));
        REQUIRE(t.find(wire("m" + std::to_string(i) + ".example")) == 0);
    }
    CHECK(matches(t, "deep.n123.example") == std::vector<std::pair<std::size_t, NameTable::Value>>{{5, 124}});
    CHECK(t.memory_bytes() < kNames * 64);
}

TEST_CASE("the longest name the wire form allows, 127 labels deep, matches its every suffix") {
    std::string name;
    for (int i = 0; i < 127; ++i) name += (i ? ".a" : "a");
    NameTable::Builder b;
    b.add(wire(name), 1);
    b.add(wire("a"), 2);
    const NameTable t = std::move(b).build();
    const auto m = matches(t, name);
    REQUIRE(m.size() == 2);
    CHECK(m.front() == std::pair<std::size_t, NameTable::Value>{0, 1});
    CHECK(m.back() == std::pair<std::size_t, NameTable::Value>{252, 2});
}
