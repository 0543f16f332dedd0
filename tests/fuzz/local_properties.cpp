#include "tests/fuzz/local_properties.hpp"

#include "dns/answer.hpp"
#include "dns/bytes.hpp"
#include "dns/edns.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/records.hpp"
#include "dns/zone_text.hpp"
#include "policy/block_answer.hpp"
#include "policy/blocked_response.hpp"
#include "policy/hosts_file.hpp"
#include "policy/local_data.hpp"
#include "policy/special_names.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace greenfinch::test {

namespace {

using Bytes = std::vector<std::byte>;
using dns::Message;
using dns::ParseStatus;
using policy::LocalData;

// The operator's records: every type zone_text reads, the TXT sets that overflow each size limit added below.
constexpr std::array kRecords = {
    "lan. 3600 IN SOA ns.lan. hostmaster.lan. 2024010101 3600 600 86400 300",
    "lan. NS ns.lan.",
    "lan. MX 10 mail.lan.",
    "lan. CAA 0 issue \"ca.example\"",
    "lan. TXT \"v=spf1 -all\"",
    "ns.lan. A 192.0.2.53",
    "mail.lan. A 192.0.2.25",
    "mail.lan. AAAA 2001:db8::25",
    "www.lan. 300 IN A 192.0.2.1",
    "www.lan. A 192.0.2.2",
    "www.lan. A 192.0.2.2",  // kept once
    "www.lan. AAAA 2001:db8::1",
    "www.lan. TXT \"first\" \"second\"",
    "www.lan. TYPE65 \\# 4 0a0b0c0d",
    "_sip._tcp.lan. SRV 1 2 5060 www.lan.",
    "ptr.lan. PTR www.lan.",
    "x.lan. DNAME www.lan.",
    "Mixed\\.Dot.lan. A 192.0.2.3",
    "\\000\\255.lan. TXT \"binary\"",
    "deep.a.b.c.lan. A 192.0.2.9",
    "alias.lan. CNAME WWW.Lan.",
    "chain1.lan. CNAME chain2.lan.",
    "chain2.lan. CNAME chain3.lan.",
    "chain3.lan. CNAME alias.lan.",
    "outside.lan. CNAME www.example.com.",
    "gone.lan. CNAME nothing.lan.",
    "nodata.lan. CNAME ns.lan.",
    "loop1.lan. CNAME loop2.lan.",
    "loop2.lan. CNAME loop1.lan.",
    "self.lan. CNAME self.lan.",
    "tolocal.lan. CNAME localhost.",
    "toinvalid.lan. CNAME x.invalid.",
    "tocorp.lan. CNAME srv.corp.",
    "toplain.lan. CNAME plain.example.",
    "tobig.lan. CNAME big.lan.",
    "sub.lan. SOA ns.sub.lan. hostmaster.sub.lan. 7 3600 600 86400 60",
    "host.sub.lan. A 192.0.2.70",
    "corp. NS ns.corp.",
    "srv.corp. A 10.1.1.1",
    "kept.blocked.example. A 192.0.2.77",
    "txt.loop.example. TXT \"here\"",
    "plain.example. A 198.51.100.1",
    "plain.example. TXT \"outside every zone\"",
    "sub.plain.example. CNAME plain.example.",
    "extern.example. CNAME Elsewhere.Example.Net.",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    "bbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.dddddddddddddddddddddddddddddddddddddddd"
    "ddddddddddddddddd.lan. A 192.0.2.255",
};

constexpr std::string_view kHosts =
    "192.0.2.100 host.lan Host-Alias.lan\n"
    "10.0.0.5 printer\n"
    "2001:db8::5 printer v6only.corp\n"
    "127.0.0.1 localhost\n"
    "192.168.1.1 router.home\n";

// The names a LocalData says are its own, and the rule answer() must keep: at or under a subtree, or exactly a name.
struct Ownership {
    std::set<Bytes> exact;
    std::set<Bytes> subtrees;

    explicit Ownership(const LocalData& data) {
        data.for_each_name([&](std::span<const std::byte> name, policy::NameKind kind) {
            (kind == policy::NameKind::subtree ? subtrees : exact).emplace(name.begin(), name.end());
        });
    }
    bool ours(std::span<const std::byte> name) const {
        if (exact.contains(Bytes(name.begin(), name.end()))) return true;
        for (std::size_t at = 0; at < name.size(); at += std::to_integer<std::size_t>(name[at]) + 1) {
            if (subtrees.contains(Bytes(name.begin() + static_cast<std::ptrdiff_t>(at), name.end()))) return true;
            if (name[at] == std::byte{0}) break;
        }
        return false;
    }
};

struct Instance {
    LocalData data;
    Ownership names;
};

struct Fixture {
    std::vector<Instance> instances;
    std::string error;  // why it could not be built
};

void add_operator_data(LocalData::Builder& builder, std::string& error) {
    const auto note = [&](const std::optional<policy::LocalDataError>& e) {
        if (e && error.empty()) error = e->message();
    };
    for (const char* line : kRecords) note(builder.add_record(line, "records"));
    for (int i = 0; i <= 12; ++i) {
        const std::string name = "long" + std::to_string(i) + ".lan.";
        note(builder.add_record(
            i < 12 ? name + " CNAME long" + std::to_string(i + 1) + ".lan." : name + " A 192.0.2.12", "chain"));
    }
    // Over 512 bytes but under 1232; over 65535.
    for (int i = 0; i < 8; ++i) {
        note(builder.add_record("medium.lan. TXT \"" + std::to_string(i) + std::string(100, 'm') + "\"", "medium"));
    }
    for (int i = 0; i < 320; ++i) {
        note(builder.add_record("big.lan. TXT \"" + std::to_string(i) + std::string(200, 'b') + "\"", "big"));
    }
    for (const auto& [zone, kind] : {std::pair{"lan.", policy::ZoneKind::local},
                                     {"sub.lan.", policy::ZoneKind::local},
                                     {"corp", policy::ZoneKind::local},
                                     {"blocked.example.", policy::ZoneKind::nxdomain},
                                     {"loop.example.", policy::ZoneKind::loopback}}) {
        note(builder.add_zone(zone, kind, "zones"));
    }
    policy::parse_hosts(kHosts, [&](const policy::HostEntry& entry) {
        if (builder.add_host(entry) != policy::HostStatus::added && error.empty()) error = "a hosts entry refused";
    });
}

void add_instance(Fixture& f, std::variant<LocalData, policy::LocalDataError> built, std::string_view what) {
    if (auto* e = std::get_if<policy::LocalDataError>(&built)) {
        if (f.error.empty()) f.error = std::string(what) + ": " + e->message();
        return;
    }
    auto& data = std::get<LocalData>(built);
    if (data.empty() && f.error.empty()) f.error = std::string(what) + ": empty";
    Ownership names(data);
    f.instances.push_back({.data = std::move(data), .names = std::move(names)});
}

Fixture make_fixture() {
    Fixture f;
    {
        LocalData::Builder builder;
        add_operator_data(builder, f.error);
        policy::add_special_names(builder,
                                  {.test = policy::TestNames::nxdomain, .local = policy::LocalNames::nxdomain});
        add_instance(f, std::move(builder).build(), "the operator's data and the special names");
    }
    add_instance(f, policy::special_names({.test = policy::TestNames::forward, .local = policy::LocalNames::forward}),
                 "the special names");
    {
        LocalData::Builder builder;
        for (const char* line : {". NS a.root.", "www.example. A 192.0.2.1", "cname.example. CNAME elsewhere.example.",
                                 "deep.down.example. AAAA ::2"}) {
            if (auto e = builder.add_record(line, "root"); e && f.error.empty()) f.error = e->message();
        }
        if (auto e = builder.add_zone(".", policy::ZoneKind::local, "root"); e && f.error.empty())
            f.error = e->message();
        add_instance(f, std::move(builder).build(), "a root zone");
    }
    return f;
}

const Fixture& fixture() {
    static const Fixture f = make_fixture();  // built once, read-only after: the fuzzer calls in a loop
    return f;
}

// The INFO-CODE of the one EDE option of the OPT record at `opt_at`; nullopt if the OPT record holds no option.
std::optional<std::uint16_t> ede_of(std::span<const std::byte> wire, std::size_t opt_at, std::string& broken) {
    const std::size_t rdlength = dns::read_u16(wire, opt_at + 9);
    if (rdlength == 0) return std::nullopt;
    if (rdlength != dns::kEdeOptionSize || dns::read_u16(wire, opt_at + 11) != dns::kEdnsOptionEde ||
        dns::read_u16(wire, opt_at + 13) != 2) {
        broken = "an OPT record holding something other than one EDE option";
        return std::nullopt;
    }
    return dns::read_u16(wire, opt_at + 15);
}

// The name at `at`, expanded and lowercased; empty if it does not read.
Bytes name_at(std::span<const std::byte> wire, std::size_t at) {
    std::array<std::byte, dns::kMaxNameLength> name{};
    const auto n = dns::read_name(wire, at, name);
    if (!n) return {};
    Bytes out(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(n->length));
    dns::lowercase_name(out);
    return out;
}

bool is_suffix_at_label(std::span<const std::byte> name, std::span<const std::byte> suffix) {
    for (std::size_t at = 0; at < name.size(); at += std::to_integer<std::size_t>(name[at]) + 1) {
        if (std::ranges::equal(name.subspan(at), suffix)) return true;
        if (name[at] == std::byte{0}) break;
    }
    return false;
}

// What every response of ours to `query` keeps: it parses, whole; the ID, RD, CD and question echoed; QR and RA set;
// our OPT record exactly when we give one; nothing but the question (and OPT) when truncated; records of class IN
// with TTLs within RFC 2181's bound.
std::string check_response(std::span<const std::byte> query, const Message& q, std::span<const std::byte> response,
                           Message& back, const std::optional<dns::OptRecord>& opt, std::size_t limit) {
    if (response.empty()) return "no response written";
    if (response.size() > limit) return "a response over the limit";
    if (dns::parse_message(response, back) != ParseStatus::Ok || back.end != response.size()) {
        return "a response that does not parse, or not to its end";
    }
    const dns::Header& h = back.header;
    if (h.id != q.header.id) return "a response with another ID";
    if (!h.qr() || h.opcode() != 0 || (h.flags & dns::kFlagRa) == 0) return "a response without QR and RA";
    if ((h.flags & (dns::kFlagRd | dns::kFlagCd)) != (q.header.flags & (dns::kFlagRd | dns::kFlagCd))) {
        return "a response that does not echo RD and CD";
    }
    if ((h.flags & (dns::kFlagZ | dns::kFlagAd)) != 0) return "a response with Z or AD set";
    if (h.qdcount != 1 || back.question.end != q.question.end ||
        !std::equal(query.begin() + dns::kHeaderSize, query.begin() + static_cast<std::ptrdiff_t>(q.question.end),
                    response.begin() + dns::kHeaderSize)) {
        return "a response that does not echo the question byte for byte";
    }
    if (back.edns.present != opt.has_value() || h.arcount != (opt ? 1 : 0)) {
        return "a response with an OPT record we did not give, or without the one we did";
    }
    if (opt && (back.edns.udp_size != opt->udp_payload || back.edns.dnssec_ok != opt->dnssec_ok ||
                back.edns.version != 0 || back.edns.extended_rcode != 0)) {
        return "a response whose OPT record is not the one we gave";
    }
    if (back.truncated() && (h.ancount != 0 || h.nscount != 0)) return "a truncated response holding records";
    std::string broken;
    for (const dns::Record& r : dns::RecordWalk(response, back)) {
        if (r.type == dns::type::OPT) continue;
        if (r.rclass != dns::kClassIN) return "a record of a class other than IN";
        if (dns::read_u32(response, r.ttl_offset) > dns::kMaxTtl) return "a record with a TTL over 2^31 - 1";
    }
    return {};
}

struct Room {
    std::size_t limit = 65535;
    std::size_t buffer = 65535;
    std::size_t effective() const { return std::min({limit, buffer, std::size_t{65535}}); }
};

struct LocalCase {
    std::span<const std::byte> query;
    const Message& parsed;
    std::span<const std::byte> qname;  // lowercased
};

std::string check_local_response(const LocalCase& c, const Ownership& names, const policy::LocalAnswer& answer,
                                 std::span<const std::byte> response, const std::optional<dns::OptRecord>& opt,
                                 std::size_t limit) {
    if (answer.size == 0) return "local data wrote nothing, with room for a truncated answer";
    Message back;
    if (auto broken = check_response(c.query, c.parsed, response, back, opt, limit); !broken.empty()) {
        return "local data: " + broken;
    }
    const dns::Header& h = back.header;
    if ((h.flags & dns::kFlagAa) == 0) return "a local answer without AA";
    if (h.rcode() != answer.rcode || (h.rcode() != dns::Rcode::NoError && h.rcode() != dns::Rcode::NxDomain)) {
        return "a local answer whose rcode is not the one reported, or neither NOERROR nor NXDOMAIN";
    }
    if (opt) {
        std::string broken;
        const auto ede = ede_of(response, back.edns.offset, broken);
        if (!broken.empty()) return "local data: " + broken;
        if (ede != (opt->ede ? std::optional(static_cast<std::uint16_t>(*opt->ede)) : std::nullopt)) {
            return "a local answer whose EDE is not the one given";
        }
    }
    if (h.nscount > 1) return "a local answer with more than one authority record";
    if (back.truncated()) {
        return answer.external_target == 0 ? std::string{} : "a truncated local answer naming an external target";
    }

    // RDATA as the operator gave it, names uncompressed (the blocked response's SOA points into the question).
    std::vector<dns::Record> records;
    for (const dns::Record& r : dns::RecordWalk(response, back)) {
        if (r.type != dns::type::OPT && !dns::rdata_fits_type(r.type, response.subspan(r.rdata_offset, r.rdlength))) {
            return "a local answer's record whose RDATA does not fit its type";
        }
        records.push_back(r);
    }
    const bool negative = h.rcode() == dns::Rcode::NxDomain || h.ancount == 0;
    if (negative && h.nscount != 1) return "a negative local answer without an SOA";
    // A chain of CNAMEs may end in a name with nothing of the type asked: NODATA, after the CNAMEs.
    if (h.nscount == 1 && !std::all_of(records.begin(), records.begin() + h.ancount,
                                       [](const dns::Record& r) { return r.type == dns::type::CNAME; })) {
        return "a local answer with records of the type asked and an SOA";
    }
    if (h.nscount == 1) {
        const dns::Record& soa = records[h.ancount];
        if (soa.type != dns::type::SOA || !back.soa) return "a negative local answer whose authority is not an SOA";
        if (h.ancount == 0 && !is_suffix_at_label(c.qname, name_at(response, soa.offset))) {
            return "a negative local answer whose SOA is owned by neither the name nor a zone above it";
        }
    }
    if (h.ancount > 0 && name_at(response, records[0].offset) != Bytes(c.qname.begin(), c.qname.end())) {
        return "a positive local answer whose first record is not owned by the question name";
    }
    dns::CnameChain chain(response, back);
    while (chain.next()) {}
    if (chain.end_reason() == dns::ChainEnd::malformed || chain.end_reason() == dns::ChainEnd::none) {
        return "a local answer whose CNAME chain does not read";
    }
    if (answer.external_target != 0) {
        if (h.ancount == 0 || h.rcode() != dns::Rcode::NoError || h.nscount != 0 ||
            records[h.ancount - 1u].type != dns::type::CNAME ||
            records[h.ancount - 1u].rdata_offset != answer.external_target) {
            return "an external target that is not the RDATA of the answer's last CNAME";
        }
        const Bytes target = name_at(response, answer.external_target);
        const auto span = dns::read_name(response, answer.external_target);
        if (target.empty() || span->compressed || names.ours(target)) {
            return "an external target that is compressed, or ours";
        }
    }
    return {};
}

constexpr std::array kRooms = {Room{.limit = 65535}, Room{.limit = 512}, Room{.limit = 1232},
                               Room{.limit = 65535, .buffer = 700}};

std::string check_local(const LocalCase& c, const Instance& instance) {
    const Message& m = c.parsed;
    const bool expected = m.header.opcode() == 0 && (m.question.qclass == dns::kClassIN || m.question.qclass == 255) &&
                          instance.names.ours(c.qname);
    const std::array<std::optional<dns::OptRecord>, 3> opts = {
        std::nullopt, dns::OptRecord{.udp_payload = 1232, .dnssec_ok = m.edns.dnssec_ok},
        dns::OptRecord{.udp_payload = 4096, .dnssec_ok = true, .ede = dns::EdeCode::NotAuthoritative}};
    std::array<Room, kRooms.size() + 1> rooms{};
    std::copy(kRooms.begin(), kRooms.end(), rooms.begin());
    rooms.back() = Room{.limit = dns::udp_limit(m, 1232)};

    Bytes out(65535);
    Bytes again(65535);
    for (const auto& opt : opts) {
        std::optional<Bytes> whole;  // the answer with all the room there is, unless even that is truncated
        for (std::size_t i = 0; i < rooms.size(); ++i) {
            const Room room = rooms[i];
            const auto buffer = std::span(out).first(room.buffer);
            const policy::LocalQuery query{
                .wire = c.query, .message = m, .qname = c.qname, .limit = room.limit, .opt = opt};
            const auto answer = instance.data.answer(query, buffer);
            if (answer.has_value() != expected) {
                return answer ? "local data answers for a name it does not list, or a query not for it"
                              : "local data does not answer for a name it lists";
            }
            if (!answer) break;
            if (answer->size > buffer.size()) return "a local answer longer than its buffer";
            const auto response = buffer.first(answer->size);
            if (auto broken = check_local_response(c, instance.names, *answer, response, opt, room.effective());
                !broken.empty()) {
                return broken;
            }
            const bool truncated = (dns::read_u16(response, 2) & dns::kFlagTc) != 0;
            if (i == 0) {
                const auto repeat = instance.data.answer(query, again);
                if (!repeat || !std::ranges::equal(std::span(again).first(repeat->size), response)) {
                    return "local data that answers one query two ways";
                }
                if (!truncated) whole.emplace(response.begin(), response.end());
                continue;
            }
            if (!whole) {
                if (!truncated) return "a local answer that fits a smaller room but not the largest";
            } else if (truncated) {
                if (whole->size() <= room.effective()) return "a local answer truncated though it fits";
            } else if (!std::ranges::equal(*whole, response)) {
                return "a local answer that changes with the room";
            }
        }
    }
    return {};
}

// Every mode, and every label boundary of the question name as where the listed name starts.
std::string check_blocked(std::span<const std::byte> query, const Message& m) {
    const auto name = query.subspan(dns::kHeaderSize, m.question.name_length);
    std::vector<std::size_t> boundaries;
    for (std::size_t at = 0; at < name.size(); at += std::to_integer<std::size_t>(name[at]) + 1) {
        boundaries.push_back(at);
        if (name[at] == std::byte{0}) break;
    }
    const std::array<std::optional<dns::OptRecord>, 2> opts = {
        std::nullopt, dns::OptRecord{.udp_payload = 1232, .dnssec_ok = m.edns.dnssec_ok}};
    const std::uint16_t qtype = m.question.qtype;
    Bytes out(65535);
    for (const auto mode : {policy::BlockAnswer::nxdomain, policy::BlockAnswer::null, policy::BlockAnswer::refused}) {
        const bool address = mode == policy::BlockAnswer::null && (qtype == dns::type::A || qtype == dns::type::AAAA);
        const bool soa = mode != policy::BlockAnswer::refused && !address;
        const dns::Rcode rcode = mode == policy::BlockAnswer::nxdomain ? dns::Rcode::NxDomain
                                 : mode == policy::BlockAnswer::null   ? dns::Rcode::NoError
                                                                       : dns::Rcode::Refused;
        for (const std::size_t listed_at : boundaries) {
            for (const auto& opt : opts) {
                for (const std::size_t limit : {std::size_t{512}, std::size_t{1232}, std::size_t{65535}}) {
                    const policy::BlockedQuery blocked{.wire = query, .parsed = m, .listed_at = listed_at};
                    const policy::ReplyRoom room{.limit = limit, .opt = opt};
                    const std::size_t n = policy::write_blocked_response(blocked, mode, room, out);
                    const auto response = std::span(out).first(std::min(n, out.size()));
                    Message back;
                    if (auto broken = check_response(query, m, response, back, opt, limit); !broken.empty()) {
                        return "blocked: " + broken;
                    }
                    const dns::Header& h = back.header;
                    if ((h.flags & dns::kFlagAa) != 0 || back.truncated()) return "a blocked response with AA or TC";
                    if (h.rcode() != rcode) return "a blocked response with another rcode than its mode's";
                    if (h.ancount != (address ? 1 : 0) || h.nscount != (soa ? 1 : 0)) {
                        return "a blocked response with other records than its mode's";
                    }
                    for (const auto at : back.ttl_offsets) {
                        if (dns::read_u32(response, at) != policy::kBlockedTtl) {
                            return "a blocked response with a TTL other than kBlockedTtl";
                        }
                    }
                    for (const dns::Record& r : dns::RecordWalk(response, back)) {
                        if (r.type == dns::type::OPT) continue;
                        std::array<std::byte, dns::kMaxNameLength> owner{};
                        const auto read = dns::read_name(response, r.offset, owner);
                        const auto spelled = r.type == dns::type::SOA ? name.subspan(listed_at) : name;
                        if (!read || !std::ranges::equal(std::span(owner).first(read->length), spelled)) {
                            return "a blocked response's record not owned by the (listed) name as the client spelled "
                                   "it";
                        }
                        if (r.type != (address ? qtype : dns::type::SOA)) {
                            return "a blocked response's record of another type";
                        }
                        if (address && std::ranges::any_of(response.subspan(r.rdata_offset, r.rdlength),
                                                           [](std::byte b) { return b != std::byte{0}; })) {
                            return "a blocked response's address that is not the unspecified one";
                        }
                    }
                    if (opt) {
                        std::string broken;
                        if (ede_of(response, back.edns.offset, broken) !=
                            static_cast<std::uint16_t>(dns::EdeCode::Blocked)) {
                            return broken.empty() ? "a blocked response to an EDNS client without EDE 15" : broken;
                        }
                    }
                    if (policy::write_blocked_response(blocked, mode, room, std::span(out).first(n - 1)) != 0) {
                        return "a blocked response written into a buffer too small for it";
                    }
                }
            }
        }
    }
    return {};
}

}  // namespace

std::string local_property_violation(std::span<const std::byte> input) {
    const Fixture& f = fixture();
    if (!f.error.empty()) return "the local data to ask does not build: " + f.error;
    Message m;
    if (dns::parse_message(input, m) != ParseStatus::Ok) return {};
    Bytes qname(input.begin() + dns::kHeaderSize,
                input.begin() + static_cast<std::ptrdiff_t>(dns::kHeaderSize + m.question.name_length));
    dns::lowercase_name(qname);
    const LocalCase c{.query = input, .parsed = m, .qname = qname};
    for (const Instance& instance : f.instances) {
        if (auto broken = check_local(c, instance); !broken.empty()) return broken;
    }
    return check_blocked(input, m);
}

}  // namespace greenfinch::test
