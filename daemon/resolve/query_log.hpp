// The query log ([log] queries = true): one info line per query, with the client, transport, name, type, rcode,
// where the answer came from and the time taken. Written only when enabled, so the hit path pays nothing otherwise.
#pragma once

#include "daemon/resolve/responder.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace greenfinch::daemon {

// Where an answer came from. None: nothing was sent. Error: an error of ours (FORMERR, NOTIMP, BADVERS, SERVFAIL
// when nothing answered in time).
enum class AnswerSource : std::uint8_t {
    None,
    Cache,
    SharedCache,
    Upstream,
    Coalesced,
    Stale,
    Error,
    LocalData,  // the operator's records, hosts files and zones
    Special,    // RFC 6303 / RFC 6761 names
    Blocked,
};

struct LoggedAnswer {
    std::span<const std::byte> response;
    AnswerSource source;
    std::string_view zone;  // the forward zone an upstream answer came through; empty for [upstream] servers
    double elapsed_seconds;
};

void log_query(std::span<const std::byte> query, const QueryOrigin& origin, const LoggedAnswer& answer);

}  // namespace greenfinch::daemon
