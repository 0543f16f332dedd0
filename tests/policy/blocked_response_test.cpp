// Blocked responses: each [block] answer mode, for EDNS clients and not, parsed back as a client would.
#include "policy/blocked_response.hpp"

#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/presentation.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace greenfinch;
using policy::BlockAnswer;

namespace {
struct Response {
    std::vector<std::byte> wire;
    dns::Message parsed;
};

Response blocked(const std::string& name, std::uint16_t qtype, BlockAnswer mode, std::size_t listed_at,
                 std::optional<std::uint16_t> edns = 1232) {
    const auto query = *dns::build_query(name, qtype, 0x4242, edns, false);
    dns::Message q;
    REQUIRE(dns::parse_message(query, q) == dns::ParseStatus::Ok);
    Response r;
    r.wire.resize(512);
    const policy::ReplyRoom room{.limit = 512,
                                 .opt = edns ? std::optional<dns::OptRecord>(dns::OptRecord{}) : std::nullopt};
    r.wire.resize(
        policy::write_blocked_response({.wire = query, .parsed = q, .listed_at = listed_at}, mode, room, r.wire));
    REQUIRE(!r.wire.empty());
    REQUIRE(dns::parse_message(r.wire, r.parsed) == dns::ParseStatus::Ok);
    CHECK(r.parsed.header.id == 0x4242);
    CHECK(r.parsed.header.qr());
    CHECK_FALSE((r.parsed.header.flags & 0x0400) != 0);  // AA
    CHECK(r.parsed.header.qdcount == 1);
    return r;
}

bool has_ede(const Response& r, std::uint16_t code) {
    if (!r.parsed.edns.present) return false;
    const std::size_t rdlength = dns::read_u16(r.wire, r.parsed.edns.offset + 9);
    const std::size_t options = r.parsed.edns.offset + dns::kOptRecordSize;
    return rdlength == 6 && dns::read_u16(r.wire, options) == 15 && dns::read_u16(r.wire, options + 4) == code;
}
}  // namespace

TEST_CASE("nxdomain: NXDOMAIN with the listed name's SOA, and EDE 15 for an EDNS client") {
    const Response r = blocked("www.Ads.example", dns::type::A, BlockAnswer::nxdomain, 4);
    CHECK(r.parsed.header.rcode() == dns::Rcode::NxDomain);
    CHECK(r.parsed.header.ancount == 0);
    CHECK(r.parsed.header.nscount == 1);
    REQUIRE(r.parsed.soa);
    CHECK(r.parsed.soa->minimum == policy::kBlockedTtl);
    CHECK(has_ede(r, 15));
    std::size_t next = 0;
    const std::string soa = dns::format_record(r.wire, r.parsed.question.end, next);
    CHECK(soa.rfind("Ads.example.\t10\tIN\tSOA\tAds.example. nobody.invalid. 1 ", 0) == 0);
}

TEST_CASE("null: A 0.0.0.0, AAAA ::, NODATA with the SOA for other types") {
    const Response a = blocked("ads.example", dns::type::A, BlockAnswer::null, 0);
    CHECK(a.parsed.header.rcode() == dns::Rcode::NoError);
    REQUIRE(a.parsed.header.ancount == 1);
    std::size_t next = 0;
    CHECK(dns::format_record(a.wire, a.parsed.question.end, next) == "ads.example.\t10\tIN\tA\t0.0.0.0");
    const Response aaaa = blocked("ads.example", dns::type::AAAA, BlockAnswer::null, 0);
    REQUIRE(aaaa.parsed.header.ancount == 1);
    CHECK(dns::format_record(aaaa.wire, aaaa.parsed.question.end, next) ==
          "ads.example.\t10\tIN\tAAAA\t0:0:0:0:0:0:0:0");
    const Response mx = blocked("ads.example", dns::type::MX, BlockAnswer::null, 0);
    CHECK(mx.parsed.header.rcode() == dns::Rcode::NoError);
    CHECK(mx.parsed.header.ancount == 0);
    CHECK(mx.parsed.soa);
    CHECK(has_ede(mx, 15));
}

TEST_CASE("refused: REFUSED without records, a client without EDNS gets no OPT") {
    const Response r = blocked("ads.example", dns::type::A, BlockAnswer::refused, 0, std::nullopt);
    CHECK(r.parsed.header.rcode() == dns::Rcode::Refused);
    CHECK(r.parsed.header.ancount + r.parsed.header.nscount + r.parsed.header.arcount == 0);
    CHECK_FALSE(r.parsed.edns.present);
}

TEST_CASE("a buffer too small for the response gives 0, never a partial message") {
    const auto query = *dns::build_query("ads.example", dns::type::A, 1, 1232, false);
    dns::Message q;
    REQUIRE(dns::parse_message(query, q) == dns::ParseStatus::Ok);
    for (std::size_t size = 0; size < 60; ++size) {
        std::vector<std::byte> out(size);
        const std::size_t n = policy::write_blocked_response({.wire = query, .parsed = q, .listed_at = 0},
                                                             BlockAnswer::nxdomain, {.opt = dns::OptRecord{}}, out);
        if (n != 0) {
            dns::Message m;
            CHECK(dns::parse_message(std::span(out).first(n), m) == dns::ParseStatus::Ok);
        }
    }
}
