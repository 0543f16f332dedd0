// The exceptions the runtime raises.
//
// Two of them are deliberately NOT std::exceptions: GreenletExit (the default kill) and TimeoutExpired (a Timeout
// firing). They unwind a greenlet through user code, and a generic `catch (const std::exception&)` must not be able
// to swallow them, as gevent makes both BaseExceptions. Code that must clean up uses RAII or `catch (...) { ...;
// throw; }`.
//
// Everything else is an ordinary std::exception, named after its gevent counterpart.
#pragma once

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>

namespace greenfinch::core {

// Raised at a greenlet's suspension point by Greenlet::kill(); a greenlet that lets it escape counts as successful.
struct GreenletExit {};

// Raised by a firing Timeout in the greenlet that armed it. `timeout_id` is the identity of that Timeout, so nested
// timeouts can tell whose expiry this is (Timeout::owns()).
struct TimeoutExpired {
    std::uint64_t timeout_id;
};

// The hub found nothing that could ever wake the blocked main greenlet ("This operation would block forever").
struct LoopExit : std::runtime_error {
    LoopExit() : std::runtime_error("this operation would block forever: nothing left that can wake the hub") {}
};

// A blocking call was made on the hub's own stack (from a hub callback, a rawlink or a C library callback).
struct BlockingSwitchOutError : std::logic_error {
    BlockingSwitchOutError()
        : std::logic_error("impossible to call a blocking function in the hub (event loop callback)") {}
};

// A second greenlet tried to wait on a single-waiter object.
struct ConcurrentObjectUseError : std::logic_error {
    using std::logic_error::logic_error;
};

// Raw greenlet misuse: switching to a greenlet of another thread, or a cyclic parent.
struct GreenletError : std::logic_error {
    using std::logic_error::logic_error;
};

// Queue::put on a full queue without blocking, or when the wait timed out.
struct QueueFull : std::runtime_error {
    QueueFull() : std::runtime_error("queue full") {}
};

// Queue::get on an empty queue without blocking, or when the wait timed out.
struct QueueEmpty : std::runtime_error {
    QueueEmpty() : std::runtime_error("queue empty") {}
};

// Pool::add without blocking (or timing out) on a full pool.
struct PoolFull : std::runtime_error {
    PoolFull() : std::runtime_error("pool full") {}
};

// Greenlet::get() on a greenlet that was killed with GreenletExit: it is successful, but has no value to return.
struct GreenletKilled : std::runtime_error {
    GreenletKilled() : std::runtime_error("the greenlet was killed before returning a value") {}
};

// A cooperative socket operation did not complete within its timeout.
struct SocketTimeout : std::runtime_error {
    SocketTimeout() : std::runtime_error("socket operation timed out") {}
};

// A one-line description of any exception, for logs: what() for std::exceptions, the type name for the others.
std::string describe(std::exception_ptr error);

}  // namespace greenfinch::core
