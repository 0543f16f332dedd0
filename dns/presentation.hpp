// DNS in presentation form, for tools and logs: type names, building a query from a name, printing records.
//
// build_query() turns "www.example.com" into a wire-format query (RD set; with EDNS when `edns_size` is given, DO when
// asked). format_record() prints one resource record the way dig does ("name TTL CLASS TYPE RDATA"), with RDATA in
// its presentation form for the common types and RFC 3597's generic "\# length hex" for the others.
#pragma once

#include "dns/message.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace greenfinch::dns {

std::optional<std::uint16_t> type_from_name(std::string_view name);  // "AAAA" -> 28, "TYPE65" -> 65
std::string type_name(std::uint16_t type);                           // 28 -> "AAAA", 65 -> "TYPE65"
std::string rcode_name(unsigned rcode);                              // 3 -> "NXDOMAIN"

// "www.example.com" (final dot optional) in wire form, case kept; nullopt if it is not a valid domain name (empty
// label, label over 63 bytes, name over 255). No escapes.
std::optional<std::vector<std::byte>> wire_name(std::string_view name);

// nullopt if `name` is not a valid domain name (empty label, label over 63 bytes, name over 255).
std::optional<std::vector<std::byte>> build_query(std::string_view name, std::uint16_t qtype, std::uint16_t id,
                                                  std::optional<std::uint16_t> edns_size, bool dnssec_ok);

// The record starting at `offset` of a message parse_message() accepted; `next` gets the offset after it.
std::string format_record(std::span<const std::byte> message, std::size_t offset, std::size_t& next);

// The header line and flags line dig prints, and each section, for a parsed message.
std::string format_message(std::span<const std::byte> message, const Message& parsed);

}  // namespace greenfinch::dns
