// Rebuilding a message without some of its records: counts, names that pointed into what went, what must stay.
#include "dns/answer_filter.hpp"

#include "dns/bytes.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/records.hpp"
#include "tests/dns/wire_builder.hpp"

#include "tests/dns/parsed.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace greenfinch::dns;
using greenfinch::test::Wire;

using greenfinch::test::parsed;

namespace {

std::string name_at(std::span<const std::byte> w, std::size_t at) {
    std::array<std::byte, kMaxNameLength> buffer{};
    const auto n = read_name(w, at, buffer);
    if (!n) return "(unreadable)";
    std::string out;
    append_presentation(out, std::span(buffer).first(n->length));
    return out;
}

// A record as a reader sees it: section, type, class, TTL, owner, and RDATA with its names read out.
std::string describe(std::span<const std::byte> w, const Record& r) {
    std::string out = std::to_string(static_cast<int>(r.section)) + " " + std::to_string(r.type) + " " +
                      std::to_string(r.rclass) + " " + std::to_string(read_u32(w, r.ttl_offset)) + " " +
                      name_at(w, r.offset) + " |";
    const auto rdata = w.first(r.end());
    const auto name = [&](std::size_t at) {
        const auto n = read_name(rdata, at);
        out += " " + name_at(rdata, at);
        return n ? n->end : r.end();
    };
    const auto bytes = [&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) out += " " + std::to_string(std::to_integer<int>(w[i]));
    };
    const std::size_t at = r.rdata_offset;
    switch (r.type) {
        case type::NS:
        case type::CNAME:
        case type::PTR:
        case type::DNAME: name(at); break;
        case type::MX:
            bytes(at, at + 2);
            name(at + 2);
            break;
        case type::SRV:
            bytes(at, at + 6);
            name(at + 6);
            break;
        case type::SOA: bytes(name(name(at)), r.end()); break;
        default: bytes(at, r.end());
    }
    return out;
}

std::vector<std::string> describe_all(std::span<const std::byte> w, const Message& m) {
    std::vector<std::string> out;
    CHECK(for_each_record(w, m, [&](const Record& r) { out.push_back(describe(w, r)); }));
    return out;
}

// The records of `w` the predicate keeps, described, in order.
std::vector<std::string> expected_after(const std::vector<std::byte>& w, const Message& m,
                                        const std::function<Keep(const Record&)>& keep) {
    std::vector<std::string> out;
    for_each_record(w, m, [&](const Record& r) {
        if (r.type == type::OPT || keep(r) == Keep::keep) out.push_back(describe(w, r));
    });
    return out;
}

// Filters and checks what every filtered message must be: a message that parses, with the kept records as they read.
FilterResult filter_checked(const std::vector<std::byte>& w, const std::function<Keep(const Record&)>& keep) {
    const Message m = parsed(w);
    FilterResult result = filter_records(w, m, keep);
    if (result.status != FilterStatus::filtered) return result;
    Message again;
    REQUIRE(parse_message(result.wire, again) == ParseStatus::Ok);
    CHECK(again.ttl_offsets == result.parsed.ttl_offsets);
    CHECK(again.end == result.wire.size());
    CHECK(describe_all(result.wire, result.parsed) == expected_after(w, m, keep));
    CHECK(std::equal(w.begin() + 2, w.begin() + 4, result.wire.begin() + 2));  // flags
    CHECK(
        std::equal(w.begin() + 12, w.begin() + static_cast<std::ptrdiff_t>(m.question.end), result.wire.begin() + 12));
    return result;
}

Keep drop_type(const Record& r, std::uint16_t t) { return r.type == t ? Keep::drop : Keep::keep; }

}  // namespace

TEST_CASE("filter: nothing dropped leaves the message alone, without a copy") {
    const std::vector<std::byte> w = Wire()
                                         .header(1, 0x8180, 1, 1, 0, 1)
                                         .question("example.com", type::A)
                                         .pointer(12)
                                         .rr_fixed(type::A, 60, 4)
                                         .raw({192, 0, 2, 1})
                                         .opt(1232);
    const Message m = parsed(w);
    std::size_t asked = 0;
    const FilterResult r = filter_records(w, m, [&](const Record&) {
        ++asked;
        return Keep::keep;
    });
    CHECK(r.status == FilterStatus::unchanged);
    CHECK(r.dropped == 0);
    CHECK(r.wire.empty());
    CHECK(asked == 1);  // never about OPT
}

TEST_CASE("filter: OPT stays even when everything else goes") {
    const std::vector<std::byte> w = Wire()
                                         .header(1, 0x8180, 1, 1, 0, 1)
                                         .question("example.com", type::A)
                                         .pointer(12)
                                         .rr_fixed(type::A, 60, 4)
                                         .raw({192, 0, 2, 1})
                                         .opt(1232, true);
    const FilterResult r = filter_checked(w, [](const Record&) { return Keep::drop; });
    REQUIRE(r.status == FilterStatus::filtered);
    CHECK(r.dropped == 1);
    CHECK(r.parsed.header.ancount == 0);
    CHECK(r.parsed.header.arcount == 1);
    CHECK(r.parsed.edns.present);
    CHECK(r.parsed.edns.dnssec_ok);
    CHECK(r.parsed.edns.udp_size == 1232);
}

TEST_CASE("filter: a record other names point into can go, their names read as before") {
    // 12: www.example.com. The CNAME's target cdn.example.net is written out at 45; both A records' owners point there.
    Wire w;
    w.header(1, 0x8180, 1, 3, 0, 0).question("www.example.com", type::A);
    const unsigned target = static_cast<unsigned>(w.size() + 12);
    w.pointer(12).rr_fixed(type::CNAME, 300, 17).name("cdn.example.net");
    w.pointer(target).rr_fixed(type::A, 60, 4).raw({10, 0, 0, 1});
    w.pointer(target).rr_fixed(type::A, 60, 4).raw({192, 0, 2, 1});
    const std::vector<std::byte> bytes = w;
    const FilterResult r = filter_checked(bytes, [](const Record& rec) { return drop_type(rec, type::CNAME); });
    REQUIRE(r.status == FilterStatus::filtered);
    CHECK(r.dropped == 1);
    CHECK(r.parsed.header.ancount == 2);
    RecordWalk walk(r.wire, r.parsed);
    const auto first = walk.next();
    const auto second = walk.next();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(name_at(r.wire, first->offset) == "cdn.example.net.");
    CHECK(name_at(r.wire, second->offset) == "cdn.example.net.");
    // Written out once, then compressed against the output: the second owner is a pointer to the first.
    CHECK(second->ttl_offset - 4 - second->offset == 2);
    CHECK(r.wire.size() == bytes.size() - (2 + 10 + 17) + (17 - 2));
}

TEST_CASE("filter: names inside RDATA of every type that holds them stay right") {
    // The first record (dropped) holds the only full copies of the names the others point into.
    Wire m;
    m.header(1, 0x8180, 1, 8, 0, 0).question("example.com", type::ANY);
    const unsigned holder = static_cast<unsigned>(m.size());  // Holder.example.com
    m.u8(6).raw({'H', 'o', 'l', 'd', 'e', 'r'}).pointer(12).rr_fixed(type::NS, 60, 17);
    const unsigned ns1 = static_cast<unsigned>(m.size());
    m.name("ns1.Example.org");
    const unsigned org = ns1 + 4;  // Example.org
    m.pointer(holder).rr_fixed(type::NS, 60, 2).pointer(ns1);
    m.pointer(holder).rr_fixed(type::CNAME, 60, 4).u8(1).u8('c').pointer(org);
    m.pointer(holder).rr_fixed(type::PTR, 60, 2).pointer(holder);
    m.pointer(holder).rr_fixed(type::DNAME, 60, 4).u8(1).u8('d').pointer(org);
    m.pointer(holder).rr_fixed(type::MX, 60, 4).u16(10).pointer(ns1);
    m.pointer(holder).rr_fixed(type::SRV, 60, 10).u16(1).u16(2).u16(53).u8(1).u8('s').pointer(holder);
    m.pointer(holder).rr_fixed(type::SOA, 60, 4 + 20).pointer(ns1).pointer(holder);
    m.u32(1).u32(2).u32(3).u32(4).u32(5);
    const std::vector<std::byte> bytes = m;
    const Message before = parsed(bytes);
    const auto all = describe_all(bytes, before);
    REQUIRE(all.size() == 8);
    CHECK(all[1] == "0 2 1 60 Holder.example.com. | ns1.Example.org.");
    CHECK(
        all[7] ==
        "0 6 1 60 Holder.example.com. | ns1.Example.org. Holder.example.com. 0 0 0 1 0 0 0 2 0 0 0 3 0 0 0 4 0 0 0 5");

    const FilterResult r =
        filter_checked(bytes, [&](const Record& rec) { return rec.offset == holder ? Keep::drop : Keep::keep; });
    REQUIRE(r.status == FilterStatus::filtered);
    CHECK(r.dropped == 1);
    CHECK(r.parsed.header.ancount == 7);
    // DNAME's and SRV's targets are never compressed (RFC 6672 2.5, RFC 2782), whatever the input did.
    for_each_record(r.wire, r.parsed, [&](const Record& rec) {
        if (rec.type == type::DNAME) CHECK_FALSE(read_name(r.wire, rec.rdata_offset)->compressed);
        if (rec.type == type::SRV) CHECK_FALSE(read_name(r.wire, rec.rdata_offset + 6)->compressed);
        if (rec.type == type::MX) CHECK(read_name(r.wire, rec.rdata_offset + 2)->compressed);
    });
}

TEST_CASE("filter: every answer can go, authority and additional stay, OPT and SOA included") {
    Wire w;
    w.header(1, 0x8580, 1, 2, 1, 2).question("example.com", type::A);
    w.pointer(12).rr_fixed(type::A, 60, 4).raw({10, 0, 0, 1});
    w.pointer(12).rr_fixed(type::A, 60, 4).raw({10, 0, 0, 2});
    w.pointer(12).rr_fixed(type::SOA, 3600, 4 + 20).pointer(12).pointer(12).u32(1).u32(2).u32(3).u32(4).u32(300);
    w.name("ns.example.com").rr_fixed(type::A, 60, 4).raw({192, 0, 2, 53});
    w.opt(1232);
    const std::vector<std::byte> bytes = w;
    const FilterResult r = filter_checked(
        bytes, [](const Record& rec) { return rec.section == Section::answer ? Keep::drop : Keep::keep; });
    REQUIRE(r.status == FilterStatus::filtered);
    CHECK(r.dropped == 2);
    CHECK(r.parsed.header.rcode() == Rcode::NoError);
    CHECK(r.parsed.header.ancount == 0);
    CHECK(r.parsed.header.nscount == 1);
    CHECK(r.parsed.header.arcount == 2);
    REQUIRE(r.parsed.soa);
    CHECK(r.parsed.soa->minimum == 300);
    CHECK(r.parsed.edns.present);
}

TEST_CASE("filter: RDATA of other types is copied as it is, pointer-like bytes included") {
    Wire w;
    w.header(1, 0x8180, 1, 2, 0, 0).question("example.com", type::TXT);
    w.pointer(12).rr_fixed(type::A, 60, 4).raw({10, 0, 0, 1});
    w.pointer(12).rr_fixed(type::TXT, 60, 5).raw({4, 0xc0, 0x0c, 'x', 'y'});
    const std::vector<std::byte> bytes = w;
    const FilterResult r = filter_checked(bytes, [](const Record& rec) { return drop_type(rec, type::A); });
    REQUIRE(r.status == FilterStatus::filtered);
    const auto txt = RecordWalk(r.wire, r.parsed).next();
    REQUIRE(txt);
    CHECK(std::equal(bytes.end() - 5, bytes.end(), r.wire.begin() + static_cast<std::ptrdiff_t>(txt->rdata_offset)));
}

TEST_CASE("filter: a message past 16 KiB, where pointers cannot reach, still comes out right") {
    Wire w;
    const unsigned records = 1200;
    w.header(1, 0x8180, 1, records, 0, 0).question("example.com", type::A);
    w.pointer(12).rr_fixed(type::A, 60, 4).raw({10, 0, 0, 1});
    std::vector<unsigned> owners;
    for (unsigned i = 1; i < records; ++i) {
        owners.push_back(static_cast<unsigned>(w.size()));
        const std::string label = "host" + std::to_string(i);
        w.u8(static_cast<unsigned>(label.size()));
        for (char c : label) w.u8(static_cast<unsigned char>(c));
        // Every tenth owner is a pointer back to an earlier one, where the input still could.
        w.pointer(12).rr_fixed(type::CNAME, 60, 2).pointer(i % 10 == 0 && owners[i / 2] < 0x3fff ? owners[i / 2] : 12);
    }
    const std::vector<std::byte> bytes = w;
    REQUIRE(bytes.size() > 0x4000);
    const FilterResult r = filter_checked(bytes, [](const Record& rec) { return drop_type(rec, type::A); });
    REQUIRE(r.status == FilterStatus::filtered);
    CHECK(r.parsed.header.ancount == records - 1);
}

TEST_CASE("filter: a message that outgrows 65535 bytes once its names are written out fails cleanly") {
    // A 255-byte question name, then SRV records whose targets point at it: 20 bytes each in, 273 each out, since an
    // SRV target is never compressed.
    Wire w;
    w.header(1, 0x8180, 1, 0, 0, 0);
    for (int l = 0; l < 3; ++l) {
        w.u8(63);
        for (int i = 0; i < 63; ++i) w.u8('a');
    }
    w.u8(61);
    for (int i = 0; i < 61; ++i) w.u8('b');
    w.u8(0).u16(type::SRV).u16(1);
    const unsigned records = 3000;
    w.pointer(12).rr_fixed(type::A, 60, 4).raw({10, 0, 0, 1});
    for (unsigned i = 0; i < records; ++i) {
        w.pointer(12).rr_fixed(type::SRV, 60, 8).u16(0).u16(0).u16(443).pointer(12);
    }
    std::vector<std::byte> bytes = w;
    write_u16(bytes, 6, records + 1);
    const Message m = parsed(bytes);
    const FilterResult r = filter_records(bytes, m, [](const Record& rec) { return drop_type(rec, type::A); });
    CHECK(r.status == FilterStatus::too_large);
}

TEST_CASE("filter: a Message that is not the bytes' is refused, in bounds") {
    const std::vector<std::byte> w = Wire()
                                         .header(1, 0x8180, 1, 1, 0, 0)
                                         .question("example.com", type::A)
                                         .pointer(12)
                                         .rr_fixed(type::A, 60, 4)
                                         .raw({192, 0, 2, 1});
    Message m = parsed(w);
    const std::vector<std::byte> cut(w.begin(), w.end() - 3);
    CHECK(filter_records(cut, m, [](const Record&) { return Keep::drop; }).status == FilterStatus::malformed);
    m.header.ancount = 2;
    CHECK(filter_records(w, m, [](const Record&) { return Keep::drop; }).status == FilterStatus::malformed);
}

TEST_CASE("mutations of CNAME answers keep the walk, the chain and the filter sound") {
    // The fuzz corpus holds few CNAME chains; these seeds, edited at random, make up for it.
    std::vector<std::vector<std::byte>> seeds;
    {
        Wire w;
        w.header(1, 0x8180, 1, 4, 1, 1).question("www.Example.com", type::A);
        const unsigned first = static_cast<unsigned>(w.size() + 12);
        w.pointer(12).rr_fixed(type::CNAME, 300, 5).u8(2).raw({'t', '1'}).pointer(16);
        const unsigned second = static_cast<unsigned>(w.size() + 12);
        w.pointer(first).rr_fixed(type::CNAME, 300, 7).u8(4).raw({'E', 'd', 'g', 'e'}).pointer(first);
        w.pointer(second).rr_fixed(type::A, 60, 4).raw({10, 0, 0, 1});
        w.pointer(second).rr_fixed(type::A, 60, 4).raw({192, 0, 2, 1});
        w.pointer(16).rr_fixed(type::SOA, 3600, 4 + 20).pointer(first).pointer(16);
        w.u32(1).u32(2).u32(3).u32(4).u32(5);
        w.opt(1232);
        seeds.push_back(w);
    }
    {
        Wire w;
        w.header(1, 0x8180, 1, 3, 0, 0).question("a.b", type::MX);
        w.pointer(12).rr_fixed(type::CNAME, 60, 4).u8(1).u8('c').pointer(14);
        const unsigned c = static_cast<unsigned>(w.size() - 4);
        w.pointer(c).rr_fixed(type::MX, 60, 4).u16(5).pointer(c);
        w.pointer(c).rr_fixed(type::CNAME, 60, 2).pointer(12);
        seeds.push_back(w);
    }
    std::mt19937 rng(4242);
    std::size_t parsed_count = 0, filtered = 0, broken = 0;
    for (int round = 0; round < 20000 && broken < 3; ++round) {
        std::vector<std::byte> w = seeds[rng() % seeds.size()];
        for (unsigned edits = 1 + rng() % 3; edits > 0; --edits) {
            const std::size_t at = 12 + rng() % (w.size() - 12);
            if (rng() % 2 == 0 || at + 1 >= w.size()) {
                w[at] = static_cast<std::byte>(rng());
            } else {
                const std::size_t target = 12 + rng() % (at - 11);
                w[at] = static_cast<std::byte>(0xc0 | (target >> 8));
                w[at + 1] = static_cast<std::byte>(target & 0xff);
            }
        }
        Message m;
        if (parse_message(w, m) != ParseStatus::Ok) continue;
        ++parsed_count;
        std::string violation;
        if (!for_each_record(w, m, [](const Record&) {})) violation = "walk failed";
        CnameChain chain(w, m);
        std::size_t hops = 0;
        while (chain.next()) ++hops;
        if (hops > kMaxCnameHops || chain.end_reason() == ChainEnd::malformed) violation = "chain broke";
        const auto keep = [&](const Record& r) {
            return r.type == type::A || (r.offset + static_cast<std::size_t>(round)) % 3 == 0 ? Keep::drop : Keep::keep;
        };
        const FilterResult r = filter_records(w, m, keep);
        if (r.status == FilterStatus::malformed) violation = "filter refused an accepted message";
        if (r.status == FilterStatus::filtered) {
            ++filtered;
            Message again;
            if (parse_message(r.wire, again) != ParseStatus::Ok) {
                violation = "filtered message does not parse";
            } else if (describe_all(r.wire, again) != expected_after(w, m, keep)) {
                violation = "filtered message holds other records";
            }
        }
        if (violation.empty()) continue;
        ++broken;
        std::string hex;
        for (const auto b : w)
            hex += "0123456789abcdef"[std::to_integer<int>(b) >> 4],
                hex += "0123456789abcdef"[std::to_integer<int>(b) & 15];
        FAIL_CHECK(violation << " (round " << round << "): " << hex);
    }
    CHECK(broken == 0);
    CHECK(parsed_count > 1000);  // the edits leave enough messages valid to say something
    CHECK(filtered > 1000);
}

TEST_CASE("append: another message's answer records read the same in the message they join, TTLs aged") {
    // The same names, every type that holds them, as the filter test above; they join a message of their own.
    Wire m;
    m.header(1, 0x8180, 1, 3, 0, 0).question("example.com", type::ANY);
    const unsigned holder = static_cast<unsigned>(m.size());
    m.u8(6).raw({'H', 'o', 'l', 'd', 'e', 'r'}).pointer(12).rr_fixed(type::NS, 60, 17);
    const unsigned ns1 = static_cast<unsigned>(m.size());
    m.name("ns1.Example.org");
    m.pointer(holder).rr_fixed(type::MX, 3600, 4).u16(10).pointer(ns1);
    m.pointer(holder).rr_fixed(type::SOA, 30, 4 + 20).pointer(ns1).pointer(holder);
    m.u32(1).u32(2).u32(3).u32(4).u32(5);
    const std::vector<std::byte> from = m;
    const Message from_parsed = parsed(from);

    std::vector<std::byte> joined = Wire().header(9, 0x8580, 1, 0, 0, 0).question("other.example", type::ANY);
    const auto added = append_answer_records(from, from_parsed, 40, joined);
    REQUIRE(added == std::optional<std::uint16_t>(3));
    write_u16(joined, 6, *added);
    const Message j = parsed(joined);
    const auto all = describe_all(joined, j);
    REQUIRE(all.size() == 3);
    CHECK(all[0] == "0 2 1 20 Holder.example.com. | ns1.Example.org.");
    CHECK(all[1] == "0 15 1 3560 Holder.example.com. | 0 10 ns1.Example.org.");
    CHECK(all[2].rfind("0 6 1 0 Holder.example.com. | ns1.Example.org. Holder.example.com. ", 0) == 0);

    // A message that is not the bytes' leaves the output as it was.
    std::vector<std::byte> untouched = joined;
    Message wrong = from_parsed;
    wrong.end = from.size() - 3;
    CHECK_FALSE(append_answer_records(from, wrong, 0, untouched));
    CHECK(untouched == joined);
}
