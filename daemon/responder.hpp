// Responder: what a listener calls for each query. It writes the response into `out` and returns its size, or 0 to
// send nothing (the query was not worth an answer: too short, or itself a response). It runs in the query's own
// greenlet and may block cooperatively.
#pragma once

#include "core/small_function.hpp"

#include <cstddef>
#include <span>

namespace greenfinch::daemon {

using Responder = core::SmallFunction<std::size_t(std::span<const std::byte> query, std::span<std::byte> out)>;

}  // namespace greenfinch::daemon
