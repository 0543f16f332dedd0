// Cache keys and the rewriting of a stored answer for one client.
#include "dns/answer.hpp"
#include "dns/query_key.hpp"
#include "tests/dns/wire_builder.hpp"

#include "tests/dns/parsed.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cctype>
#include <string>

using namespace greenfinch::dns;
using greenfinch::test::Wire;

using greenfinch::test::parsed;

namespace {
std::span<const std::byte> qname_of(const std::vector<std::byte>& w, const Message& m) {
    return std::span(w.data() + m.question.name_offset, m.question.name_length);
}
}  // namespace

TEST_CASE("the cache key ignores the name's case and the ID, and tells DO, CD, type and class apart") {
    const std::vector<std::byte> a = Wire().header(1, 0x0100, 1, 0, 0, 0).question("WWW.Example.com", type::A);
    const std::vector<std::byte> b = Wire().header(2, 0x0100, 1, 0, 0, 0).question("www.example.COM", type::A);
    const std::vector<std::byte> aaaa = Wire().header(1, 0x0100, 1, 0, 0, 0).question("www.example.com", type::AAAA);
    const std::vector<std::byte> chaos = Wire().header(1, 0x0100, 1, 0, 0, 0).question("www.example.com", type::A, 3);
    const std::vector<std::byte> cd = Wire().header(1, 0x0110, 1, 0, 0, 0).question("www.example.com", type::A);
    const std::vector<std::byte> dnssec =
        Wire().header(1, 0x0100, 1, 0, 0, 1).question("www.example.com", type::A).opt(1232, true);
    const std::vector<std::byte> edns =
        Wire().header(1, 0x0100, 1, 0, 0, 1).question("www.example.com", type::A).opt(4096);
    auto key = [](const std::vector<std::byte>& w) { return QueryKey(w, parsed(w)); };
    CHECK(key(a) == key(b));
    CHECK(key(a).hash() == key(b).hash());
    CHECK(key(a) == key(edns));  // EDNS without DO does not change the answer
    CHECK_FALSE(key(a) == key(aaaa));
    CHECK_FALSE(key(a) == key(chaos));
    CHECK_FALSE(key(a) == key(cd));
    CHECK_FALSE(key(a) == key(dnssec));
    CHECK(key(cd).checking_disabled());
    CHECK(key(dnssec).dnssec_ok());
    CHECK(key(aaaa).qtype() == type::AAAA);
    CHECK(key(chaos).qclass() == 3);
}

TEST_CASE("the cache key's hash ignores case at every name length and spreads over the shard and index bits") {
    auto key = [](const std::string& name) {
        const std::vector<std::byte> w = Wire().header(1, 0x0100, 1, 0, 0, 0).question(name, type::A);
        return QueryKey(w, parsed(w));
    };
    std::string lower = "a";
    for (std::size_t labels = 1; labels < 40; ++labels) {  // wire lengths 3 to 119: every tail length a word can leave
        std::string upper = lower;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        REQUIRE(key(lower).hash() == key(upper).hash());
        std::string changed = lower;
        changed.back() = 'b';  // the last byte, which only the overlapping last word reads
        REQUIRE(key(lower).hash() != key(changed).hash());
        lower += ".a";
    }
    std::array<int, 16> top{}, low{};
    for (int i = 0; i < 16000; ++i) {
        const std::uint64_t h = key("h" + std::to_string(i) + ".w.bench.test").hash();
        ++top[h >> 60];
        ++low[h & 15];
    }
    for (int n : top) CHECK((n > 850 && n < 1150));
    for (int n : low) CHECK((n > 850 && n < 1150));
}

TEST_CASE("an answer from cache gets the client's ID and name case, and TTLs aged by its time in cache") {
    const std::vector<std::byte> stored = Wire()
                                              .header(0xaaaa, 0x8180, 1, 2, 0, 0)
                                              .question("www.example.com", type::A)
                                              .pointer(12)
                                              .rr_fixed(type::A, 300, 4)
                                              .raw({192, 0, 2, 1})
                                              .pointer(12)
                                              .rr_fixed(type::A, 20, 4)
                                              .raw({192, 0, 2, 2});
    const Message sm = parsed(stored);
    const std::vector<std::byte> query = Wire().header(0x0bee, 0x0100, 1, 0, 0, 0).question("WwW.ExAmPlE.CoM", type::A);
    const Message qm = parsed(query);
    std::array<std::byte, 512> out{};
    const std::size_t n =
        write_answer(stored, sm, {0x0bee, qname_of(query, qm), 30, std::nullopt, udp_limit(qm, 1232)}, out);
    REQUIRE(n == stored.size());
    const std::vector<std::byte> answer(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    const Message am = parsed(answer);
    CHECK(am.header.id == 0x0bee);
    CHECK(std::equal(qname_of(answer, am).begin(), qname_of(answer, am).end(), qname_of(query, qm).begin()));
    CHECK(read_u32(answer, am.ttl_offsets[0]) == 270);
    CHECK(read_u32(answer, am.ttl_offsets[1]) == 0);  // aged past zero: zero, never wrapped
    // The stored copy is untouched.
    CHECK(read_u32(stored, sm.ttl_offsets[0]) == 300);

    SECTION("a stale answer carries the fixed TTL instead") {
        const std::size_t s = write_answer(stored, sm, {1, qname_of(query, qm), 100000, 30u, 512}, out);
        REQUIRE(s == stored.size());
        const std::vector<std::byte> stale(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(s));
        const Message st = parsed(stale);
        CHECK(read_u32(stale, st.ttl_offsets[0]) == 30);
        CHECK(read_u32(stale, st.ttl_offsets[1]) == 30);
    }
}

TEST_CASE("an answer too large for the client's UDP size becomes TC=1 with the question (and OPT)") {
    Wire big;
    big.header(5, 0x8180, 1, 30, 0, 1).question("big.example", type::TXT);
    for (int i = 0; i < 30; ++i)
        big.pointer(12).rr_fixed(type::TXT, 60, 21).u8(20).raw({'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
                                                                'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'});
    big.opt(1232);
    const std::vector<std::byte> stored = big;
    const Message sm = parsed(stored);
    REQUIRE(stored.size() > 512);
    REQUIRE(stored.size() <= 1232);

    const std::vector<std::byte> plain = Wire().header(9, 0x0100, 1, 0, 0, 0).question("big.example", type::TXT);
    const Message pm = parsed(plain);
    CHECK(udp_limit(pm, 1232) == 512);
    std::array<std::byte, 4096> out{};
    std::size_t n = write_answer(stored, sm, {9, qname_of(plain, pm), 0, std::nullopt, udp_limit(pm, 1232)}, out);
    std::vector<std::byte> tc(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    Message tm = parsed(tc);
    CHECK(tm.truncated());
    CHECK(tm.header.id == 9);
    CHECK(tm.header.ancount == 0);
    CHECK(tm.edns.present);  // the stored answer's OPT, so the client keeps talking EDNS

    // A client without EDNS gets no OPT back, when the answer fits.
    const std::vector<std::byte> small_stored =
        Wire().header(5, 0x8180, 1, 0, 0, 1).question("big.example", type::TXT).opt(1232);
    const Message ssm = parsed(small_stored);
    n = write_answer(small_stored, ssm, {9, qname_of(plain, pm), 0, std::nullopt, 512, false}, out);
    CHECK(n == small_stored.size() - 11);
    CHECK_FALSE(parsed(std::vector<std::byte>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n))).edns.present);

    const std::vector<std::byte> large =
        Wire().header(9, 0x0100, 1, 0, 0, 1).question("big.example", type::TXT).opt(4096);
    const Message lm = parsed(large);
    CHECK(udp_limit(lm, 1232) == 1232);  // capped
    n = write_answer(stored, sm, {9, qname_of(large, lm), 0, std::nullopt, udp_limit(lm, 1232)}, out);
    CHECK(n == stored.size());  // fits in 1232
    const std::vector<std::byte> tiny_edns =
        Wire().header(9, 0x0100, 1, 0, 0, 1).question("big.example", type::TXT).opt(100);
    CHECK(udp_limit(parsed(tiny_edns), 1232) == 512);  // below 512 counts as 512
}

namespace {
// An authoritative server's answer as NSD sends it: AA set, RA clear, and Z set as a broken one might; its OPT record
// with its own payload size, DO clear, an unknown flag and an NSID option.
Wire upstream_answer(unsigned flags = 0x8400 | 0x0040 | 0x0020) {
    Wire w;
    w.header(0xaaaa, flags, 1, 1, 0, 1)
        .question("www.example.com", type::A)
        .pointer(12)
        .rr_fixed(type::A, 300, 4)
        .raw({192, 0, 2, 1});
    return w;
}
Wire& nsid_opt(Wire& w) { return w.u8(0).u16(41).u16(4096).u32(0x00000081).u16(6).u16(3).u16(2).raw({'u', 'p'}); }
}  // namespace

TEST_CASE("a forwarded answer is made ours: AA, Z and AD clear, RA set, and our OPT record without options") {
    Wire w = upstream_answer();
    std::vector<std::byte> wire = nsid_opt(w);
    Message m = parsed(wire);
    REQUIRE(prepare_forwarded_answer(wire, m, OptRecord{.udp_payload = 1232}));
    const Message again = parsed(wire);
    CHECK(again.header.flags == m.header.flags);
    CHECK_FALSE(m.header.flags & kFlagAa);
    CHECK_FALSE(m.header.flags & kFlagZ);
    CHECK_FALSE(m.header.flags & kFlagAd);  // DO was not asked (RFC 6840 5.8)
    CHECK(m.header.flags & kFlagRa);
    CHECK(m.header.flags & kFlagQr);
    CHECK(m.header.ancount == 1);
    REQUIRE(m.edns.present);
    CHECK(m.edns.offset == again.edns.offset);
    CHECK(m.edns.offset + kOptRecordSize == wire.size());  // last, RDLENGTH 0: the NSID is gone
    CHECK(m.end == wire.size());
    CHECK(again.end == wire.size());
    CHECK(again.edns.udp_size == 1232);
    CHECK(read_u32(wire, m.edns.offset + 5) == 0);  // version 0, no flags: neither the unknown one nor DO
    CHECK(m.ttl_offsets == again.ttl_offsets);
    CHECK(read_u32(wire, m.ttl_offsets.at(0)) == 300);

    SECTION("with DO asked, the OPT carries DO and AD stays") {
        Wire w2 = upstream_answer();
        std::vector<std::byte> signed_wire = nsid_opt(w2);
        Message sm = parsed(signed_wire);
        REQUIRE(prepare_forwarded_answer(signed_wire, sm, OptRecord{.udp_payload = 1232, .dnssec_ok = true}));
        CHECK(sm.header.flags & kFlagAd);
        CHECK(sm.edns.dnssec_ok);
        CHECK(parsed(signed_wire).edns.dnssec_ok);
        CHECK(read_u16(signed_wire, sm.edns.offset + 7) == kOptFlagDo);
    }
}

TEST_CASE("a forwarded answer without an OPT record gets ours, and bytes past its end are left out") {
    std::vector<std::byte> wire = upstream_answer(0x8180);
    write_u16(wire, 10, 0);
    wire.push_back(std::byte{0x99});  // trailing garbage, which the parse ignores
    Message m = parsed(wire);
    REQUIRE_FALSE(m.edns.present);
    REQUIRE(prepare_forwarded_answer(wire, m, OptRecord{.udp_payload = 1232, .dnssec_ok = true}));
    const Message again = parsed(wire);
    CHECK(again.header.arcount == 1);
    CHECK(m.header.arcount == 1);
    REQUIRE(again.edns.present);
    CHECK(again.edns.dnssec_ok);
    CHECK(again.edns.offset + kOptRecordSize == wire.size());
    CHECK(m.edns.offset == again.edns.offset);
    CHECK(m.end == wire.size());
}

TEST_CASE("a forwarded answer whose OPT is not last loses what follows it, and its parse is redone") {
    Wire w = upstream_answer(0x8180);
    std::vector<std::byte> wire = nsid_opt(w).pointer(12).rr_fixed(type::A, 77, 4).raw({192, 0, 2, 9});
    write_u16(wire, 10, 2);
    Message m = parsed(wire);
    REQUIRE(m.ttl_offsets.size() == 2);
    REQUIRE(prepare_forwarded_answer(wire, m, OptRecord{.udp_payload = 1232}));
    CHECK(m.header.arcount == 1);
    CHECK(m.ttl_offsets.size() == 1);
    CHECK(m.min_ttl == 300u);
    CHECK(m.edns.offset + kOptRecordSize == wire.size());
    CHECK(parsed(wire).end == wire.size());
}

TEST_CASE("a served answer carries an EDE for an EDNS client when it fits, and never costs the answer") {
    Wire w = upstream_answer(0x8180);
    std::vector<std::byte> stored = w.opt(1232);
    Message sm = parsed(stored);
    REQUIRE(prepare_forwarded_answer(stored, sm, OptRecord{.udp_payload = 1232}));
    const std::vector<std::byte> query =
        Wire().header(3, 0x0100, 1, 0, 0, 1).question("www.example.com", type::A).opt(1232);
    const Message qm = parsed(query);
    std::array<std::byte, 512> out{};
    AnswerRewrite rw{.id = 3, .client_qname = qname_of(query, qm), .limit = 512, .ede = EdeCode::StaleAnswer};
    std::size_t n = write_answer(stored, sm, rw, out);
    REQUIRE(n == stored.size() + kEdeOptionSize);
    std::vector<std::byte> answer(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    Message am = parsed(answer);
    CHECK(am.header.ancount == 1);
    CHECK(am.end == n);
    CHECK(read_u16(answer, am.edns.offset + 9) == kEdeOptionSize);
    CHECK(read_u16(answer, am.edns.offset + 11) == kEdnsOptionEde);
    CHECK(read_u16(answer, am.edns.offset + 15) == 3);
    CHECK(read_u16(stored, sm.edns.offset + 9) == 0);  // the stored copy is untouched

    SECTION("past the client's limit the EDE stays out, and the answer is not truncated") {
        rw.limit = stored.size() + kEdeOptionSize - 1;
        n = write_answer(stored, sm, rw, out);
        REQUIRE(n == stored.size());
        answer.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        am = parsed(answer);
        CHECK_FALSE(am.truncated());
        CHECK(am.header.ancount == 1);
        CHECK(read_u16(answer, am.edns.offset + 9) == 0);
    }
    SECTION("a client without EDNS gets neither OPT nor EDE") {
        rw.client_edns = false;
        n = write_answer(stored, sm, rw, out);
        REQUIRE(n == stored.size() - kOptRecordSize);
        answer.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        am = parsed(answer);
        CHECK_FALSE(am.edns.present);
        CHECK(am.header.arcount == 0);
    }
}
