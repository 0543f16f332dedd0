#include "core/engine/waiter.hpp"

#include <algorithm>

namespace greenfinch::core {

bool wait_in(Hub& hub, WaitList& list, MaybeTimeout timeout) {
    if (hub.on_hub()) throw BlockingSwitchOutError();
    Waiter w;
    list.push_back(w);
    hub.park(timeout);
    return w.woken;
}

bool wake_first(Hub& hub, WaitList& list) {
    Waiter* w = list.pop_front();
    if (!w) return false;
    w->woken = true;
    hub.resume(*w->greenlet);
    return true;
}

bool wake_first_later(Hub& hub, WaitList& list) {
    Waiter* w = list.pop_front();
    if (!w) return false;
    w->woken = true;
    hub.resume_later({Ref<RawGreenlet>(w->greenlet), w->generation});
    return true;
}

Deadline::Deadline(Hub& hub, MaybeTimeout timeout) : hub_(hub) {
    if (timeout) {
        hub.update_now();
        at_ = hub.now() + timeout->count();
    }
}

MaybeTimeout Deadline::remaining() const {
    if (!at_) return std::nullopt;
    hub_.update_now();
    return Seconds(std::max(0.0, *at_ - hub_.now()));
}

Broadcast::State& Broadcast::state() {
    if (!state_) state_ = make_ref<State>(*hub_);
    return *state_;
}

bool Broadcast::wait(MaybeTimeout timeout) {
    State& s = state();
    return wait_in(s.hub, s.waiters, timeout);
}

bool Broadcast::wait_joining(MaybeTimeout timeout) {
    State& s = state();
    return wait_in(s.hub, s.running ? *s.running : s.waiters, timeout);
}

void Broadcast::reschedule(const Ref<State>& st) {
    Broadcast b(st);
    b.schedule();
}

void Broadcast::schedule() {
    if (!state_) return;  // never waited on: nobody to wake
    State& s = *state_;
    if (s.running) {
        s.again = true;  // waiters arriving now wait for this new broadcast, after the running one
        return;
    }
    if (s.scheduled) return;
    s.scheduled = true;
    s.hub.run_callback([st = state_] {
        WaitList batch;
        batch.splice_back(st->waiters);
        st->running = &batch;
        while (!batch.empty()) {
            try {
                wake_first(st->hub, batch);
            } catch (...) {
                st->hub.handle_error("wake-up", std::current_exception());
            }
        }
        st->running = nullptr;
        st->scheduled = false;
        if (std::exchange(st->again, false) && !st->waiters.empty()) Broadcast::reschedule(st);
    });
}

}  // namespace greenfinch::core
