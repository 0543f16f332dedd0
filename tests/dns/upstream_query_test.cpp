#include "dns/upstream_query.hpp"
#include "dns/message.hpp"
#include "dns/query_key.hpp"
#include "tests/dns/wire_builder.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace greenfinch::dns;
using greenfinch::test::Wire;

namespace {
QueryKey key_of(const std::vector<std::byte>& query) {
    Message m;
    REQUIRE(parse_message(query, m) == ParseStatus::Ok);
    return QueryKey(query, m);
}
}  // namespace

TEST_CASE("the upstream query asks the key's question with RD, our OPT and nothing of the client's") {
    // RD=0, CD=1, ID 0x4242, mixed case, an OPT of 4096 bytes with DO and a cookie option.
    const std::vector<std::byte> client = Wire()
                                              .header(0x4242, 0x0010, 1, 0, 0, 1)
                                              .question("WwW.Example.COM", type::AAAA)
                                              .u8(0)
                                              .u16(41)
                                              .u16(4096)
                                              .u32(0x8000)
                                              .u16(12)
                                              .u16(10)
                                              .u16(8)
                                              .u32(0x01020304)
                                              .u32(0x05060708);
    const QueryKey key = key_of(client);
    UpstreamQueryBuffer buffer;
    const auto q = write_upstream_query(key, 1232, buffer);
    Message m;
    REQUIRE(parse_message(q, m) == ParseStatus::Ok);
    CHECK(m.header.id == 0);
    CHECK(m.header.flags == 0x0110);  // RD and CD, nothing else
    CHECK(m.header.qdcount == 1);
    CHECK(m.header.arcount == 1);
    CHECK(m.question.qtype == type::AAAA);
    CHECK(m.edns.present);
    CHECK(m.edns.udp_size == 1232);
    CHECK(m.edns.dnssec_ok);
    CHECK(m.edns.offset + kOptRecordSize == q.size());  // the last record, without options
    CHECK(key.same_question(q, m));
    CHECK(key_of(std::vector<std::byte>(q.begin(), q.end())) == key);

    SECTION("a client without EDNS is asked for with EDNS all the same, DO clear") {
        const QueryKey plain = key_of(Wire().header(7, 0x0100, 1, 0, 0, 0).question("example.com", type::A));
        const auto p = write_upstream_query(plain, 1232, buffer);
        Message pm;
        REQUIRE(parse_message(p, pm) == ParseStatus::Ok);
        CHECK(pm.header.flags == 0x0100);
        CHECK(pm.edns.present);
        CHECK_FALSE(pm.edns.dnssec_ok);
    }

    SECTION("for an upstream without EDNS, the same question without the OPT record") {
        const auto stripped = without_opt(q, buffer);
        REQUIRE(stripped);
        const auto bare = *stripped;
        Message bm;
        REQUIRE(parse_message(bare, bm) == ParseStatus::Ok);
        CHECK(bare.size() == q.size() - kOptRecordSize);
        CHECK(bm.header.flags == 0x0110);
        CHECK(bm.header.arcount == 0);
        CHECK_FALSE(bm.edns.present);
        CHECK(key.same_question(bare, bm));
        SECTION("and a query without one has none to drop") { CHECK_FALSE(without_opt(bare, buffer)); }
    }
}
