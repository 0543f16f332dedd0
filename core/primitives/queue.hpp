// Queue<T> and Channel<T> (gevent's Queue/JoinableQueue and Channel).
//
// Queue<T>(maxsize): FIFO of items; nullopt or 0 means unbounded. put() blocks while the queue is full, get() and
// peek() while it is empty. put_for / get_for / peek_for(timeout) give up when `timeout` passes and the _nowait ones
// at once, throwing QueueFull / QueueEmpty (gevent's put(item, timeout=t) and put(item, block=False), and the same
// for get and peek). Blocked putters and getters are served FIFO through a deferred hub callback; a getter takes its
// item when it runs, so one that timed out meanwhile leaves the item for the next. Joinable: every put counts as an
// unfinished task until a task_done(); join() waits for zero.
//
// Channel<T>: a rendezvous with no buffer: put() returns only once a getter has taken the item (put_nowait with no
// getter waiting, or put_for whose timeout passes, throws QueueFull); get() takes from a waiting putter, or waits for
// one (get_for / get_nowait throw QueueEmpty as the Queue's do).
#pragma once

#include "core/engine/waiter.hpp"

#include <deque>
#include <optional>
#include <stdexcept>
#include <utility>

namespace greenfinch::core {

template <class T>
class Queue {
public:
    explicit Queue(std::optional<std::size_t> maxsize = std::nullopt)
        : state_(make_ref<State>(Hub::current(), maxsize && *maxsize > 0 ? maxsize : std::nullopt)),
          all_done_(Hub::current()) {}
    Queue(const Queue&) = delete;
    Queue& operator=(const Queue&) = delete;

    // Appends `item`, waiting as long as it takes for room.
    void put(T item) {
        wait_for_room(std::nullopt);
        push(std::move(item));
    }
    // The same, waiting at most `timeout`: then QueueFull.
    void put_for(T item, MaybeTimeout timeout) {
        wait_for_room(timeout);
        push(std::move(item));
    }
    // The same without waiting: QueueFull if it is full now.
    void put_nowait(T item) {
        if (state_->full()) throw QueueFull();
        push(std::move(item));
    }

    // Takes the first item, waiting as long as it takes for one.
    T get() { return get_for(std::nullopt); }
    // The same, waiting at most `timeout`: then QueueEmpty.
    T get_for(MaybeTimeout timeout) {
        wait_for_item(timeout);
        return pop();
    }
    // The same without waiting: QueueEmpty if it is empty now.
    T get_nowait() {
        if (state_->items.empty()) throw QueueEmpty();
        return pop();
    }

    // The next item, left in the queue; waits for one as get() does.
    const T& peek() { return peek_for(std::nullopt); }
    const T& peek_for(MaybeTimeout timeout) {
        State& s = *state_;
        if (s.items.empty()) {
            wait_for_item(timeout);
            // A peeker does not consume the wake-up meant for a getter behind it.
            if (!s.getters.empty()) schedule_unlock();
        }
        return s.items.front();
    }
    const T& peek_nowait() {
        if (state_->items.empty()) throw QueueEmpty();
        return state_->items.front();
    }

    std::size_t qsize() const noexcept { return state_->items.size(); }
    bool empty() const noexcept { return state_->items.empty(); }
    bool full() const noexcept { return state_->full(); }
    std::optional<std::size_t> maxsize() const noexcept { return state_->maxsize; }

    void task_done() {
        if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
        if (--unfinished_ == 0) all_done_.set();
    }
    std::size_t unfinished_tasks() const noexcept { return unfinished_; }
    // Waits until every item put has been marked done; false on timeout.
    bool join(MaybeTimeout timeout = std::nullopt) {
        if (unfinished_ == 0) return true;
        all_done_.clear();
        return all_done_.wait(timeout) || unfinished_ == 0;
    }

private:
    struct State : RefCounted<State> {
        State(Hub& h, std::optional<std::size_t> m) : hub(h), maxsize(m) {}
        bool full() const noexcept { return maxsize && items.size() >= *maxsize; }
        Hub& hub;
        std::optional<std::size_t> maxsize;
        std::deque<T> items;
        WaitList getters;
        WaitList putters;
        bool scheduled = false;
    };

    void push(T&& item) {
        State& s = *state_;
        s.items.push_back(std::move(item));
        ++unfinished_;
        if (!s.getters.empty()) schedule_unlock();
    }
    void wait_for_room(MaybeTimeout timeout) {
        State& s = *state_;
        if (!s.full()) return;
        Deadline deadline(s.hub, timeout);
        while (s.full()) {
            if (!wait_in(s.hub, s.putters, deadline.remaining())) throw QueueFull();
        }
    }
    void wait_for_item(MaybeTimeout timeout) {
        State& s = *state_;
        if (!s.items.empty()) return;
        Deadline deadline(s.hub, timeout);
        while (s.items.empty()) {
            if (!wait_in(s.hub, s.getters, deadline.remaining())) throw QueueEmpty();
        }
    }
    T pop() {
        State& s = *state_;
        T item = std::move(s.items.front());
        s.items.pop_front();
        if (!s.putters.empty()) schedule_unlock();
        return item;
    }

    void schedule_unlock() {
        State& s = *state_;
        if (s.scheduled) return;
        s.scheduled = true;
        s.hub.run_callback([st = state_] {
            st->scheduled = false;
            for (;;) {
                try {
                    if (!st->putters.empty() && !st->full()) {
                        wake_first(st->hub, st->putters);
                    } else if (!st->getters.empty() && !st->items.empty()) {
                        wake_first(st->hub, st->getters);
                    } else {
                        break;
                    }
                } catch (...) {
                    st->hub.handle_error("queue wake-up", std::current_exception());
                }
            }
        });
    }

    Ref<State> state_;
    std::size_t unfinished_ = 0;
    // Minimal event for join(); a queue is usually joined by one greenlet.
    class DoneEvent {
    public:
        explicit DoneEvent(Hub& hub) : broadcast_(hub) {}
        void set() {
            flag_ = true;
            if (broadcast_.has_waiters()) broadcast_.schedule();
        }
        void clear() noexcept { flag_ = false; }
        bool wait(MaybeTimeout timeout) { return flag_ || broadcast_.wait(timeout); }

    private:
        Broadcast broadcast_;
        bool flag_ = false;
    } all_done_;
};

template <class T>
class Channel {
public:
    Channel() : state_(make_ref<State>(Hub::current())) {}
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // Hands `item` to a getter, waiting as long as it takes for one.
    void put(T item) { offer(item, std::nullopt); }
    // The same, waiting at most `timeout`: then QueueFull.
    void put_for(T item, MaybeTimeout timeout) { offer(item, timeout); }
    // The same only if a getter is waiting now: else QueueFull.
    void put_nowait(T item) {
        if (state_->getters.empty()) throw QueueFull();
        offer(item, Seconds(0));
    }

    // Takes an item from a putter, waiting as long as it takes for one.
    T get() { return get_for(std::nullopt); }
    // The same, waiting at most `timeout`: then QueueEmpty.
    T get_for(MaybeTimeout timeout) {
        State& s = *state_;
        Deadline deadline(s.hub, timeout);
        while (s.offers.empty()) {
            if (!wait_in(s.hub, s.getters, deadline.remaining())) throw QueueEmpty();
        }
        return take();
    }
    // The same only if a putter is waiting now: else QueueEmpty.
    T get_nowait() {
        if (state_->offers.empty()) throw QueueEmpty();
        return take();
    }

    std::size_t qsize() const noexcept { return 0; }
    bool empty() const noexcept { return true; }
    bool full() const noexcept { return true; }

private:
    // A putter's item, on the putter's stack while it waits for a getter.
    struct Offer {
        ListNode node;
        T* item;
        WaitList taken;
    };
    struct State : RefCounted<State> {
        explicit State(Hub& h) : hub(h) {}
        Hub& hub;
        IntrusiveList<Offer, &Offer::node> offers;
        WaitList getters;
        bool scheduled = false;
    };

    // Offers `item` (on this stack) to the getters, waiting at most `wait` for one to take it.
    void offer(T& item, MaybeTimeout wait) {
        State& s = *state_;
        Offer offer{{}, &item, {}};
        s.offers.push_back(offer);
        if (s.hub.on_hub()) {
            wake_first(s.hub, s.getters);  // the hub cannot park: hand the item straight to a waiting getter
        } else {
            if (!s.getters.empty()) schedule_unlock();
            // The getter takes the item and wakes us; anything else (timeout, kill) leaves it untaken.
            wait_in(s.hub, offer.taken, wait);
        }
        if (offer.item) throw QueueFull();
    }
    T take() {
        State& s = *state_;
        Offer& offer = *s.offers.pop_front();
        T item = std::move(*std::exchange(offer.item, nullptr));
        wake_first_later(s.hub, offer.taken);
        return item;
    }

    void schedule_unlock() {
        State& s = *state_;
        if (s.scheduled) return;
        s.scheduled = true;
        s.hub.run_callback([st = state_] {
            st->scheduled = false;
            try {
                while (!st->offers.empty() && wake_first(st->hub, st->getters)) {}
            } catch (...) {
                st->hub.handle_error("channel wake-up", std::current_exception());
            }
        });
    }

    Ref<State> state_;
};

}  // namespace greenfinch::core
