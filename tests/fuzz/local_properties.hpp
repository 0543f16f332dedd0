// What must hold for any query bytes a client sends to a name the daemon answers by itself, checked on one input.
//
// The input is a query from the network, taken as the resolver takes it: parse_message() first (anything it refuses
// is not looked at), then LocalData::answer() with the question name lowercased, and write_blocked_response(). The
// LocalData instances are built once: one with records of every type, CNAME chains (to other local names, out of
// local data, into loops, past kMaxChain), zones of each kind, nested zones, hosts entries and the special names;
// the special names alone; and a root zone. Each is asked with every size limit a client may have (512, 1232, the
// query's own udp_limit(), 65535, and a buffer smaller than the limit) and with and without an OPT record.
//
// Memory errors are the sanitizers' to find; the properties are the ones a client relies on. A local answer is given
// exactly for the names for_each_name() lists (at or under a zone apex, or holding records), for QUERY in class IN or
// ANY; it is never empty, never over the limit, and parses; it echoes the ID, RD, CD and the question byte for byte,
// sets QR, AA and RA, carries our OPT record when given one and none otherwise; it is truncated (TC, nothing but the
// question and OPT) exactly when the whole answer is over the limit, and otherwise the same bytes whatever the room;
// a negative answer holds one SOA, owned by the name or a zone above it; a positive one starts at the question name;
// every record's RDATA fits its type; a CNAME chain leaving local data ends in a name that is not ours, where the
// answer says. A blocked response, for every BlockAnswer and every label boundary of the name as the listed name,
// has the rcode and records its mode says, AA clear, kBlockedTtl on every record, an SOA owned by the listed name as
// the client spelled it, EDE 15 for an EDNS client, and is not written into a buffer that cannot hold it.
//
// Shared by the fuzz target (libFuzzer, clang) and by the test that replays the corpus and mutates it (any build).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace greenfinch::test {

// Empty when every property holds; otherwise what broke.
std::string local_property_violation(std::span<const std::byte> input);

}  // namespace greenfinch::test
