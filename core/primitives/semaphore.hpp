// Semaphore, BoundedSemaphore, Lock, RLock (gevent's).
//
// Semaphore(n): acquire() takes a unit, blocking while none is free; try_acquire_for(timeout) gives up when `timeout`
// passes (false), try_acquire() when none is free now (gevent's acquire(timeout=t) and acquire(blocking=False)).
// release() gives one back and wakes waiters in FIFO order through a deferred hub callback, stopping once the units
// run out. A greenlet that runs before the woken one may take a just-released unit (barging), as in gevent; a woken
// waiter that finds none waits again. lock()/unlock() make it usable with std::lock_guard / std::unique_lock.
// BoundedSemaphore: releasing above the initial value throws std::invalid_argument. Lock: a BoundedSemaphore(1).
// RLock: re-entrant for the greenlet that holds it; released by another greenlet it throws std::logic_error.
#pragma once

#include "core/engine/waiter.hpp"

namespace greenfinch::core {

class Semaphore {
public:
    // std::invalid_argument for a negative value.
    explicit Semaphore(int value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    // Takes a unit, waiting as long as it takes; true (as gevent's acquire() returns True).
    bool acquire() { return try_acquire() || try_acquire_for(std::nullopt); }
    // Takes a unit, waiting at most `timeout`; false if it passed first.
    bool try_acquire_for(MaybeTimeout timeout);
    // Takes a unit if one is free now.
    bool try_acquire() noexcept {
        if (state_->counter <= 0) return false;
        --state_->counter;
        return true;
    }
    void release();
    // Waits until a unit is free, without taking it; returns the count (0 if the timeout passed first).
    int wait(MaybeTimeout timeout = std::nullopt);

    int counter() const noexcept { return state_->counter; }
    bool locked() const noexcept { return state_->counter <= 0; }
    bool ready() const noexcept { return state_->counter > 0; }
    std::size_t waiters() const noexcept { return state_->waiters.size(); }

    void lock() { acquire(); }
    void unlock() { release(); }

protected:
    void schedule_notify();

    struct State : RefCounted<State> {
        State(Hub& h, int c) : hub(h), counter(c) {}
        Hub& hub;
        int counter;
        WaitList waiters;
        bool scheduled = false;
    };
    Ref<State> state_;
};

class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(int value = 1) : Semaphore(value), initial_(value) {}
    void release();
    void unlock() { release(); }

private:
    int initial_;
};

class Lock : public BoundedSemaphore {
public:
    Lock() : BoundedSemaphore(1) {}
};

class RLock {
public:
    RLock() = default;
    // As Semaphore's: re-entrant for the greenlet that holds the lock.
    bool acquire() { return try_acquire_for(std::nullopt); }
    bool try_acquire_for(MaybeTimeout timeout);
    bool try_acquire();
    void release();
    void lock() { acquire(); }
    void unlock() { release(); }
    bool locked() const noexcept { return count_ > 0; }

private:
    Semaphore block_{1};
    RawGreenlet* owner_ = nullptr;
    int count_ = 0;
};

}  // namespace greenfinch::core
