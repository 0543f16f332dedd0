// The query log ([log] queries = true): one info line per query, with the client, transport, name, type, rcode,
// where the answer came from and the time taken. Written only when enabled, so the hit path pays nothing otherwise.
#pragma once

#include "daemon/resolve/responder.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace greenfinch::daemon {

// Where an answer came from. None: nothing was sent.
enum class AnswerSource : std::uint8_t { None, Cache, SharedCache, Upstream, Coalesced, Stale, Local };

void log_query(std::span<const std::byte> query, const QueryOrigin& origin, std::span<const std::byte> response,
               AnswerSource source, double elapsed_seconds);

}  // namespace greenfinch::daemon
