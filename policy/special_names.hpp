// The special-use names a caching server answers by itself instead of asking anyone, as LocalData zones: the second,
// lower-priority LocalData instance (a forward zone or the operator's own local data wins over it).
//
// - RFC 6303 (locally served zones) and RFC 7793 (100.64.0.0/10): the reverse zones of private, loopback, link-local,
//   "this network", documentation and broadcast addresses, each a local zone with a synthesised SOA, so a PTR query
//   gets NXDOMAIN and the apex's SOA query the SOA. 1.0.0.127.in-addr.arpa and ::1's reverse hold PTR localhost.
// - RFC 6761 6.3: localhost. and every name under it answer A 127.0.0.1 and AAAA ::1, NODATA for other types.
// - RFC 6761 6.4: invalid. and everything under it is NXDOMAIN. RFC 7686 2: so is onion. (caching servers MUST).
// - RFC 6761 6.2: test. SHOULD get "immediate negative responses" from caching servers by default, so it is NXDOMAIN
//   unless `test = TestNames::forward`. RFC 6761 6.5: example. is resolved normally, so it is not listed at all.
// - RFC 6762 (mDNS) 22.1 asks caching servers for NXDOMAIN for local., but unicast .local is common (Active Directory
//   domains, a router's own zone), and the operator's forwarder is often the server that holds it: local. is forwarded
//   unless `local = LocalNames::nxdomain`.
#pragma once

#include "policy/local_data.hpp"

#include <cstdint>

namespace greenfinch::policy {

enum class TestNames : std::uint8_t { nxdomain, forward };
enum class LocalNames : std::uint8_t { forward, nxdomain };

struct SpecialNamesOptions {
    TestNames test = TestNames::nxdomain;
    LocalNames local = LocalNames::forward;
};

// Adds the special names' zones and records to `builder`.
void add_special_names(LocalData::Builder& builder, const SpecialNamesOptions& options = {});

// A LocalData holding the special names alone.
LocalData special_names(const SpecialNamesOptions& options = {});

}  // namespace greenfinch::policy
