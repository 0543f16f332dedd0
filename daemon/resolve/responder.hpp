// Responder: what a listener calls for each query. It writes the response into `out` and returns its size, or 0 to
// send nothing (the query was not worth an answer: too short, or itself a response). It runs in the query's own
// greenlet and may block cooperatively. `origin` says who asked and how: UDP answers must fit the client's size, and
// the query log names the client.
#pragma once

#include "core/io/log_throttle.hpp"
#include "core/io/socket_address.hpp"
#include "core/memory/small_function.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace greenfinch::daemon {

enum class Transport : std::uint8_t { Udp, Tcp };

struct QueryOrigin {
    const core::SocketAddress& peer;
    Transport transport;
};

using Responder = core::SmallFunction<std::size_t(std::span<const std::byte> query, const QueryOrigin& origin,
                                                  std::span<std::byte> out)>;

// Calls `responder`. Should it throw (something failed inside it, memory or c-ares, say; a kill or a Timeout is no
// std::exception and goes through), the client gets SERVFAIL all the same, `failed` counts it, and `warn` says why.
std::size_t respond_or_servfail(Responder& responder, std::span<const std::byte> query, const QueryOrigin& origin,
                                std::span<std::byte> out, std::uint64_t& failed, core::ThrottledWarning& warn);

}  // namespace greenfinch::daemon
