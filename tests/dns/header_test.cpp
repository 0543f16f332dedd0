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
