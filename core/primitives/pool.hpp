// Group and Pool: sets of greenlets that can be joined or killed together (gevent's pool module).
//
// Group: add() tracks a greenlet until it dies (removal happens in a rawlink, one hub callback after death).
// join(timeout) waits until the group is empty (false on timeout); join_or_raise(timeout) also rethrows the first
// failure seen (gevent's join(timeout, raise_error=True)). kill() kills every member, never twice, and returns once the
// group is empty; kill_and_wait(timeout) throws TimeoutExpired if it is not empty by then (gevent's kill(timeout=t)),
// kill_nowait() does not wait (kill(block=False)). KillWith{exc} raises exc instead of GreenletExit.
//
// Pool(size): a Group that holds at most `size` greenlets. spawn() and add() block while it is full; add_for(g,
// timeout) throws PoolFull when `timeout` passes first, add_nowait(g) when it is full now (gevent's add(g, timeout=t)
// and add(g, blocking=False)); nullopt means unbounded, 0 means spawn blocks forever.
// The daemon bounds the greenlets of each listener with one, so that a flood waits in the kernel's buffers rather
// than in memory.
#pragma once

#include "core/engine/greenlet.hpp"
#include "core/engine/waiter.hpp"
#include "core/primitives/semaphore.hpp"

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
    bool join(MaybeTimeout timeout = std::nullopt);
    // The same, first rethrowing the failure of the first member seen to fail.
    bool join_or_raise(MaybeTimeout timeout = std::nullopt);
    // Kills every member and waits until the group is empty.
    void kill(KillWith with = {});
    // The same, waiting at most `timeout`: TimeoutExpired if the group is not empty by then.
    void kill_and_wait(MaybeTimeout timeout, KillWith with = {});
    // Kills every member without waiting.
    void kill_nowait(KillWith with = {});

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
    // Sends the kill to every member not yet sent one.
    void deliver_kill(std::exception_ptr error);
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
    // Adds a greenlet, waiting for a free slot as long as it takes.
    void add(const Ref<Greenlet>& g) { add_for(g, std::nullopt); }
    // The same, waiting at most `timeout`: PoolFull if it passes first.
    void add_for(const Ref<Greenlet>& g, MaybeTimeout timeout);
    // The same without waiting: PoolFull if no slot is free now.
    void add_nowait(const Ref<Greenlet>& g);

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
    // Group::add() once a slot is held (unless added by someone else meanwhile).
    void add_holding_slot(const Ref<Greenlet>& g);
    std::optional<int> size_;
    std::optional<Semaphore> slots_;
};

}  // namespace greenfinch::core
