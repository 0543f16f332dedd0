// accept_retrying(): the next connection on a listener, riding out failed accepts.
//
// A failed accept (EMFILE and friends: out of descriptors) leaves the listener readable, so trying again at once would
// spin. Each failure is reported to `warn` ("NAME ADDRESS: accept failed: REASON", rate-limited there) and the next
// try comes 100 ms later; only a kill or a Timeout of the calling greenlet ends the wait.
#pragma once

#include "core/io/log_throttle.hpp"
#include "core/io/tcp.hpp"

#include <string_view>

namespace greenfinch::core {

TcpListener::Accepted accept_retrying(TcpListener& listener, ThrottledWarning& warn, std::string_view name);

}  // namespace greenfinch::core
