// Walking a parsed message's records, and the CNAME chain of an answer.
#include "dns/records.hpp"

#include "dns/bytes.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "tests/dns/wire_builder.hpp"

#include "tests/dns/parsed.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace greenfinch::dns;
using greenfinch::test::Wire;

using greenfinch::test::parsed;

namespace {

std::string text(std::span<const std::byte> name) {
    std::string out;
    append_presentation(out, name);
    return out;
}

struct Chain {
    std::vector<std::string> targets;
    ChainEnd end = ChainEnd::none;
};

Chain chain_of(const std::vector<std::byte>& w) {
    const Message m = parsed(w);
    CnameChain chain(w, m);
    Chain c;
    while (const auto name = chain.next()) c.targets.push_back(text(*name));
    c.end = chain.end_reason();
    CHECK_FALSE(chain.next());  // stays at its end
    return c;
}

// www.example.com A: a CNAME (compressed owner and target) to an A record, an SOA in authority, OPT in additional.
Wire full_response() {
    Wire w;
    w.header(0x1234, 0x8180, 1, 2, 1, 1).question("www.example.com", type::A);
    w.pointer(12).rr_fixed(type::CNAME, 300, 6).raw({3, 'c', 'd', 'n'}).pointer(16);  // 45: cdn.example.com
    w.pointer(45).rr_fixed(type::A, 60, 4).raw({192, 0, 2, 1});
    w.pointer(16).rr_fixed(type::SOA, 3600, 2 + 2 + 20);
    w.pointer(16).pointer(16).u32(2024010101).u32(7200).u32(900).u32(1209600).u32(120);
    w.opt(1232, true);
    return w;
}

}  // namespace

TEST_CASE("the walk yields every record of every section, with its offsets") {
    const std::vector<std::byte> w = full_response();
    const Message m = parsed(w);
    RecordWalk walk(w, m);
    std::vector<Record> records;
    for (const Record& r : walk) records.push_back(r);
    CHECK_FALSE(walk.failed());
    REQUIRE(records.size() == 4);

    CHECK(records[0].section == Section::answer);
    CHECK(records[0].type == type::CNAME);
    CHECK(records[0].rclass == kClassIN);
    CHECK(records[0].offset == m.question.end);
    CHECK(records[0].ttl_offset == m.ttl_offsets[0]);
    CHECK(records[0].rdata_offset == 45);
    CHECK(records[0].rdlength == 6);
    std::array<std::byte, kMaxNameLength> name{};
    const auto target = read_name(w, records[0].rdata_offset, name);
    REQUIRE(target);
    CHECK(text(std::span(name).first(target->length)) == "cdn.example.com.");

    CHECK(records[1].section == Section::answer);
    CHECK(records[1].type == type::A);
    CHECK(records[1].offset == records[0].end());
    CHECK(read_u32(w, records[1].ttl_offset) == 60);
    CHECK(records[1].rdlength == 4);
    CHECK(std::to_integer<int>(w[records[1].rdata_offset]) == 192);

    CHECK(records[2].section == Section::authority);
    CHECK(records[2].type == type::SOA);
    CHECK(records[2].ttl_offset == m.ttl_offsets[2]);

    CHECK(records[3].section == Section::additional);
    CHECK(records[3].type == type::OPT);
    CHECK(records[3].offset == m.edns.offset);
    CHECK(records[3].rclass == 1232);  // the payload size
    CHECK(records[3].end() == m.end);

    std::size_t count = 0;
    CHECK(for_each_record(w, m, [&](const Record&) { ++count; }));
    CHECK(count == 4);
}

TEST_CASE("the walk of a message without records yields nothing, and a query's OPT alone") {
    const std::vector<std::byte> bare = Wire().header(1, 0x8180, 1, 0, 0, 0).question("example.com", type::A);
    RecordWalk none(bare, parsed(bare));
    CHECK_FALSE(none.next());
    CHECK_FALSE(none.failed());

    const std::vector<std::byte> query =
        Wire().header(1, 0x0100, 1, 0, 0, 1).question("example.com", type::A).opt(4096);
    const Message m = parsed(query);
    RecordWalk opt(query, m);
    const auto r = opt.next();
    REQUIRE(r);
    CHECK(r->section == Section::additional);
    CHECK(r->type == type::OPT);
    CHECK_FALSE(opt.next());
    CHECK_FALSE(opt.failed());
}

TEST_CASE("the walk stops, and says so, on bytes that are not the parsed message") {
    const std::vector<std::byte> w = full_response();
    const Message m = parsed(w);
    SECTION("cut short") {
        for (std::size_t size = m.question.end; size < w.size(); ++size) {
            const std::vector<std::byte> cut(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(size));
            INFO("size " << size);
            CHECK_FALSE(for_each_record(cut, m, [](const Record&) {}));
        }
    }
    SECTION("a count the bytes do not hold") {
        Message more = m;
        more.header.ancount = 3;
        CHECK_FALSE(for_each_record(w, more, [](const Record&) {}));
        Message fewer = m;
        fewer.header.arcount = 0;  // ends before the parse's end
        CHECK_FALSE(for_each_record(w, fewer, [](const Record&) {}));
    }
}

TEST_CASE("skip_name: labels up to the root or a pointer, within the limit") {
    const std::vector<std::byte> w = Wire().header(0, 0, 0, 0, 0, 0).name("ab.c").u8(1).u8('x').pointer(12);
    CHECK(skip_name(w, 12, w.size()) == 12 + 6);
    CHECK(skip_name(w, 18, w.size()) == 18 + 4);
    CHECK_FALSE(skip_name(w, 18, 21));  // the pointer's second byte cut off
    CHECK_FALSE(skip_name(w, 12, 17));  // no root before the limit
    const std::vector<std::byte> reserved = Wire().header(0, 0, 0, 0, 0, 0).u8(0x40).u8(0);
    CHECK_FALSE(skip_name(reserved, 12, reserved.size()));
}

TEST_CASE("CNAME chain: one hop, compressed owner and target") {
    const Chain c = chain_of(full_response());
    CHECK(c.targets == std::vector<std::string>{"cdn.example.com."});
    CHECK(c.end == ChainEnd::complete);
}

TEST_CASE("CNAME chain: none, when the answer holds no CNAME") {
    const std::vector<std::byte> w = Wire()
                                         .header(1, 0x8180, 1, 1, 0, 0)
                                         .question("example.com", type::A)
                                         .pointer(12)
                                         .rr_fixed(type::A, 60, 4)
                                         .raw({192, 0, 2, 1});
    const Chain c = chain_of(w);
    CHECK(c.targets.empty());
    CHECK(c.end == ChainEnd::complete);
}

TEST_CASE("CNAME chain: several hops, in any order in the answer") {
    // 12: www.example.com; the CNAMEs are written last first.
    Wire w;
    w.header(1, 0x8180, 1, 4, 0, 0).question("www.example.com", type::A);
    w.name("b.cdn.net").rr_fixed(type::A, 60, 4).raw({192, 0, 2, 7});
    w.name("a.tracker.com").rr_fixed(type::CNAME, 60, 11).name("b.cdn.net");
    w.pointer(12).rr_fixed(type::CNAME, 60, 15).name("a.tracker.com");
    w.name("unrelated.org").rr_fixed(type::CNAME, 60, 5).name("zzz");
    const Chain c = chain_of(w);
    CHECK(c.targets == std::vector<std::string>{"a.tracker.com.", "b.cdn.net."});
    CHECK(c.end == ChainEnd::complete);
}

TEST_CASE("CNAME chain: a loop ends it before a name comes out twice") {
    SECTION("back to the question") {
        Wire w;
        w.header(1, 0x8180, 1, 2, 0, 0).question("www.example.com", type::A);
        const unsigned target = static_cast<unsigned>(w.size() + 12);
        w.pointer(12).rr_fixed(type::CNAME, 60, 4).u8(1).u8('x').pointer(16);  // x.example.com
        w.pointer(target).rr_fixed(type::CNAME, 60, 2).pointer(12);
        const Chain c = chain_of(w);
        CHECK(c.targets == std::vector<std::string>{"x.example.com."});
        CHECK(c.end == ChainEnd::loop);
    }
    SECTION("back to a target, in another case") {
        Wire w;
        w.header(1, 0x8180, 1, 3, 0, 0).question("q", type::A);
        w.pointer(12).rr_fixed(type::CNAME, 60, 3).name("a");
        w.name("a").rr_fixed(type::CNAME, 60, 3).name("b");
        w.name("b").rr_fixed(type::CNAME, 60, 3).name("A");
        const Chain c = chain_of(w);
        CHECK(c.targets == std::vector<std::string>{"a.", "b."});
        CHECK(c.end == ChainEnd::loop);
    }
}

TEST_CASE("CNAME chain: only the answer section counts, and only the question's class") {
    Wire w;
    w.header(1, 0x8180, 1, 2, 1, 1).question("www.example.com", type::A);
    w.pointer(12).rr_fixed(type::CNAME, 60, 3).name("a");
    w.name("a").rr_fixed(type::CNAME, 60, 3, 3).name("c");  // class CH
    w.name("a").rr_fixed(type::CNAME, 60, 3).name("b");     // in authority
    w.name("a").rr_fixed(type::CNAME, 60, 3).name("d");     // in additional
    const Chain c = chain_of(w);
    CHECK(c.targets == std::vector<std::string>{"a."});
    CHECK(c.end == ChainEnd::complete);
}

TEST_CASE("CNAME chain: names compared without case, targets given lowercased") {
    Wire w;
    w.header(1, 0x8180, 1, 3, 0, 0).question("WwW.Example.COM", type::A);
    w.name("www.EXAMPLE.com").rr_fixed(type::CNAME, 60, 18).name("Tracker.Evil.NET");
    w.name("TRACKER.evil.net").rr_fixed(type::CNAME, 60, 13).name("CDN.Host.io");
    w.name("cdn.host.IO").rr_fixed(type::A, 60, 4).raw({192, 0, 2, 1});
    const Chain c = chain_of(w);
    CHECK(c.targets == std::vector<std::string>{"tracker.evil.net.", "cdn.host.io."});
    CHECK(c.end == ChainEnd::complete);
}

TEST_CASE("CNAME chain: compressed targets are expanded, pointers into them followed") {
    // 12: www.example.com (16: example.com). Target "t1" + pointer to example.com at 35; the next owner points
    // there, its target "t2" + pointer into the first target's suffix.
    Wire w;
    w.header(1, 0x8180, 1, 2, 0, 0).question("www.example.com", type::A);
    const unsigned first_target = static_cast<unsigned>(w.size() + 12);
    w.pointer(12).rr_fixed(type::CNAME, 60, 5).u8(2).raw({'T', '1'}).pointer(16);
    w.pointer(first_target).rr_fixed(type::CNAME, 60, 5).u8(2).raw({'t', '2'}).pointer(first_target);
    const Chain c = chain_of(w);
    CHECK(c.targets == std::vector<std::string>{"t1.example.com.", "t2.t1.example.com."});
    CHECK(c.end == ChainEnd::complete);
}

TEST_CASE("CNAME chain: at most kMaxCnameHops targets") {
    const auto chain_message = [](std::size_t links) {
        Wire w;
        w.header(1, 0x8180, 1, static_cast<unsigned>(links), 0, 0).question("n0", type::A);
        for (std::size_t i = 0; i < links; ++i) {
            const std::string target = "n" + std::to_string(i + 1);
            w.name("n" + std::to_string(i)).rr_fixed(type::CNAME, 60, static_cast<unsigned>(target.size() + 2));
            w.name(target);
        }
        return std::vector<std::byte>(w);
    };
    const Chain exact = chain_of(chain_message(kMaxCnameHops));
    CHECK(exact.targets.size() == kMaxCnameHops);
    CHECK(exact.targets.back() == "n16.");
    CHECK(exact.end == ChainEnd::complete);
    const Chain longer = chain_of(chain_message(kMaxCnameHops + 5));
    CHECK(longer.targets.size() == kMaxCnameHops);
    CHECK(longer.end == ChainEnd::hop_limit);
}

TEST_CASE("CNAME chain: a Message that is not the bytes' ends it as malformed, in bounds") {
    const std::vector<std::byte> w = full_response();
    Message m = parsed(w);
    m.question.name_length = 300;
    CnameChain chain(w, m);
    CHECK_FALSE(chain.next());
    CHECK(chain.end_reason() == ChainEnd::malformed);
}
