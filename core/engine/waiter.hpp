// The parking pieces every blocking primitive is made of.
//
// A Waiter lives on the stack of the greenlet that waits and links itself into the primitive's WaitList. Whoever
// wakes it (always on the hub) unlinks it, marks it woken and switches straight into its greenlet. However the wait
// ends (woken, timed out, killed), the Waiter unlinks itself as it goes out of scope, so no list ever points at a
// greenlet that has stopped waiting; a timed-out waiter therefore never consumes what it was waiting for.
//
// Broadcast wakes every current waiter at once, through one deferred hub callback (gevent's notify-all links); its
// state is shared with that callback, so the primitive owning it may be destroyed before the callback runs. Its
// wait() waits for the next broadcast and wait_joining() also for one already under way (gevent's Event.wait() joining
// the notifier that is running, rather than a flag telling it which).
#pragma once

#include "core/engine/hub.hpp"
#include "core/memory/intrusive_list.hpp"

namespace greenfinch::core {

struct Waiter {
    ListNode node;
    RawGreenlet* greenlet = &RawGreenlet::current();
    // The park this waiter belongs to (see Hub::ParkTicket): the waiting greenlet parks next, and only here.
    std::uint64_t generation = greenlet->park_generation;
    bool woken = false;
};
using WaitList = IntrusiveList<Waiter, &Waiter::node>;

// Parks the current greenlet at the back of `list`: true once woken, false when `timeout` elapsed first.
bool wait_in(Hub& hub, WaitList& list, MaybeTimeout timeout);

// On the hub: takes the first waiter out of `list` and switches into it now; false if there was none.
bool wake_first(Hub& hub, WaitList& list);

// Takes the first waiter out of `list` and resumes it from a later hub callback (from a greenlet, which cannot
// switch into another directly); false if there was none.
bool wake_first_later(Hub& hub, WaitList& list);

// Deadline arithmetic for loops that may park several times under one timeout.
class Deadline {
public:
    Deadline(Hub& hub, MaybeTimeout timeout);
    // What is left of the timeout (never negative); nullopt for "forever".
    MaybeTimeout remaining() const;

private:
    Hub& hub_;
    std::optional<double> at_;
};

class Broadcast {
public:
    explicit Broadcast(Hub& hub) noexcept : hub_(&hub) {}
    // Not copyable: a copy made before the first wait() would get waiters of its own.
    Broadcast(const Broadcast&) = delete;
    Broadcast& operator=(const Broadcast&) = delete;
    Broadcast(Broadcast&&) noexcept = default;
    Broadcast& operator=(Broadcast&&) noexcept = default;

    // Parks until the next broadcast reaches this waiter (true) or `timeout` elapses (false). Arriving while a
    // broadcast is running, it waits for the one after.
    bool wait(MaybeTimeout timeout);
    // The same, but a waiter arriving while a broadcast is scheduled or running is woken by that one, behind the
    // earlier waiters (what Event::wait wants once the flag is set).
    bool wait_joining(MaybeTimeout timeout);
    // Schedules one callback that wakes, in FIFO order, everyone waiting now (and those who join it).
    void schedule();
    bool in_progress() const noexcept { return state_ && state_->scheduled; }
    bool has_waiters() const noexcept { return state_ && !state_->waiters.empty(); }
    Hub& hub() const noexcept { return *hub_; }

private:
    struct State : RefCounted<State> {
        explicit State(Hub& h) : hub(h) {}
        Hub& hub;
        WaitList waiters;
        WaitList* running = nullptr;  // the batch being woken, while the callback runs
        bool scheduled = false;
        bool again = false;  // schedule() was called while a broadcast was running
    };
    explicit Broadcast(Ref<State> st) : hub_(&st->hub), state_(std::move(st)) {}
    static void reschedule(const Ref<State>& st);
    Hub* hub_;
    // Made by the first wait(): many broadcasts are never waited on (an AsyncResult nobody else asked for), and
    // those cost no allocation.
    State& state();
    Ref<State> state_;
};

}  // namespace greenfinch::core
