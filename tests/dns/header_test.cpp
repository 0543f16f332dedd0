#include "dns/header.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace greenfinch::dns;

namespace {
std::vector<std::byte> make_query(std::uint16_t id, std::uint16_t flags, std::vector<std::uint8_t> question,
                                  std::uint16_t qdcount = 1) {
    std::vector<std::uint8_t> raw = {static_cast<std::uint8_t>(id >> 8),
                                     static_cast<std::uint8_t>(id),
                                     static_cast<std::uint8_t>(flags >> 8),
                                     static_cast<std::uint8_t>(flags),
                                     0,
                                     static_cast<std::uint8_t>(qdcount),
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
                                     0};
    raw.insert(raw.end(), question.begin(), question.end());
    std::vector<std::byte> out;
    for (auto b : raw) out.push_back(static_cast<std::byte>(b));
    return out;
}
const std::vector<std::uint8_t> kExampleA = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
}  // namespace

TEST_CASE("REFUSED echoes the ID, RD and question, with QR and RA set") {
    auto q = make_query(0xbeef, 0x0100, kExampleA);
    std::array<std::byte, 512> out{};
    const std::size_t n = make_error_response(q, Rcode::Refused, out);
    REQUIRE(n == q.size());
    auto h = parse_header(std::span(out.data(), n));
    REQUIRE(h);
    CHECK(h->id == 0xbeef);
    CHECK(h->qr());
    CHECK(h->rd());
    CHECK(h->rcode() == Rcode::Refused);
    CHECK(h->qdcount == 1);
    CHECK(h->ancount == 0);
    CHECK(std::equal(q.begin() + kHeaderSize, q.end(), out.begin() + kHeaderSize));
}

TEST_CASE("the header's flags read as RFC 1035 places them") {
    const auto h = parse_header(make_query(1, 0x8380 | 0x0003, kExampleA));  // QR, TC, RD, RA; NXDOMAIN
    REQUIRE(h);
    CHECK(h->qr());
    CHECK(h->tc());
    CHECK(h->rd());
    CHECK(h->opcode() == 0);
    CHECK(h->rcode() == Rcode::NxDomain);
    const auto plain = parse_header(make_query(1, 0x0100, kExampleA));
    REQUIRE(plain);
    CHECK_FALSE(plain->qr());
    CHECK_FALSE(plain->tc());
    CHECK(plain->rcode() == Rcode::NoError);
}

TEST_CASE("a message's head (ID and flags) reads from its first four bytes alone") {
    const auto whole = make_query(0xbeef, 0x8180 | 0x0002, kExampleA);  // a SERVFAIL response
    const auto head = parse_message_head(std::span(whole).first(kMessageHeadSize));
    REQUIRE(head);
    CHECK(head->id == 0xbeef);
    CHECK(head->qr());
    CHECK(head->rcode() == Rcode::ServFail);
    CHECK_FALSE(parse_message_head(std::span(whole).first(kMessageHeadSize - 1)));
    CHECK_FALSE(parse_header(std::span(whole).first(kHeaderSize - 1)));
}

TEST_CASE("malformed queries get FORMERR without a question, or nothing at all") {
    std::array<std::byte, 512> out{};
    SECTION("shorter than a header: dropped") {
        std::vector<std::byte> tiny(5);
        CHECK(make_error_response(tiny, Rcode::Refused, out) == 0);
    }
    SECTION("a response is never answered (no reflection loops)") {
        auto r = make_query(1, 0x8000, kExampleA);
        CHECK(make_error_response(r, Rcode::Refused, out) == 0);
    }
    SECTION("truncated question") {
        auto q = make_query(2, 0, {7, 'e', 'x', 'a'});
        REQUIRE(make_error_response(q, Rcode::Refused, out) == kHeaderSize);
        CHECK(parse_header(out)->rcode() == Rcode::FormErr);
        CHECK(parse_header(out)->qdcount == 0);
    }
    SECTION("a compression pointer in the question name") {
        auto q = make_query(3, 0, {0xc0, 0x0c, 0, 1, 0, 1});
        REQUIRE(make_error_response(q, Rcode::Refused, out) == kHeaderSize);
        CHECK(parse_header(out)->rcode() == Rcode::FormErr);
    }
    SECTION("a name longer than 255 bytes") {
        std::vector<std::uint8_t> name;
        for (int i = 0; i < 5; ++i) {
            name.push_back(63);
            name.insert(name.end(), 63, 'a');
        }
        name.insert(name.end(), {0, 0, 1, 0, 1});
        auto q = make_query(4, 0, name);
        REQUIRE(make_error_response(q, Rcode::Refused, out) == kHeaderSize);
        CHECK(parse_header(out)->rcode() == Rcode::FormErr);
    }
    SECTION("two questions") {
        auto q = make_query(5, 0, kExampleA, 2);
        REQUIRE(make_error_response(q, Rcode::Refused, out) == kHeaderSize);
        CHECK(parse_header(out)->rcode() == Rcode::FormErr);
    }
}

TEST_CASE("an error response to an EDNS client carries our OPT record after the question") {
    auto q = make_query(0x1234, 0x0100, kExampleA);
    std::array<std::byte, 512> out{};
    const std::size_t n = make_error_response(q, Rcode::ServFail, out, OptRecord{1232, true});
    REQUIRE(n == q.size() + kOptRecordSize);
    auto h = parse_header(std::span(out.data(), n));
    REQUIRE(h);
    CHECK(h->rcode() == Rcode::ServFail);
    CHECK(h->arcount == 1);
    const std::array<std::uint8_t, kOptRecordSize> opt{0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0};
    for (std::size_t i = 0; i < opt.size(); ++i) CHECK(std::to_integer<std::uint8_t>(out[q.size() + i]) == opt[i]);
    SECTION("but none where it does not fit") {
        std::array<std::byte, 30> small{};
        CHECK(make_error_response(q, Rcode::ServFail, small, OptRecord{}) == q.size());
        CHECK(parse_header(small)->arcount == 0);
    }
}

namespace {
std::vector<std::byte> with_opt(std::vector<std::byte> q, std::uint32_t ttl, std::vector<std::uint8_t> rdata = {}) {
    const std::vector<std::uint8_t> fixed = {0,
                                             0,
                                             41,
                                             0x10,
                                             0,
                                             static_cast<std::uint8_t>(ttl >> 24),
                                             static_cast<std::uint8_t>(ttl >> 16),
                                             static_cast<std::uint8_t>(ttl >> 8),
                                             static_cast<std::uint8_t>(ttl),
                                             0,
                                             static_cast<std::uint8_t>(rdata.size())};
    for (auto b : fixed) q.push_back(static_cast<std::byte>(b));
    for (auto b : rdata) q.push_back(static_cast<std::byte>(b));
    q[11] = std::byte{1};
    return q;
}
std::uint8_t byte_at(std::span<const std::byte> m, std::size_t at) { return std::to_integer<std::uint8_t>(m[at]); }
}  // namespace

TEST_CASE("BADVERS is extended rcode 16: 0 in the header, 1 in our OPT record of version 0, and no answer") {
    // EDNS version 1 with DO, an unknown flag (0x0080) and an unknown option (100), as genreport's edns1opt sends.
    auto q = with_opt(make_query(0x5151, 0x0100, kExampleA), 0x00018080, {0, 100, 0, 0});
    std::array<std::byte, 512> out{};
    const std::size_t n =
        make_error_response(q, Rcode::BadVers, out, OptRecord{.udp_payload = 1232, .dnssec_ok = true});
    REQUIRE(n == make_query(0, 0, kExampleA).size() + kOptRecordSize);
    const auto h = parse_header(std::span(out.data(), n));
    REQUIRE(h);
    CHECK(h->rcode() == Rcode::NoError);  // the low 4 bits of 16
    CHECK(h->qdcount == 1);
    CHECK(h->ancount == 0);
    CHECK(h->arcount == 1);
    const std::size_t opt = n - kOptRecordSize;
    CHECK(byte_at(out, opt + 5) == 1);     // extended RCODE: 16 >> 4
    CHECK(byte_at(out, opt + 6) == 0);     // version 0
    CHECK(byte_at(out, opt + 7) == 0x80);  // DO echoed, the unknown flag not
    CHECK(byte_at(out, opt + 8) == 0);
    CHECK(byte_at(out, opt + 10) == 0);  // no option echoed
    SECTION("without room for an OPT record it cannot be said: FORMERR") {
        CHECK(make_error_response(q, Rcode::BadVers, out) == n - kOptRecordSize);
        CHECK(parse_header(out)->rcode() == Rcode::FormErr);
    }
}

TEST_CASE("an unknown opcode gets NOTIMP without a question, its opcode and RD echoed, the flags of QUERY clear") {
    // genreport's opcodeflg: opcode 15, no question, TC, RD, RA, Z, AD, CD and AA all set.
    auto q = make_query(0x0f0f, 0x7800 | 0x0200 | 0x0100 | 0x0080 | 0x0040 | 0x0020 | 0x0010 | 0x0400, {}, 0);
    std::array<std::byte, 512> out{};
    const std::size_t n = make_error_response(q, Rcode::NotImp, out);
    REQUIRE(n == kHeaderSize);
    const auto h = parse_header(std::span(out.data(), n));
    REQUIRE(h);
    CHECK(h->id == 0x0f0f);
    CHECK(h->qr());
    CHECK(h->opcode() == 15);
    CHECK(h->rcode() == Rcode::NotImp);
    CHECK(h->rd());
    CHECK(h->qdcount == 0);
    CHECK((h->flags & (kFlagAa | kFlagTc | kFlagRa | kFlagZ | kFlagAd | kFlagCd)) == 0);
    SECTION("with a question, it is echoed") {
        auto notify = make_query(7, 0x2000, kExampleA);
        REQUIRE(make_error_response(notify, Rcode::NotImp, out) == notify.size());
        CHECK(parse_header(out)->rcode() == Rcode::NotImp);
        CHECK(parse_header(out)->qdcount == 1);
    }
}

TEST_CASE("an error response to a standard query echoes CD, sets RA, and never Z, AD or AA unless authoritative") {
    auto q = make_query(9, 0x0100 | 0x0040 | 0x0020 | 0x0010 | 0x0400, kExampleA);
    std::array<std::byte, 512> out{};
    REQUIRE(make_error_response(q, Rcode::ServFail, out) == q.size());
    auto h = parse_header(out);
    CHECK((h->flags & kFlagCd) != 0);
    CHECK((h->flags & kFlagRa) != 0);
    CHECK((h->flags & (kFlagZ | kFlagAd | kFlagAa | kFlagTc)) == 0);
    REQUIRE(make_error_response(q, Rcode::NxDomain, out, std::nullopt, Authority::Authoritative) == q.size());
    h = parse_header(out);
    CHECK((h->flags & kFlagAa) != 0);
    CHECK(h->rcode() == Rcode::NxDomain);
}

TEST_CASE("an error response carries an EDE in its OPT record when asked, and drops it before the OPT for room") {
    auto q = make_query(0x1234, 0x0100, kExampleA);
    std::array<std::byte, 512> out{};
    const OptRecord opt{.udp_payload = 1232, .ede = EdeCode::NoReachableAuthority};
    std::size_t n = make_error_response(q, Rcode::ServFail, out, opt);
    REQUIRE(n == q.size() + kOptRecordSize + kEdeOptionSize);
    const std::array<std::uint8_t, kOptRecordSize + kEdeOptionSize> expected{0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0,
                                                                             0, 6, 0,  15,   0,    2, 0, 22};
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(byte_at(out, q.size() + i) == expected[i]);
    std::vector<std::byte> small(q.size() + kOptRecordSize + kEdeOptionSize - 1);
    n = make_error_response(q, Rcode::ServFail, small, opt);
    REQUIRE(n == q.size() + kOptRecordSize);
    CHECK(parse_header(small)->arcount == 1);
    CHECK(byte_at(small, n - 1) == 0);  // RDLENGTH 0: the OPT without its EDE
}
