// Group and Pool: sets of greenlets that can be joined or killed together (gevent's pool module).
//
// Group: add() tracks a greenlet until it dies (removal happens in a rawlink, one hub callback after death).
// join() waits until the group is empty (false on timeout; with `raise_error`, rethrows the first failure seen).
// kill() kills every member, never twice; with `block`, it returns once the group is empty.
//
// Pool(size): a Group that holds at most `size` greenlets. spawn() and add() block while it is full (add() with
// block = false or a timeout that passes throws PoolFull); nullopt means unbounded, 0 means spawn blocks forever.
// The daemon bounds the greenlets of each listener with one, so that a flood waits in the kernel's buffers rather
// than in memory.
#pragma once

#include "core/engine/greenlet.hpp"
#include "core/primitives/semaphore.hpp"
#include "core/engine/waiter.hpp"

#include <optional>
#include <vector>

namespace greenfinch::core {

class Group {
public:
    Group();
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;
    virtual ~Group();

    void add(const Ref<Greenlet>& g);
    void discard(Greenlet& g);
    bool contains(const Greenlet& g) const;
    std::size_t size() const noexcept { return state_->count; }
    std::vector<Ref<Greenlet>> members() const;

    template <class F, class... Args>
    auto spawn(F&& fn, Args&&... args) {
        auto g = make_greenlet(std::forward<F>(fn), std::forward<Args>(args)...);
        add_new(g);
        g->start();
        return g;
    }

    // Waits until the group is empty; false on timeout.
    bool join(MaybeTimeout timeout = std::nullopt, bool raise_error = false);
    void kill(std::exception_ptr error = nullptr, bool block = true, MaybeTimeout timeout = std::nullopt);

protected:
    // Called once a member has left (died or discarded).
    virtual void on_removed() {}
    // add() for a greenlet just made, which cannot be a member yet: no membership scan (spawn's hot path).
    void add_new(const Ref<Greenlet>& g);

private:
    struct Slot {
        Ref<Greenlet> greenlet;
        Greenlet::LinkId link = 0;
        bool dying = false;  // kill() was sent: a further kill() does not fire at it again
    };
    struct State : RefCounted<State> {
        explicit State(Hub& h) : hub(h), emptied(h) {}
        Hub& hub;
        std::vector<Slot> slots;  // indexes stay stable: a member's rawlink knows its slot
        std::vector<std::size_t> free;
        std::size_t count = 0;
        Broadcast emptied;
        Group* owner = nullptr;  // cleared when the Group goes; members' rawlinks then find nothing to update
    };
    void remove_slot(std::size_t index);
    Ref<State> state_;
};

class Pool : public Group {
public:
    explicit Pool(std::optional<int> size = std::nullopt);
    ~Pool() override;

    template <class F, class... Args>
    auto spawn(F&& fn, Args&&... args) {
        auto g = make_greenlet(std::forward<F>(fn), std::forward<Args>(args)...);
        if (slots_) slots_->acquire();  // blocks while the pool is full
        add_new(g);
        g->start();
        return g;
    }
    // Adds a greenlet, waiting for a free slot; PoolFull when `block` is false or `timeout` passes first.
    void add(const Ref<Greenlet>& g, bool block = true, MaybeTimeout timeout = std::nullopt);

    std::optional<int> capacity() const noexcept { return size_; }
    int free_count() const noexcept;
    bool full() const noexcept;
    // Waits until a slot is free; returns the free count (0 if the timeout passed first).
    int wait_available(MaybeTimeout timeout = std::nullopt);

    // fn(x) for every input, at most size() at a time; results in input order; the first failure is rethrown.
    template <class In, class F>
    auto map(const std::vector<In>& inputs, F fn) {
        using R = std::invoke_result_t<F&, const In&>;
        std::vector<GreenletPtr<R>> gs;
        gs.reserve(inputs.size());
        for (const auto& x : inputs) gs.push_back(spawn(fn, x));
        std::vector<R> out;
        out.reserve(gs.size());
        for (auto& g : gs) out.push_back(g->get());
        return out;
    }
    // The same, with results in completion order. The greenlets share their state with this call rather than
    // pointing into its frame, so they stay safe when a failure (or a kill) ends the call early.
    template <class In, class F>
    auto imap_unordered(const std::vector<In>& inputs, F fn) {
        using R = std::invoke_result_t<F&, const In&>;
        struct Shared {
            F fn;
            std::vector<R> out;
        };
        auto shared = std::make_shared<Shared>(Shared{std::move(fn), {}});
        shared->out.reserve(inputs.size());
        std::vector<GreenletPtr<void>> gs;
        for (const auto& x : inputs) gs.push_back(spawn([shared, x] { shared->out.push_back(shared->fn(x)); }));
        for (auto& g : gs) g->get();
        return std::move(shared->out);
    }

private:
    void on_removed() override;
    std::optional<int> size_;
    std::optional<Semaphore> slots_;
};

}  // namespace greenfinch::core
