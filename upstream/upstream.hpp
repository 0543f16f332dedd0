// Upstream: where the resolver sends what its cache cannot answer, and what it gets back.
//
// query() sends a query (any ID: the upstream draws a fresh random one for the wire) and parks the calling greenlet
// until there is an outcome or `timeout` passes. The outcome is typed, so no caller reads a library's status codes:
// an answer, every server failing the name (SERVFAIL), every server refusing it, no answer in time, no server
// reachable, or a failure of the upstream itself. in_flight() and wait_unused() let a worker replace an upstream on
// reload and destroy the old one once no greenlet is inside it. One upstream per hub; never shared across threads.
#pragma once

#include "core/engine/hub.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace greenfinch::upstream {

enum class Outcome : std::uint8_t {
    Answered,       // `answer` holds the response
    ServersFailed,  // every server answered SERVFAIL: the name cannot be resolved now (an answer, not trouble)
    Refused,        // every server refused the query
    TimedOut,       // no usable answer in time, the caller's or the upstream's own tries
    Unreachable,    // no server could be reached (connection refused, no route)
    Failed,         // the upstream itself failed (out of memory, a query it cannot send, shutting down)
};

// What an outcome means, in a few words, for the log.
std::string_view describe(Outcome outcome) noexcept;

struct Reply {
    Outcome outcome = Outcome::Failed;
    std::vector<std::byte> answer{};  // Answered: the response, carrying `sent_id`
    std::uint16_t sent_id = 0;        // the ID the query went out with
    std::string_view detail{};        // Failed or Unreachable: why, in the library's words (static storage); else empty
};

class Upstream {
public:
    virtual ~Upstream() = default;

    virtual Reply query(std::span<const std::byte> query, core::MaybeTimeout timeout) = 0;
    // Queries sent and not yet answered or given up.
    virtual std::size_t in_flight() const noexcept = 0;
    // Parks until no greenlet is inside query(): an upstream replaced on reload may then be destroyed.
    virtual void wait_unused() = 0;
};

}  // namespace greenfinch::upstream
