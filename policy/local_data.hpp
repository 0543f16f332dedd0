// LocalData: names the daemon answers by itself, authoritatively (AA=1), from the operator's records, hosts entries
// and zones, or from the special names of RFC 6303 and RFC 6761 (special_names.hpp builds that second instance).
//
// A Builder collects zone-file lines (dns/zone_text.hpp), hosts entries and zones, and build() turns them into an
// immutable LocalData, or refuses with the origin and the problem of the first bad record. A LocalData is built once
// per reload and shared read-only by every worker: answer() is const, allocates nothing and touches no state.
//
// What answer() says for a name (the lowercased question name):
// - records of the asked type (all of them for ANY): the answer. A CNAME at the name (and the type is not CNAME):
//   the CNAME, then the chain followed within local data, up to kMaxChain links, stopping at a name that is not ours;
//   the answer for the last name decides the rcode (RFC 6604).
// - a name that exists (other types only, an empty non-terminal below a zone apex, a zone apex): NODATA, with the SOA
//   of the enclosing zone (its own SOA record if the operator gave one, else a synthesised one) in the authority
//   section, or, outside every zone, a synthesised SOA owned by the name itself.
// - a name under a zone that does not exist there: NXDOMAIN with the zone's SOA.
// - not ours at all (not a local name, not under a zone): nullopt, and the query goes on to the forwarder.
// Zones of kind nxdomain deny their apex too; zones of kind loopback answer A 127.0.0.1 and AAAA ::1 for every name
// at or under the apex that has no records of its own (RFC 6761 6.3). A zone apex without an SOA record answers an
// SOA query with the synthesised one. Empty non-terminals exist only below a zone apex: outside zones, a name's
// ancestors are not ours (they go on to the forwarder).
//
// The response echoes the client's ID, RD and CD, and its question byte for byte (the client's case); owners that are
// the question name point at it (0xC00C), and the SOA's owner points into the question when it is a suffix of it.
// The response carries the caller's OPT record if it gives one (an EDNS client: our UDP payload, DO echoed, perhaps
// an EDE). A response over the limit is sent truncated: TC=1, the header, the question (and OPT), nothing else.
#pragma once

#include "dns/edns.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/zone_text.hpp"
#include "policy/hosts_file.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace greenfinch::policy {

// Hosts entries and synthesised records: short enough that an edited hosts file reaches downstream caches within
// minutes of a reload, long enough that they do not ask again for every connection.
inline constexpr std::uint32_t kHostTtl = 300;
inline constexpr std::uint32_t kSynthesisedSoaTtl = 300;  // the synthesised SOA's TTL and MINIMUM: negative caching
inline constexpr std::size_t kMaxChain = 8;               // CNAME links followed within local data

enum class ZoneKind : std::uint8_t {
    local,     // answered from local data only: a name with nothing there is NXDOMAIN, the apex exists
    nxdomain,  // the apex and every name under it without records do not exist (RFC 6761 invalid., RFC 7686 onion.)
    loopback,  // every name at or under the apex answers A 127.0.0.1 and AAAA ::1, other types NODATA (localhost.)
};

// What for_each_name() reports a name as: the whole subtree is ours (a zone apex), or the name alone.
enum class NameKind : std::uint8_t { subtree, exact };

enum class HostStatus : std::uint8_t { added, bad_address, bad_name };

struct LocalDataError {
    std::string origin;   // where the record came from: "local.records[2]"
    std::string problem;  // "bad IPv4 address"

    std::string message() const { return origin + ": " + problem; }
};

struct LocalQuery {
    std::span<const std::byte> wire;      // the query as the client sent it
    const dns::Message& message;          // parse_message() of `wire`
    std::span<const std::byte> qname;     // the question name in wire form, lowercased
    std::size_t limit = 65535;            // the largest response the client takes: udp_limit(), or 65535 over TCP
    std::optional<dns::OptRecord> opt{};  // the OPT record for an EDNS client; none without EDNS
};

struct LocalAnswer {
    std::size_t size = 0;  // bytes written to `out`; 0 when `out` cannot hold even the truncated reply (drop it)
    dns::Rcode rcode = dns::Rcode::NoError;
    // When a CNAME chain leaves local data: the offset in `out` of the (uncompressed) name the last CNAME points to,
    // which the response leaves unresolved. 0 otherwise, and when truncated.
    std::size_t external_target = 0;
};

class LocalData {
public:
    class Builder;

    LocalData() = default;  // empty: no name is ours

    // Writes the response to `query` into `out` (which should hold at least 512 bytes; the response never exceeds
    // out.size() nor query.limit). nullopt: the name is not ours, or the query is not one local data answers (an
    // opcode other than QUERY, a class other than IN or ANY).
    std::optional<LocalAnswer> answer(const LocalQuery& query, std::span<std::byte> out) const noexcept;

    // Every name with something at or under it, for the caller's name index: each zone apex as a subtree, each other
    // name holding records as exact. Empty non-terminals are not listed: they lie under a zone apex, which is.
    // `visit(std::span<const std::byte> name, NameKind kind)`; names are in wire form, lowercased.
    template <class Visit>
    void for_each_name(Visit&& visit) const {
        for (const Node& n : nodes_) {
            if ((n.flags & kApex) != 0) {
                visit(name_of(n), NameKind::subtree);
            } else if (n.record_count != 0) {
                visit(name_of(n), NameKind::exact);
            }
        }
    }

    bool empty() const noexcept { return nodes_.empty(); }
    std::size_t record_count() const noexcept { return records_.size(); }

private:
    static constexpr std::uint32_t kNone = 0xffffffff;
    static constexpr std::uint8_t kApex = 1, kEmptyNonTerminal = 2, kHasCname = 4, kHostPtr = 8;

    struct Node {
        std::uint32_t name_offset = 0;  // into names_
        std::uint8_t name_length = 0;
        std::uint8_t flags = 0;
        std::uint32_t first_record = 0;  // into records_; a node's records are adjacent, grouped by type
        std::uint32_t record_count = 0;
        std::uint32_t zone = kNone;  // the nearest zone at or above the name: its apex is zones_[zone]
    };
    struct Record {
        std::uint16_t type = 0;
        std::uint16_t rdata_length = 0;
        std::uint32_t ttl = 0;
        std::uint32_t rdata_offset = 0;  // into rdata_
    };
    struct Zone {
        std::uint32_t apex = 0;  // node
        ZoneKind kind = ZoneKind::local;
        std::uint32_t soa = kNone;  // the apex's own SOA record, if the operator gave one
    };
    struct Place {
        std::uint32_t node = kNone;
        std::uint32_t zone = kNone;
    };
    class Writer;

    std::span<const std::byte> name_of(const Node& n) const noexcept {
        return {names_.data() + n.name_offset, n.name_length};
    }
    std::span<const std::byte> rdata_of(const Record& r) const noexcept {
        return {rdata_.data() + r.rdata_offset, r.rdata_length};
    }
    std::uint32_t find(std::span<const std::byte> name) const noexcept;
    std::uint32_t find(std::span<const std::byte> name, std::uint64_t hash) const noexcept;
    Place locate(std::span<const std::byte> name) const noexcept;
    bool exists(const Place& place) const noexcept;

    std::vector<Node> nodes_;
    struct Slot {
        std::uint32_t node = 0;  // node index + 1; 0: empty
        std::uint32_t hash = 0;  // the name's hash, low bits: most probes that miss end here
    };
    std::vector<Slot> slots_;  // open addressing over nodes_ by name, linear probing, at most half full
    std::vector<std::byte> names_;
    std::vector<Record> records_;
    std::vector<std::byte> rdata_;
    std::vector<Zone> zones_;
};

class LocalData::Builder {
public:
    struct Settings {
        std::uint32_t host_ttl = kHostTtl;  // the TTL of hosts entries' A, AAAA and PTR records
    };

    Builder() = default;
    explicit Builder(const Settings& settings) : settings_(settings) {}

    // A zone-file line (dns/zone_text.hpp); `origin` names it in errors ("local.records[2]").
    std::optional<LocalDataError> add_record(std::string_view line, std::string_view origin);
    // A record read already; refused if its owner or RDATA is malformed (dns::rdata_fits_type()), or if the owner is
    // a wildcard (`*.lan`: not expanded here, so it would only ever match a literal `*`).
    std::optional<LocalDataError> add_record(const dns::ZoneRecord& record, std::string_view origin);

    // One name of a hosts line (hosts_file.hpp's parse_hosts() feeds it): A (4-byte address) or AAAA (16 bytes) for
    // the name (wire form, any case), and for the canonical name the PTR of the address in in-addr.arpa or ip6.arpa
    // (nibbles), unless an earlier line gave that address a PTR already. Allocates nothing per call beyond the
    // amortised growth of the tables.
    HostStatus add_host(const HostEntry& entry);

    // A zone ("lan.", final dot optional): its subtree is answered from local data only. A zone given twice keeps its
    // first kind.
    std::optional<LocalDataError> add_zone(std::string_view name, ZoneKind kind, std::string_view origin);

    // Refuses a CNAME beside other data at its name, or two CNAMEs at one name, naming the CNAME's origin.
    // Identical records are kept once.
    std::variant<LocalData, LocalDataError> build() &&;

private:
    struct Pending {
        std::uint32_t node = 0;
        std::uint16_t type = 0;
        std::uint16_t rdata_length = 0;
        std::uint32_t ttl = 0;
        std::uint32_t rdata_offset = 0;
        std::uint32_t origin = kNone;  // into origins_; kNone for hosts entries
        std::uint32_t order = 0;
    };

    std::uint32_t node_for(std::span<const std::byte> lowercase_name);
    void add_pending(std::uint32_t node, std::uint16_t type, std::uint32_t ttl, std::span<const std::byte> rdata,
                     std::uint32_t origin);

    Settings settings_{};
    LocalData data_;  // nodes, slots and names as they grow; records and zones are laid out by build()
    std::vector<Pending> pending_;
    std::vector<std::string> origins_;
};

}  // namespace greenfinch::policy
