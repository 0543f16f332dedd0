// Timeout: a scoped deadline for the greenlet that arms it (gevent's Timeout).
//
//   Timeout t(0.2s);            // armed for the current greenlet
//   try { queue.get(); }
//   catch (const TimeoutExpired& e) { if (!t.owns(e)) throw; ... }  // nested timeouts: check identity
//
// When it fires, the hub raises TimeoutExpired{id()} (or the exception given at construction) at the greenlet's
// current suspension point; code that never blocks is never interrupted. A Timeout with no duration (nullopt) never
// fires, so an optional deadline needs no special case. Zero fires at the next loop iteration. Leaving the scope
// cancels it. The timer runs below I/O priority: an I/O event in the same loop iteration wins.
// Not copyable: its identity is what nested handlers compare.
#pragma once

#include "core/engine/errors.hpp"
#include "core/engine/hub.hpp"

#include <exception>
#include <type_traits>
#include <utility>

namespace greenfinch::core {

class Timeout {
public:
    // Arms at once for the calling greenlet (not on the hub). `exception`, if given, is raised instead of
    // TimeoutExpired.
    explicit Timeout(MaybeTimeout seconds, std::exception_ptr exception = nullptr);
    ~Timeout() { cancel(); }
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;

    // Re-arms a cancelled or expired Timeout for the calling greenlet; std::logic_error if it is pending.
    void start();
    void cancel() noexcept;
    bool pending() const noexcept { return ev_is_active(&timer_); }
    std::uint64_t id() const noexcept { return id_; }
    MaybeTimeout seconds() const noexcept { return seconds_; }
    bool owns(const TimeoutExpired& e) const noexcept { return e.timeout_id == id_; }

private:
    static void on_expiry(struct ev_loop*, ev_timer* w, int);

    Hub& hub_;
    MaybeTimeout seconds_;
    std::exception_ptr exception_;
    std::uint64_t id_;
    Ref<RawGreenlet> target_;
    ev_timer timer_;
};

// Runs fn() under a Timeout; its expiry propagates as TimeoutExpired.
template <class F>
decltype(auto) with_timeout(MaybeTimeout seconds, F&& fn) {
    Timeout t(seconds);
    return std::forward<F>(fn)();
}

// Runs fn() under a Timeout and returns `fallback` if (and only if) that Timeout fired; an outer one propagates.
template <class F, class V>
auto with_timeout(MaybeTimeout seconds, F&& fn, V fallback) -> std::common_type_t<std::invoke_result_t<F>, V> {
    Timeout t(seconds);
    try {
        return std::forward<F>(fn)();
    } catch (const TimeoutExpired& e) {
        if (!t.owns(e)) throw;
        return fallback;
    }
}

}  // namespace greenfinch::core
