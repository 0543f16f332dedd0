#include "cache/policy.hpp"
#include "dns/answer.hpp"
#include "tests/dns/wire_builder.hpp"

#include "tests/dns/parsed.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace greenfinch;
using greenfinch::test::Wire;

using greenfinch::test::parsed;

namespace {
std::vector<std::byte> positive(std::uint32_t ttl_a, std::uint32_t ttl_b, unsigned flags = 0x8180) {
    return Wire()
        .header(1, flags, 1, 2, 0, 0)
        .question("a.example", dns::type::A)
        .pointer(12)
        .rr_fixed(dns::type::A, ttl_a, 4)
        .raw({192, 0, 2, 1})
        .pointer(12)
        .rr_fixed(dns::type::A, ttl_b, 4)
        .raw({192, 0, 2, 2});
}
// NXDOMAIN (rcode 3) or NODATA (rcode 0, no answer) with an SOA in authority.
std::vector<std::byte> negative(unsigned rcode, std::uint32_t soa_ttl, std::uint32_t minimum) {
    return Wire()
        .header(1, 0x8180 | rcode, 1, 0, 1, 0)
        .question("nx.example", dns::type::A)
        .pointer(15)
        .rr_fixed(dns::type::SOA, soa_ttl, 2 + 2 + 20)  // owner: "example" inside the qname
        .pointer(15)
        .pointer(15)
        .u32(1)
        .u32(7200)
        .u32(900)
        .u32(86400)
        .u32(minimum);
}
}  // namespace

TEST_CASE("positive answers live for their smallest TTL, clamped") {
    cache::CachePolicy p;
    CHECK(cache::cache_ttl(parsed(positive(300, 60)), p) == 60u);
    p.min_ttl = 120;
    CHECK(cache::cache_ttl(parsed(positive(300, 60)), p) == 120u);
    p.min_ttl = 0;
    p.max_ttl = 100;
    CHECK(cache::cache_ttl(parsed(positive(3000, 600)), p) == 100u);
}

TEST_CASE("negative answers live for min(SOA TTL, SOA MINIMUM), capped, and without SOA they are not cached") {
    cache::CachePolicy p;
    CHECK(cache::cache_ttl(parsed(negative(3, 3600, 120)), p) == 120u);  // NXDOMAIN
    CHECK(cache::cache_ttl(parsed(negative(0, 60, 900)), p) == 60u);     // NODATA
    p.negative_ttl_max = 30;
    CHECK(cache::cache_ttl(parsed(negative(3, 3600, 120)), p) == 30u);
    const std::vector<std::byte> bare_nx = Wire().header(1, 0x8183, 1, 0, 0, 0).question("nx.example", dns::type::A);
    CHECK_FALSE(cache::cache_ttl(parsed(bare_nx), p));
}

TEST_CASE("truncated answers are never cached, SERVFAIL briefly, REFUSED never") {
    cache::CachePolicy p;
    CHECK_FALSE(cache::cache_ttl(parsed(positive(300, 300, 0x8380)), p));  // TC
    const std::vector<std::byte> servfail = Wire().header(1, 0x8182, 1, 0, 0, 0).question("a.example", dns::type::A);
    CHECK(cache::cache_ttl(parsed(servfail), p) == 5u);
    p.servfail_ttl = 0;
    CHECK_FALSE(cache::cache_ttl(parsed(servfail), p));
    const std::vector<std::byte> refused = Wire().header(1, 0x8185, 1, 0, 0, 0).question("a.example", dns::type::A);
    CHECK_FALSE(cache::cache_ttl(parsed(refused), p));
}

TEST_CASE("a negative answer served from cache shows the remaining negative TTL on its SOA, not the SOA's own") {
    cache::CachePolicy p;
    std::vector<std::byte> wire = negative(3, 3600, 120);
    const dns::Message m = parsed(wire);
    const std::uint32_t ttl = *cache::cache_ttl(m, p);
    cache::normalize_ttls(wire, m, ttl, p);
    const std::vector<std::byte> query = Wire().header(7, 0x0100, 1, 0, 0, 0).question("NX.example", dns::type::A);
    const dns::Message q = parsed(query);
    std::array<std::byte, 512> out{};
    const std::size_t n = dns::write_answer(
        wire, m, {7, std::span(query.data() + 12, q.question.name_length), 30, std::nullopt, 512}, out);
    REQUIRE(n > 0);
    const std::vector<std::byte> served(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    const dns::Message s = parsed(served);
    CHECK(dns::read_u32(served, s.ttl_offsets[0]) == 90);  // 120 - 30, not 3600 - 30
}

TEST_CASE("normalising raises TTLs to the minimum clamp and caps them at the entry's TTL") {
    cache::CachePolicy p;
    p.min_ttl = 60;
    std::vector<std::byte> wire = positive(5, 3000);
    const dns::Message m = parsed(wire);
    const std::uint32_t ttl = *cache::cache_ttl(m, p);
    REQUIRE(ttl == 60);
    cache::normalize_ttls(wire, m, ttl, p);
    CHECK(dns::read_u32(wire, m.ttl_offsets[0]) == 60);
    CHECK(dns::read_u32(wire, m.ttl_offsets[1]) == 60);
}
