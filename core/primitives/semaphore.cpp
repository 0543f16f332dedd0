#include "core/primitives/semaphore.hpp"

#include <stdexcept>

namespace greenfinch::core {

Semaphore::Semaphore(int value) {
    if (value < 0) throw std::invalid_argument("semaphore initial value must be >= 0");
    state_ = make_ref<State>(Hub::current(), value);
}

bool Semaphore::try_acquire_for(MaybeTimeout timeout) {
    if (try_acquire()) return true;
    State& s = *state_;
    Deadline deadline(s.hub, timeout);
    while (s.counter <= 0) {
        if (!wait_in(s.hub, s.waiters, deadline.remaining())) return false;
    }
    --s.counter;
    return true;
}

int Semaphore::wait(MaybeTimeout timeout) {
    State& s = *state_;
    Deadline deadline(s.hub, timeout);
    while (s.counter <= 0) {
        if (!wait_in(s.hub, s.waiters, deadline.remaining())) break;
    }
    return s.counter;
}

void Semaphore::release() {
    ++state_->counter;
    if (!state_->waiters.empty()) schedule_notify();
}

void Semaphore::schedule_notify() {
    State& s = *state_;
    if (s.scheduled) return;
    s.scheduled = true;
    s.hub.run_callback([st = state_] {
        st->scheduled = false;
        while (st->counter > 0 && !st->waiters.empty()) {
            try {
                wake_first(st->hub, st->waiters);
            } catch (...) {
                st->hub.handle_error("semaphore wake-up", std::current_exception());
            }
        }
    });
}

void BoundedSemaphore::release() {
    if (counter() >= initial_) throw std::invalid_argument("Semaphore released too many times");
    Semaphore::release();
}

bool RLock::try_acquire_for(MaybeTimeout timeout) {
    RawGreenlet* me = &RawGreenlet::current();
    if (owner_ == me) {
        ++count_;
        return true;
    }
    if (!block_.try_acquire_for(timeout)) return false;
    owner_ = me;
    count_ = 1;
    return true;
}

bool RLock::try_acquire() {
    RawGreenlet* me = &RawGreenlet::current();
    if (owner_ == me) {
        ++count_;
        return true;
    }
    if (!block_.try_acquire()) return false;
    owner_ = me;
    count_ = 1;
    return true;
}

void RLock::release() {
    if (owner_ != &RawGreenlet::current()) throw std::logic_error("cannot release un-acquired lock");
    if (--count_ == 0) {
        owner_ = nullptr;
        block_.release();
    }
}

}  // namespace greenfinch::core
