#include "core/engine/raw_greenlet.hpp"

#include <cxxabi.h>

#include <cstdio>
#include <utility>
#include <vector>

namespace greenfinch::core {

namespace ctx = boost::context;

// A fiber with its stack, looping: run the assigned greenlet, go back to the free list, wait for the next one.
struct RawGreenlet::Coroutine {
    ctx::fiber idle;  // where the loop waits while the coroutine is on the free list
    RawGreenlet* assigned = nullptr;
};

// The Itanium C++ ABI's per-thread exception state (libstdc++'s __cxa_eh_globals; <cxxabi.h> leaves it opaque).
struct CxaEhGlobals {
    void* caught_exceptions;
    unsigned int uncaught_exceptions;
};
CxaEhGlobals& eh_globals() noexcept { return *reinterpret_cast<CxaEhGlobals*>(abi::__cxa_get_globals()); }

class MainGreenlet final : public RawGreenlet {
public:
    explicit MainGreenlet(ThreadState& ts) : RawGreenlet(ts) {}

private:
    std::any run(std::any) override { return {}; }
};

struct ThreadState {
    std::unique_ptr<StackPool> stacks = std::make_unique<StackPool>(StackPool::Config{});
    std::size_t max_idle = 1024;
    std::vector<std::unique_ptr<RawGreenlet::Coroutine>> idle;
    Ref<RawGreenlet> main;
    Ref<RawGreenlet> current;
    // The greenlet that just switched away. It is released only once its context is saved, by the greenlet it
    // switched to: dropping it earlier could free the stack we are still running on.
    Ref<RawGreenlet> previous;
    ctx::fiber* save_slot = nullptr;  // where the next resumed greenlet stores the context it was resumed from
    ctx::fiber scratch;               // save_slot for a coroutine that ends for good
    TraceHook trace;
    bool shutting_down = false;
    CxaEhGlobals& eh = eh_globals();  // its address is fixed for the thread; looking it up costs a TLS call

    ~ThreadState() {
        shutting_down = true;
        idle.clear();
        previous.reset();
        current.reset();
        main.reset();
    }
};

namespace {
// The thread's state is reached on every switch: a plain pointer (constant-initialised, so no guard on each access)
// points at it, and an owner destroys it at thread exit.
thread_local constinit ThreadState* tls_state = nullptr;

struct ThreadStateOwner {
    std::unique_ptr<ThreadState> state;
    ~ThreadStateOwner() {
        state.reset();  // greenlets unwinding meanwhile still find the state through tls_state
        tls_state = nullptr;
    }
};
thread_local ThreadStateOwner tls_owner;

[[gnu::noinline]] ThreadState& make_thread_state() {
#if defined(BOOST_USE_UCONTEXT)
    // Sanitizer builds: Boost's per-thread activation record must be created before our state, so that it is
    // destroyed after it (thread-locals die in reverse order), since our state unwinds idle fibers at thread exit.
    boost::context::detail::fiber_activation_record::current();
#endif
    tls_owner.state = std::make_unique<ThreadState>();
    tls_state = tls_owner.state.get();
    tls_state->main = Ref<RawGreenlet>(new MainGreenlet(*tls_state));
    tls_state->current = tls_state->main;
    return *tls_state;
}

ThreadState& thread_state() {
    if (ThreadState* ts = tls_state) [[likely]]
        return *ts;
    return make_thread_state();
}

RawGreenlet& live_ancestor(RawGreenlet& g) {
    RawGreenlet* t = &g;
    while (t->dead()) t = t->parent();
    return *t;
}
}  // namespace

// The switching machinery, kept in one place: suspend the current greenlet, resume `target`, and on the way back in
// store the context we came from and pick up what was transferred to us.
struct RawGreenlet::Switch {
    static std::any to(ThreadState& ts, RawGreenlet& target, TraceEvent event) {
        RawGreenlet& self = *ts.current;
        if (&target == &self) {
            std::exception_ptr err = std::exchange(self.transfer_error_, nullptr);
            if (err) std::rethrow_exception(err);
            return std::exchange(self.transfer_value_, std::any{});
        }
        if (ts.trace) ts.trace(event, self, target);
        if (!target.started()) assign_coroutine(ts, target);
        ts.previous = std::move(ts.current);
        ts.current = Ref<RawGreenlet>(&target);
        ts.save_slot = &self.context_;
        CxaEhGlobals& eh = ts.eh;
        self.caught_exceptions_ = eh.caught_exceptions;
        self.uncaught_exceptions_ = eh.uncaught_exceptions;
        ctx::fiber from = std::move(target.context_).resume();
        return resumed(ts, self, std::move(from));
    }

    static std::any resumed(ThreadState& ts, RawGreenlet& self, ctx::fiber&& from) {
        *ts.save_slot = std::move(from);
        CxaEhGlobals& eh = ts.eh;
        eh.caught_exceptions = self.caught_exceptions_;
        eh.uncaught_exceptions = self.uncaught_exceptions_;
        std::exception_ptr err = std::exchange(self.transfer_error_, nullptr);
        std::any value = std::exchange(self.transfer_value_, std::any{});
        ts.previous.reset();
        if (err) std::rethrow_exception(err);
        return value;
    }

    static void assign_coroutine(ThreadState& ts, RawGreenlet& g) {
        std::unique_ptr<Coroutine> co;
        if (!ts.idle.empty()) {
            co = std::move(ts.idle.back());
            ts.idle.pop_back();
            g.context_ = std::move(co->idle);
        } else {
            co = std::make_unique<Coroutine>();
            g.context_ = ctx::fiber(std::allocator_arg, StackPool::Allocator(*ts.stacks),
                                    [raw = co.get()](ctx::fiber&& caller) { return loop(raw, std::move(caller)); });
        }
        co->assigned = &g;
        g.coroutine_ = std::move(co);
        g.state_ = State::Active;
    }

    static ctx::fiber loop(Coroutine* co, ctx::fiber&& caller) {
        ThreadState& ts = thread_state();
        *ts.save_slot = std::move(caller);
        for (;;) {
            RawGreenlet& g = *co->assigned;
            CxaEhGlobals& eh = ts.eh;  // a new greenlet starts outside any catch block
            eh.caught_exceptions = nullptr;
            eh.uncaught_exceptions = 0;
            std::any arg = std::exchange(g.transfer_value_, std::any{});
            std::exception_ptr err = std::exchange(g.transfer_error_, nullptr);
            ts.previous.reset();
            std::any result;
            try {
                if (err) std::rethrow_exception(std::exchange(err, nullptr));
                result = g.run(std::move(arg));
            } catch (const ctx::detail::forced_unwind&) {
                throw;
            } catch (const GreenletExit& e) {
                result = e;
            } catch (...) {
                err = std::current_exception();
            }

            g.state_ = State::Dead;
            RawGreenlet& target = live_ancestor(*g.parent_);
            target.transfer_value_ = std::move(result);
            target.transfer_error_ = std::move(err);
            if (ts.trace) ts.trace(TraceEvent::Switch, g, target);
            std::unique_ptr<Coroutine> self = std::move(g.coroutine_);
            co->assigned = nullptr;
            ts.previous = std::move(ts.current);
            ts.current = Ref<RawGreenlet>(&target);
            if (ts.idle.size() >= ts.max_idle || ts.shutting_down) {
                ts.save_slot = &ts.scratch;
                return std::move(target.context_);  // the fiber ends; Boost.Context returns its stack to the pool
            }
            ts.save_slot = &self->idle;
            ts.idle.push_back(std::move(self));
            ctx::fiber from = std::move(target.context_).resume();
            *ts.save_slot = std::move(from);
        }
    }
};

RawGreenlet::RawGreenlet(ThreadState& ts) : owner_(&ts), state_(State::Active), is_main_(true) {}

RawGreenlet::RawGreenlet(Ref<RawGreenlet> parent) : owner_(&thread_state()), parent_(std::move(parent)) {
    if (!parent_) parent_ = current_ref();
    if (parent_->owner_ != owner_) throw GreenletError("a greenlet's parent must belong to the same thread");
}

RawGreenlet::~RawGreenlet() { force_unwind(); }

void RawGreenlet::force_unwind() noexcept {
    if (state_ != State::Active || is_main_ || !context_) return;
    // The unwinding leaves the catch blocks the greenlet was suspended in: give it its own exception state meanwhile.
    CxaEhGlobals& eh = eh_globals();
    const CxaEhGlobals ours = eh;
    eh.caught_exceptions = caught_exceptions_;
    eh.uncaught_exceptions = uncaught_exceptions_;
    { ctx::fiber doomed = std::move(context_); }  // destroying a suspended fiber unwinds it
    eh = ours;
    state_ = State::Dead;
    coroutine_.reset();
}

RawGreenlet& RawGreenlet::current() { return *thread_state().current; }
RawGreenlet& RawGreenlet::main() { return *thread_state().main; }

std::any RawGreenlet::switch_to(std::any value) {
    ThreadState& ts = thread_state();
    if (owner_ != &ts) throw GreenletError("cannot switch to a greenlet of another thread");
    RawGreenlet& target = live_ancestor(*this);
    target.transfer_value_ = std::move(value);
    return Switch::to(ts, target, TraceEvent::Switch);
}

std::any RawGreenlet::throw_in(std::exception_ptr error) {
    ThreadState& ts = thread_state();
    if (owner_ != &ts) throw GreenletError("cannot throw into a greenlet of another thread");
    RawGreenlet& target = live_ancestor(*this);
    target.transfer_error_ = std::move(error);
    return Switch::to(ts, target, TraceEvent::Throw);
}

void RawGreenlet::set_parent(Ref<RawGreenlet> parent) {
    if (!parent) throw GreenletError("a greenlet needs a parent");
    if (parent->owner_ != owner_) throw GreenletError("a greenlet's parent must belong to the same thread");
    for (RawGreenlet* p = parent.get(); p; p = p->parent_.get()) {
        if (p == this) throw GreenletError("cyclic parent chain");
    }
    parent_ = std::move(parent);
}

TraceHook RawGreenlet::set_trace(TraceHook hook) { return std::exchange(thread_state().trace, std::move(hook)); }

void RawGreenlet::configure_thread(StackPool::Config stacks, std::size_t max_idle_coroutines) {
    ThreadState& ts = thread_state();
    ts.max_idle = max_idle_coroutines;
    ts.idle.clear();  // their stacks go back to the pool
    if (ts.stacks->mapped_count() == ts.stacks->free_count()) ts.stacks = std::make_unique<StackPool>(stacks);
}

const StackPool& RawGreenlet::thread_stacks() { return *thread_state().stacks; }

void RawGreenlet::last_ref_dropped() noexcept {
    if (state_ != State::Active || is_main_ || !tls_state || tls_state->shutting_down || owner_ != tls_state) {
        delete this;  // nothing to unwind, or nowhere to unwind it from: ~fiber forces the unwind
        return;
    }
    add_ref();  // alive again while it unwinds
    try {
        parent_ = current_ref();
        throw_in();
    } catch (...) {
        // An exception other than GreenletExit escaped its unwinding; it has no one left to report to.
    }
    if (active()) {
        std::fputs("greenfinch: a dropped greenlet caught GreenletExit and switched away; it is kept alive\n", stderr);
        return;
    }
    release();
}

namespace {
class FunctionGreenlet final : public RawGreenlet {
public:
    FunctionGreenlet(SmallFunction<std::any(std::any), 48> body, Ref<RawGreenlet> parent)
        : RawGreenlet(std::move(parent)),
          body_(std::move(body)) {}

private:
    std::any run(std::any arg) override { return body_(std::move(arg)); }
    SmallFunction<std::any(std::any), 48> body_;
};
}  // namespace

Ref<RawGreenlet> make_raw_greenlet(SmallFunction<std::any(std::any), 48> body, Ref<RawGreenlet> parent) {
    return Ref<RawGreenlet>(new FunctionGreenlet(std::move(body), std::move(parent)));
}

}  // namespace greenfinch::core
