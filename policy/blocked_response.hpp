// The response to a query for a blocked name ([block] answer), made here rather than asked for upstream.
//
//   nxdomain  NXDOMAIN with an SOA owned by the listed name, so that stub resolvers cache the answer
//   null      A 0.0.0.0 or AAAA ::, and NODATA with that SOA for other types: clients that retry a name on NXDOMAIN
//             under another suffix stop here
//   refused   REFUSED, no records
// Every record has kBlockedTtl: a name taken off a list works again within seconds. An EDNS client gets EDE 15
// (Blocked, RFC 8914). The question is echoed as the client wrote it; records point at it. AA is clear: the answer
// is the operator's policy, not data of a zone we serve.
#pragma once

#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "policy/block_answer.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace greenfinch::policy {

inline constexpr std::uint32_t kBlockedTtl = 10;

struct BlockedQuery {
    std::span<const std::byte> wire;  // the client's query, which parse_message accepted as `parsed`
    const dns::Message& parsed;
    std::size_t listed_at;  // where in the question name the listed name starts (the SOA's owner)
};

struct ReplyRoom {
    std::size_t limit = 65535;               // the client's size limit: dns::udp_limit() over UDP, 65535 over TCP
    std::optional<dns::OptRecord> opt = {};  // the OPT record for an EDNS client; none without EDNS
};

// Writes the response into `out` and returns its size; 0 if `out` cannot hold it.
std::size_t write_blocked_response(const BlockedQuery& query, BlockAnswer mode, const ReplyRoom& room,
                                   std::span<std::byte> out) noexcept;

}  // namespace greenfinch::policy
