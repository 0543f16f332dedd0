// RawGreenlet: the greenlet library's layer under the hub. Stackful coroutines that switch explicitly.
//
// - `g->switch_to(v)` suspends the current greenlet and runs `g`, passing `v`: a greenlet that has not started calls
//   its run(v); a suspended one sees `v` returned from its own switch_to(). Values go both ways as std::any.
// - `g->throw_in(e)` raises `e` at `g`'s suspension point instead (before its first line if it has not started).
// - Every greenlet has a parent (by default the greenlet that created it). When `run` returns, its value is switched
//   to the parent; an escaping exception is raised in the parent, except GreenletExit, which the parent receives as a
//   value (a std::any holding GreenletExit). Switching to a dead greenlet goes to its nearest live ancestor.
// - `set_trace()` installs a per-thread hook that sees every switch and throw, with origin and target.
// - A suspended greenlet whose last Ref is dropped is unwound: GreenletExit is raised at its suspension point (with
//   the dropping greenlet as its parent), so its destructors and catch blocks run before its stack is reused.
//
// Each thread has its own greenlets: the "main" greenlet is the thread's own stack. Coroutines (a Boost.Context fiber
// with a pooled, guard-paged stack) are reused across greenlets: a finished greenlet gives its coroutine back to a
// per-thread free list, so starting a greenlet in steady state maps no memory and creates no fiber.
// Refs and greenlets must not cross threads: switching to another thread's greenlet throws GreenletError.
// Each greenlet has its own "exceptions being handled" state, so blocking inside a catch block is safe.
#pragma once

#include "core/engine/errors.hpp"
#include "core/engine/stack_pool.hpp"
#include "core/memory/ref.hpp"
#include "core/memory/small_function.hpp"

#include <boost/context/fiber.hpp>

#include <any>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>

namespace greenfinch::core {

class RawGreenlet;
struct ThreadState;

enum class TraceEvent { Switch, Throw };
using TraceHook = SmallFunction<void(TraceEvent, RawGreenlet& origin, RawGreenlet& target)>;

class RawGreenlet : public RefCounted<RawGreenlet> {
public:
    virtual ~RawGreenlet();

    // The greenlet running on this thread (the thread's main greenlet if none was switched to).
    static RawGreenlet& current();
    static Ref<RawGreenlet> current_ref() { return Ref<RawGreenlet>(&current()); }
    // This thread's main greenlet.
    static RawGreenlet& main();

    std::any switch_to(std::any value = {});
    std::any throw_in(std::exception_ptr error);
    std::any throw_in() { return throw_in(std::make_exception_ptr(GreenletExit{})); }

    RawGreenlet* parent() const noexcept { return parent_.get(); }
    // Throws GreenletError on a cycle or a greenlet of another thread.
    void set_parent(Ref<RawGreenlet> parent);

    bool started() const noexcept { return state_ != State::Created; }
    bool dead() const noexcept { return state_ == State::Dead; }
    bool active() const noexcept { return state_ == State::Active; }  // started and not dead
    bool is_main() const noexcept { return is_main_; }

    // Installs the per-thread hook and returns the previous one (empty to remove).
    static TraceHook set_trace(TraceHook hook);

    // Stack size and coroutine reuse for this thread. The stack size changes only while no greenlet is alive.
    static void configure_thread(StackPool::Config stacks, std::size_t max_idle_coroutines);
    static const StackPool& thread_stacks();

    // The refcount hook (see Ref): unwinds a suspended greenlet, then deletes it.
    void last_ref_dropped() noexcept;

    // The last resort for a suspended greenlet that will not die of GreenletExit: Boost.Context's forced unwind runs
    // the destructors on its stack without running any more of its code (catch blocks that rethrow still run; a
    // catch (...) that swallows the unwind is a bug, as with GreenletExit). The greenlet is dead afterwards.
    void force_unwind() noexcept;

    // The hub's bookkeeping: bumped whenever a park ends, so that a deferred wake-up can tell whether the park it
    // was meant for is still the one in progress (see Hub::ParkTicket).
    std::uint64_t park_generation = 0;

protected:
    explicit RawGreenlet(Ref<RawGreenlet> parent);
    // The greenlet's body. The argument is the value of the switch that started it.
    virtual std::any run(std::any arg) = 0;
    // A greenlet that will never be switched into (killed before it started) is dead without having run.
    void mark_dead_unstarted() noexcept {
        if (state_ == State::Created) state_ = State::Dead;
    }

private:
    struct Coroutine;
    friend struct ThreadState;
    enum class State : std::uint8_t { Created, Active, Dead };

    friend class MainGreenlet;
    struct Switch;
    // The main greenlet of `ts`: the thread's own stack, running already.
    explicit RawGreenlet(ThreadState& ts);

    ThreadState* owner_;
    Ref<RawGreenlet> parent_;
    State state_ = State::Created;
    bool is_main_ = false;
    std::unique_ptr<Coroutine> coroutine_;
    std::any transfer_value_;
    std::exception_ptr transfer_error_;
    boost::context::fiber context_;  // where the greenlet is suspended (empty while it runs or before it starts)
    // The C++ runtime keeps the exceptions being handled per thread; a greenlet suspended inside a catch block must
    // get its own back, or `throw;` would rethrow (and end) another greenlet's exception.
    void* caught_exceptions_ = nullptr;
    unsigned int uncaught_exceptions_ = 0;
};

// A RawGreenlet that runs a function; the common way to make one.
Ref<RawGreenlet> make_raw_greenlet(SmallFunction<std::any(std::any), 48> body, Ref<RawGreenlet> parent = nullptr);

}  // namespace greenfinch::core
