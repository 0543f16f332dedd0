// Routing: for a query's name, what the daemon does with it, decided by one pass over the name's suffixes in one
// NameTable holding every name the operator's configuration speaks of.
//
//   local      the operator's local data has the name (records, a hosts file) or a `zones` entry it lies in
//   blocked    a block list has the name or one it lies under, and no allow list does
//   special    an RFC 6303 / RFC 6761 name (private reverses, localhost., invalid.) and no forward zone or local data
//              speaks of it at any depth: a forward zone for "168.192.in-addr.arpa" sends the LAN's reverse lookups
//              where they belong
//   forward    everything else, to the deepest forward zone it lies in (0: [upstream] servers, the zone ".")
//
// Between local data and a forward zone the deeper one wins, local data when both are as deep: `zones = ["lan."]`
// and a forward zone "corp.lan" forward corp.lan and answer the rest of lan. Local data wins over a block list (the
// operator wrote it), a block list over a forward zone (ads are blocked whichever servers would have answered).
// Rebinding protection exempts answers from forward zones and from `rebind_allow` zones.
#pragma once

#include "policy/name_table.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace greenfinch::policy {

// What a name is, as bits of its NameTable value. A forward zone's index sits in the top 16 bits.
namespace mark {
inline constexpr NameTable::Value kBlocked = 1u << 0;
inline constexpr NameTable::Value kAllowed = 1u << 1;
inline constexpr NameTable::Value kLocalName = 1u << 2;  // local data at exactly this name
inline constexpr NameTable::Value kLocalZone = 1u << 3;  // a `zones` entry: the whole subtree is local
inline constexpr NameTable::Value kSpecialName = 1u << 4;
inline constexpr NameTable::Value kSpecialZone = 1u << 5;
inline constexpr NameTable::Value kRebindAllow = 1u << 6;
inline constexpr unsigned kZoneShift = 16;
inline constexpr NameTable::Value zone(std::uint16_t index) noexcept { return NameTable::Value{index} << kZoneShift; }
}  // namespace mark

enum class Decision : std::uint8_t { Forward, Local, Blocked, Special };

struct Verdict {
    Decision decision = Decision::Forward;
    std::uint16_t zone = 0;      // Forward: the forward zone's index; 0 for [upstream] servers
    bool rebind_exempt = false;  // Forward: answers keep private addresses (a forward zone, or rebind_allow)
    std::size_t listed_at = 0;   // Blocked: where in the name the deepest listed name starts
};

// The verdict for lowercased wire `name` under `table`.
Verdict route(const NameTable& table, std::span<const std::byte> name) noexcept;

// The deepest forward zone `name` lies in, whatever else decides it (0: none, [upstream] servers): whose servers
// answered it, if it was forwarded.
std::uint16_t forward_zone(const NameTable& table, std::span<const std::byte> name) noexcept;

// Whether `name` is blocked: a block list has it or a name above it, and no allow list does (for the names of an
// upstream answer's CNAME chain).
bool blocked(const NameTable& table, std::span<const std::byte> name) noexcept;

}  // namespace greenfinch::policy
