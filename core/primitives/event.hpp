// Event and AsyncResult<T>: wake every waiter when something happens (gevent's Event and AsyncResult).
//
// Event: set() raises a flag and wakes all current waiters, in the order they started waiting, through one deferred
// hub callback (set() itself never switches). wait() returns true if the flag was set on entry or at any time during
// the wait, even if cleared again before the waiter ran; false on timeout. A wait() that starts while a wake-up is
// still on its way queues behind the waiters already being woken.
//
// AsyncResult<T>: a value or an exception, set once (a second set overwrites, as in gevent), waited for by any
// number of greenlets. get() returns the value or rethrows the exception, waiting as long as it takes; gevent's
// get(timeout=t) is get_for(t) (TimeoutExpired of that timeout when it passes), get(block=False) is get_nowait()
// (TimeoutExpired{0} when not ready).
#pragma once

#include "core/engine/waiter.hpp"
#include "core/primitives/timeout.hpp"

#include <exception>
#include <optional>
#include <utility>

namespace greenfinch::core {

class Event {
public:
    Event() : broadcast_(Hub::current()) {}
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    void set() {
        flag_ = true;
        if (broadcast_.has_waiters()) broadcast_.schedule();
    }
    void clear() noexcept { flag_ = false; }
    bool is_set() const noexcept { return flag_; }
    bool ready() const noexcept { return flag_; }
    bool wait(MaybeTimeout timeout = std::nullopt) {
        if (flag_ && !broadcast_.in_progress()) return true;
        return flag_ ? broadcast_.wait_joining(timeout) : broadcast_.wait(timeout);
    }

private:
    Broadcast broadcast_;
    bool flag_ = false;
};

template <class T>
class AsyncResult {
public:
    AsyncResult() : broadcast_(Hub::current()) {}
    AsyncResult(const AsyncResult&) = delete;
    AsyncResult& operator=(const AsyncResult&) = delete;

    void set(T value) {
        value_.emplace(std::move(value));
        error_ = nullptr;
        wake();
    }
    void set_exception(std::exception_ptr error) {
        value_.reset();
        error_ = std::move(error);
        wake();
    }

    bool ready() const noexcept { return value_.has_value() || error_; }
    bool successful() const noexcept { return value_.has_value(); }
    const std::optional<T>& value() const noexcept { return value_; }
    std::exception_ptr exception() const noexcept { return error_; }

    // Waits up to `timeout`; returns ready(). Never throws the stored exception.
    bool wait(MaybeTimeout timeout = std::nullopt) {
        if (ready() && !broadcast_.in_progress()) return true;
        if (ready()) {
            broadcast_.wait_joining(timeout);
        } else {
            broadcast_.wait(timeout);
        }
        return ready();
    }
    // The value or the stored exception, once ready.
    const T& get() { return get_for(std::nullopt); }
    // The same, waiting at most `timeout`: then that timeout's TimeoutExpired.
    const T& get_for(MaybeTimeout timeout) {
        if (!ready()) {
            Timeout t(timeout);
            while (!ready()) broadcast_.wait(std::nullopt);
        }
        return outcome();
    }
    // The same without waiting: TimeoutExpired{0} if not ready.
    const T& get_nowait() {
        if (!ready()) throw TimeoutExpired{0};
        return outcome();
    }

private:
    const T& outcome() {
        if (error_) std::rethrow_exception(error_);
        return *value_;
    }
    void wake() {
        if (broadcast_.has_waiters()) broadcast_.schedule();
    }
    Broadcast broadcast_;
    std::optional<T> value_;
    std::exception_ptr error_;
};

}  // namespace greenfinch::core
