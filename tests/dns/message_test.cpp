// The wire-format parser against well-formed messages and a corpus of broken ones.
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "tests/dns/wire_builder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <string>

using namespace greenfinch::dns;
using greenfinch::test::Wire;

namespace {
ParseStatus parse(const std::vector<std::byte>& w) {
    Message m;
    return parse_message(w, m);
}

// A response for www.example.com A: a CNAME (compressed owner and target) to an A record, an SOA in authority,
// an OPT in additional.
Wire full_response() {
    Wire w;
    w.header(0x1234, 0x8180, 1, 2, 1, 1).question("www.example.com", type::A);
    w.pointer(12).rr_fixed(type::CNAME, 300, 6).raw({3, 'c', 'd', 'n'}).pointer(16);  // cdn.example.com
    w.pointer(33).rr_fixed(type::A, 60, 4).raw({192, 0, 2, 1});
    const unsigned soa_owner = 16;  // example.com
    Wire rdata;
    w.pointer(soa_owner).rr_fixed(type::SOA, 3600, 2 + 2 + 20);
    w.pointer(soa_owner).pointer(soa_owner).u32(2024010101).u32(7200).u32(900).u32(1209600).u32(120);
    w.opt(1232, true);
    return w;
}
}  // namespace

TEST_CASE("a full response parses: question, TTL offsets, min TTL, SOA, EDNS") {
    const std::vector<std::byte> w = full_response();
    Message m;
    REQUIRE(parse_message(w, m) == ParseStatus::Ok);
    CHECK(m.header.id == 0x1234);
    CHECK(m.question.qtype == type::A);
    CHECK(m.question.name_length == 17);
    CHECK(m.question.end == 12 + 17 + 4);
    CHECK(m.ttl_offsets.size() == 3);
    CHECK(read_u32(w, m.ttl_offsets[0]) == 300);
    CHECK(read_u32(w, m.ttl_offsets[1]) == 60);
    CHECK(read_u32(w, m.ttl_offsets[2]) == 3600);
    REQUIRE(m.min_ttl);
    CHECK(*m.min_ttl == 60);
    REQUIRE(m.soa);
    CHECK(m.soa->ttl == 3600);
    CHECK(m.soa->minimum == 120);
    CHECK(m.edns.present);
    CHECK(m.edns.udp_size == 1232);
    CHECK(m.edns.dnssec_ok);
    CHECK(m.end == w.size());
}

TEST_CASE("a plain query with EDNS parses without allocating TTL offsets") {
    Message m;
    const std::vector<std::byte> w = Wire().header(7, 0x0100, 1, 0, 0, 1).question("Example.COM", type::AAAA).opt(4096);
    REQUIRE(parse_message(w, m) == ParseStatus::Ok);
    CHECK(m.ttl_offsets.capacity() == 0);  // not even room reserved: nothing allocated
    CHECK(m.edns.udp_size == 4096);
    CHECK_FALSE(m.edns.dnssec_ok);
    CHECK(m.header.rd());
}

TEST_CASE("a TTL with the top bit set counts as zero (RFC 2181 8)") {
    const std::vector<std::byte> w = Wire()
                                         .header(1, 0x8180, 1, 1, 0, 0)
                                         .question("a", type::A)
                                         .pointer(12)
                                         .rr_fixed(type::A, 0x80000001u, 4)
                                         .raw({1, 2, 3, 4});
    Message m;
    REQUIRE(parse_message(w, m) == ParseStatus::Ok);
    CHECK(*m.min_ttl == 0);
}

TEST_CASE("names: pointers only backwards, no loops, label and name limits") {
    std::array<std::byte, kMaxNameLength> out{};
    SECTION("a pointer to itself is a loop and is refused") {
        const std::vector<std::byte> w = Wire().header(0, 0, 0, 0, 0, 0).pointer(12);
        CHECK_FALSE(read_name(w, 12));
    }
    SECTION("a forward pointer is refused") {
        const std::vector<std::byte> w = Wire().header(0, 0, 0, 0, 0, 0).pointer(14).name("a");
        CHECK_FALSE(read_name(w, 12));
    }
    SECTION("two names pointing at each other cannot loop: the later one's pointer is fine, the earlier one's not") {
        const std::vector<std::byte> w =
            Wire().header(0, 0, 0, 0, 0, 0).u8(1).u8('a').pointer(16).u8(1).u8('b').pointer(12);
        CHECK_FALSE(read_name(w, 12));  // a -> (forward) 16
        CHECK_FALSE(read_name(w, 16));  // b -> 12 -> forward to 16: refused at the second hop
    }
    SECTION("a chain of backward pointers expands") {
        const std::vector<std::byte> w =
            Wire().header(0, 0, 0, 0, 0, 0).name("example.com").u8(3).raw({'w', 'w', 'w'}).pointer(12);
        auto n = read_name(w, 25, out);
        REQUIRE(n);
        CHECK(n->length == 17);
        CHECK(n->compressed);
        CHECK(n->end == 31);
        std::string text;
        append_presentation(text, std::span(out.data(), n->length));
        CHECK(text == "www.example.com.");
    }
    SECTION("a 64-byte label is refused (0x40 is a reserved label type)") {
        Wire w;
        w.header(0, 0, 0, 0, 0, 0).u8(64);
        for (int i = 0; i < 64; ++i) w.u8('a');
        w.u8(0);
        CHECK_FALSE(read_name(w.bytes(), 12));
    }
    SECTION("255 bytes is the longest name; 256 is refused, also when reached through pointers") {
        Wire ok;
        ok.header(0, 0, 0, 0, 0, 0);
        for (int l = 0; l < 3; ++l) {
            ok.u8(63);
            for (int i = 0; i < 63; ++i) ok.u8('a');
        }
        ok.u8(61);
        for (int i = 0; i < 61; ++i) ok.u8('b');
        ok.u8(0);
        REQUIRE(read_name(ok.bytes(), 12));
        CHECK(read_name(ok.bytes(), 12)->length == 255);
        Wire bad = ok;
        bad.u8(1).u8('c').pointer(12);  // "c." + 255 bytes = 257
        CHECK_FALSE(read_name(bad.bytes(), 12 + 255));
    }
    SECTION("a name may take up to 127 pointers, not more: chains cannot make reading a message quadratic") {
        Wire w;
        w.header(0, 0, 0, 0, 0, 0).name("a");  // 12: 1 'a' 0
        std::size_t at = 15;
        std::vector<std::size_t> pointers;  // pointers[k] is reached in k + 1 hops
        for (std::size_t k = 0; k < 200; ++k, at += 2) {
            w.pointer(k == 0 ? 12 : pointers.back());
            pointers.push_back(at);
        }
        const auto n = read_name(w.bytes(), pointers[kMaxPointerHops - 1], out);
        REQUIRE(n);
        CHECK(n->length == 3);
        CHECK(n->end == pointers[kMaxPointerHops - 1] + 2);
        CHECK_FALSE(read_name(w.bytes(), pointers[kMaxPointerHops]));
        CHECK_FALSE(read_name(w.bytes(), pointers.back()));
    }
    SECTION("the name a pointer leads to must end before the pointer, not run on through it") {
        // 12: a TXT-like blob {4}; 13: a pointer back to it. The 4-byte label at 12 would take in the pointer itself and
        // the two bytes after it, then the root at 17.
        const std::vector<std::byte> w = Wire().header(0, 0, 0, 0, 0, 0).u8(4).pointer(12).u16(0x0101).u8(0);
        CHECK_FALSE(read_name(w, 13));
        const std::vector<std::byte> fine = Wire().header(0, 0, 0, 0, 0, 0).name("abcd").pointer(12);
        CHECK(read_name(fine, 18));
    }
    SECTION("a name running off the end is refused") {
        const std::vector<std::byte> w = Wire().header(0, 0, 0, 0, 0, 0).u8(5).raw({'a', 'b'});
        CHECK_FALSE(read_name(w, 12));
    }
}

TEST_CASE("a pointer into a checked question reads as the same name as the full walk") {
    // 12: the question "www.Example.com" (17 bytes); 29: QTYPE, QCLASS; then a name "x" with a pointer to each of the
    // question's bytes in turn, label starts and not.
    Wire question;
    question.header(0, 0x8180, 1, 1, 0, 0).question("www.Example.com", type::A);
    const CheckedName checked(question.bytes(), 12, 17);
    for (unsigned target = 12; target < 12 + 17; ++target) {
        Wire w = question;
        w.u8(1).u8('x').pointer(target);
        std::array<std::byte, kMaxNameLength> walked{}, skipped{};
        const auto full = read_name(w.bytes(), 33, walked);
        const auto fast = read_name(w.bytes(), 33, skipped, {}, &checked);
        INFO("pointer to " << target);
        REQUIRE(full.has_value() == fast.has_value());
        if (!full) continue;
        CHECK(fast->length == full->length);
        CHECK(fast->end == full->end);
        CHECK(fast->compressed);
        CHECK(std::equal(walked.begin(), walked.begin() + full->length, skipped.begin()));
    }
    SECTION("but not from a pointer inside the question, which leads to a name that runs on through it") {
        // 12: a 4-byte label holding the pointer c0 0c at 14, then "example"; an answer's owner points at 14.
        Wire w;
        w.header(0, 0x8180, 1, 1, 0, 0).u8(4).raw({'a', 0xc0, 0x0c, 'b'}).name("example").u16(type::A).u16(1);
        const std::size_t owner = w.size();
        w.pointer(14).rr_fixed(type::A, 60, 4).raw({192, 0, 2, 1});
        const CheckedName inside(w.bytes(), 12, 14);
        CHECK_FALSE(read_name(w.bytes(), owner));
        CHECK_FALSE(read_name(w.bytes(), owner, {}, {}, &inside));
        CHECK(parse(w) == ParseStatus::FormErr);
    }
    SECTION("and the 255-byte limit holds through it") {
        Wire w;
        w.header(0, 0x8180, 1, 1, 0, 0);
        for (int l = 0; l < 3; ++l) {
            w.u8(63);
            for (int i = 0; i < 63; ++i) w.u8('a');
        }
        w.u8(59);
        for (int i = 0; i < 59; ++i) w.u8('b');
        w.u8(0).u16(type::A).u16(1);  // a 253-byte question
        const CheckedName long_question(w.bytes(), 12, 253);
        const std::size_t longest = w.size();
        w.u8(1).u8('c').pointer(12);  // the label "c" (2 bytes) and 253 more: 255, the longest there is
        const std::size_t too_long = w.size();
        w.u8(2).u8('c').u8('d').pointer(12);  // 256
        const auto longest_name = read_name(w.bytes(), longest, {}, {}, &long_question);
        REQUIRE(longest_name);
        CHECK(longest_name->length == 255);
        CHECK_FALSE(read_name(w.bytes(), too_long, {}, {}, &long_question));
        CHECK_FALSE(read_name(w.bytes(), too_long));
    }
}

TEST_CASE("malformed messages: FORMERR when there is a header to answer, drop when there is not") {
    CHECK(parse(std::vector<std::byte>(11)) == ParseStatus::Drop);
    CHECK(parse(Wire().header(1, 0, 0, 0, 0, 0)) == ParseStatus::FormErr);  // no question
    CHECK(parse(Wire().header(1, 0, 2, 0, 0, 0).question("a", 1).question("b", 1)) == ParseStatus::FormErr);  // two
    CHECK(parse(Wire().header(1, 0, 1, 0, 0, 0).name("a").u16(1)) == ParseStatus::FormErr);           // cut QCLASS
    CHECK(parse(Wire().header(1, 0, 1, 0, 0, 0).pointer(12).u16(1).u16(1)) == ParseStatus::FormErr);  // self-pointer
    CHECK(parse(Wire().header(1, 0, 1, 0, 0, 0).pointer(0).u16(1).u16(1)) == ParseStatus::FormErr);   // into header
    CHECK(parse(Wire().header(0x0300, 0, 1, 0, 0, 0).u8(1).u8('a').pointer(4).u16(1).u16(1)) ==
          ParseStatus::FormErr);  // a compressed question name
    // Counts that lie: one answer announced, none present.
    CHECK(parse(Wire().header(1, 0x8180, 1, 1, 0, 0).question("a", 1)) == ParseStatus::FormErr);
    // RDLENGTH past the end.
    CHECK(parse(Wire().header(1, 0x8180, 1, 1, 0, 0).question("a", 1).pointer(12).rr_fixed(1, 60, 4).raw({1, 2})) ==
          ParseStatus::FormErr);
    // A record with the wrong size.
    CHECK(parse(Wire()
                    .header(1, 0x8180, 1, 1, 0, 0)
                    .question("a", 1)
                    .pointer(12)
                    .rr_fixed(type::A, 60, 3)
                    .raw({1, 2, 3})) == ParseStatus::FormErr);
    // CNAME whose name overruns its RDLENGTH, and one with trailing garbage inside it.
    CHECK(parse(Wire()
                    .header(1, 0x8180, 1, 1, 0, 0)
                    .question("a", 1)
                    .pointer(12)
                    .rr_fixed(type::CNAME, 60, 2)
                    .name("bb")) == ParseStatus::FormErr);
    CHECK(parse(Wire()
                    .header(1, 0x8180, 1, 1, 0, 0)
                    .question("a", 1)
                    .pointer(12)
                    .rr_fixed(type::CNAME, 60, 4)
                    .name("b")
                    .u8(9)) == ParseStatus::FormErr);
    // SOA whose fixed part is short.
    CHECK(parse(Wire()
                    .header(1, 0x8180, 1, 0, 1, 0)
                    .question("a", 1)
                    .pointer(12)
                    .rr_fixed(type::SOA, 60, 2 + 2 + 16)
                    .pointer(12)
                    .pointer(12)
                    .u32(1)
                    .u32(2)
                    .u32(3)
                    .u32(4)) == ParseStatus::FormErr);
    // OPT: in the answer section, twice, not owned by the root, options overrunning it.
    CHECK(parse(Wire().header(1, 0x8180, 1, 1, 0, 0).question("a", 1).opt(1232)) == ParseStatus::FormErr);
    CHECK(parse(Wire().header(1, 0, 1, 0, 0, 2).question("a", 1).opt(1232).opt(1232)) == ParseStatus::FormErr);
    CHECK(parse(Wire().header(1, 0, 1, 0, 0, 1).question("a", 1).name("x").u16(41).u16(1232).u32(0).u16(0)) ==
          ParseStatus::FormErr);
    CHECK(
        parse(Wire().header(1, 0, 1, 0, 0, 1).question("a", 1).u8(0).u16(41).u16(1232).u32(0).u16(4).u16(10).u16(9)) ==
        ParseStatus::FormErr);
}

TEST_CASE("a name may not point into a TTL field: TTLs are rewritten, and the name would change with them") {
    // Two answers. Offsets: question "a" 12-18; the first answer's owner pointer 19, TYPE 21, CLASS 23 (its last byte,
    // 24, is 1), TTL 25-28, RDLENGTH 29, RDATA 31; the second answer's owner is a pointer to `target`.
    auto two_answers = [](std::uint32_t first_ttl, unsigned target) {
        Wire w;
        w.header(1, 0x8180, 1, 2, 0, 0).question("a", type::A);
        w.pointer(12).rr_fixed(type::A, first_ttl, 4).raw({192, 0, 2, 1});
        w.pointer(target).rr_fixed(type::A, 60, 4).raw({192, 0, 2, 2});
        return std::vector<std::byte>(w);
    };
    CHECK(parse(two_answers(0x01016100, 26)) == ParseStatus::FormErr);  // "a." in TTL bytes 26-28
    CHECK(parse(two_answers(0x01016100, 12)) == ParseStatus::Ok);
    CHECK(parse(two_answers(0x01016100, 14)) == ParseStatus::Ok);  // the question's root label: odd, but stable
    // From CLASS's last byte, a one-byte label holding the TTL's first byte, then its second as the root.
    CHECK(parse(two_answers(0x00000000, 24)) == ParseStatus::FormErr);
    // TTL bytes 26-27 read as a pointer to the question's name.
    CHECK(parse(two_answers(0x00c00c00, 26)) == ParseStatus::FormErr);

    SECTION("not even a record's own TTL: an SOA whose RNAME points into it") {
        Wire w;
        w.header(1, 0x8183, 1, 0, 1, 0).question("a", type::A);
        // Owner 19, TYPE 21, CLASS 23, TTL 25-28 (0x00016100: "a." from byte 26), RDLENGTH 29, MNAME 31, RNAME 33.
        w.pointer(12).rr_fixed(type::SOA, 0x00016100, 2 + 2 + 20);
        w.pointer(12).pointer(26).u32(1).u32(2).u32(3).u32(4).u32(5);
        CHECK(parse(w) == ParseStatus::FormErr);
    }
}

TEST_CASE("random bytes and every truncation of a valid response never crash the parser") {
    const std::vector<std::byte> good = full_response();
    Message m;
    for (std::size_t n = 0; n < good.size(); ++n) {
        const auto status = parse_message(std::span(good.data(), n), m);
        CHECK(status != ParseStatus::Ok);  // each prefix cuts a record or a count short
    }
    std::mt19937 rng(12345);
    std::vector<std::byte> noise;
    for (int round = 0; round < 20000; ++round) {
        noise = good;
        const int flips = 1 + static_cast<int>(rng() % 8);
        for (int f = 0; f < flips; ++f) noise[rng() % noise.size()] = static_cast<std::byte>(rng());
        const auto status = parse_message(noise, m);
        if (status == ParseStatus::Ok) {
            // Whatever it accepted must lie inside the message.
            CHECK(m.end <= noise.size());
            for (auto at : m.ttl_offsets) CHECK(at + 4u <= m.end);
        }
    }
}
