// Greenlet: a unit of work run by the hub (gevent's Greenlet), and spawn/joinall/killall.
//
//   auto g = spawn([](int x) { return x * 2; }, 21);   // starts once the spawner blocks or yields
//   int v = g->get();                                  // 42, or the greenlet's own exception rethrown
//
// - spawn() schedules the greenlet; greenlets start in spawn order after the spawner yields. spawn_later() waits.
// - Its result stays in the greenlet: get() returns the value or rethrows the failure; nothing ever propagates to the
//   spawner. A failure is also reported once to the hub's error handler.
// - kill() raises GreenletExit (or KillWith's exception) at the greenlet's suspension point, so destructors and catch
//   blocks run, and returns once the greenlet has died; kill_and_wait(timeout) gives up waiting after `timeout`
//   (silently, as gevent's kill(timeout=) does), kill_nowait() does not wait at all. A greenlet killed before it
//   started never runs. Dying of GreenletExit counts as successful(), as in gevent; get() on it throws GreenletKilled
//   since there is no value to return (C++ has no GreenletExit instance to hand back as the value).
//
// How gevent's calls are spelt here: no call passes a bare flag. The plain verb waits as long as it takes; a `_for` or
// `_and_wait` variant takes an optional timeout (nullopt: no limit) and gives up when it passes; `_nowait` never waits.
//   g.kill()                      g->kill()
//   g.kill(block=False)           g->kill_nowait()
//   g.kill(timeout=t)             g->kill_and_wait(t)
//   g.kill(exc, ...)              the same with KillWith{exc} last: g->kill(KillWith{exc}), g->kill_nowait(...)
//   g.get(), g.get(timeout=t)     g->get(), g->get_for(t)
//   g.get(block=False)            g->get_nowait()
//   g.join(timeout=t)             g->join(t)
//   joinall(gs, t, raise_error, count)   joinall(gs, t), joinall(gs, {.timeout = t, .count = n, .raise_error = true})
//   killall(gs, exc, block, t)    killall(gs), killall_nowait(gs), killall_and_wait(gs, t), each with KillWith{exc}
#pragma once

#include "core/engine/hub.hpp"
#include "core/memory/ref.hpp"
#include "core/memory/small_function.hpp"
#include "core/primitives/timeout.hpp"

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

namespace greenfinch::core {

// What a kill raises in its greenlet: GreenletExit unless `error` is set (gevent's kill(exception=...)).
struct KillWith {
    std::exception_ptr error = nullptr;
};

class Greenlet : public RawGreenlet {
public:
    using LinkFn = SmallFunction<void(Greenlet&)>;
    using LinkId = std::uint64_t;

    ~Greenlet() override;

    // The Greenlet running now, or nullptr on the hub, the main greenlet or a raw greenlet.
    static Greenlet* current() noexcept;
    Hub& hub() const noexcept { return hub_; }

    void start();
    void start_later(Seconds delay);

    bool ready() const noexcept { return finished_; }
    bool successful() const noexcept { return finished_ && !exception_; }
    // Scheduled or running, and not yet ready (gevent's bool(g)).
    bool alive() const noexcept { return !finished_ && (start_pending_ || RawGreenlet::started()); }
    // It died of GreenletExit.
    bool killed() const noexcept { return killed_; }
    std::exception_ptr exception() const noexcept { return exception_; }

    // Waits until ready or timeout; returns ready(). Never throws for the greenlet's failure.
    bool join(MaybeTimeout timeout = std::nullopt);
    // Raises GreenletExit (or `with.error`) in the greenlet, then waits until it has died.
    void kill(KillWith with = {});
    // The same, waiting at most `timeout`; the greenlet may still be alive when it returns (see ready()).
    void kill_and_wait(MaybeTimeout timeout, KillWith with = {});
    // Schedules the exception and returns: the greenlet dies once the hub runs (at once if it never started).
    void kill_nowait(KillWith with = {});

    LinkId link(LinkFn fn);
    LinkId link_value(LinkFn fn);
    LinkId link_exception(LinkFn fn);
    LinkId rawlink(LinkFn fn);
    void unlink(LinkId id) noexcept;

    // Greenlet objects live in their hub's RecycledBlocks: once warm, spawning a greenlet per query allocates nothing.
    static void* operator new(std::size_t size);
    static void operator delete(void* block, std::size_t size) noexcept;

protected:
    explicit Greenlet(Hub& hub);
    // Runs the greenlet's function and keeps its value; exceptions escape to run().
    virtual void execute() = 0;

private:
    struct Link {
        LinkId id;
        LinkFn fn;
    };
    enum class Ending : std::uint8_t { Returned, Killed, Failed };
    std::any run(std::any) final;
    void begin();
    // Raises `error` in the greenlet (now if it is running itself, through the hub otherwise); true when it was
    // running and is dying on its way: only then is there a death to wait for.
    bool deliver_kill(std::exception_ptr error);
    void finish(Ending ending, std::exception_ptr error = nullptr);
    void schedule_links();
    void notify_links();
    void stop_start_timer() noexcept;

    Hub& hub_;
    LiveGreenlet live_;
    // Inline room for one: a pooled greenlet's only link is its pool's, and spawning should not allocate for it.
    boost::container::small_vector<Link, 1> links_;
    std::size_t link_head_ = 0;
    LinkId last_link_id_ = 0;
    std::exception_ptr exception_;
    ev_timer start_timer_;
    Ref<Greenlet> timer_hold_;  // keeps a start_later() greenlet alive until its timer fires or is stopped
    bool start_pending_ = false;
    bool finished_ = false;
    bool killed_ = false;
    bool links_scheduled_ = false;
};

namespace detail {
template <class T>
struct ResultSlot {
    std::optional<T> value;
    template <class F>
    void run(F& f) {
        value.emplace(f());
    }
};
template <>
struct ResultSlot<void> {
    template <class F>
    void run(F& f) {
        f();
    }
};
}  // namespace detail

// A Greenlet whose function returns T.
template <class T>
class GreenletOf final : public Greenlet {
public:
    using Fn = SmallFunction<T(), 48>;
    GreenletOf(Hub& hub, Fn fn) : Greenlet(hub), fn_(std::move(fn)) {}

    // The value (nothing for void), or the failure rethrown; GreenletKilled if it died of GreenletExit. Waits until
    // the greenlet is ready.
    decltype(auto) get() { return get_for(std::nullopt); }
    // The same, waiting at most `timeout`: then that timeout's TimeoutExpired.
    decltype(auto) get_for(MaybeTimeout timeout) {
        if (!ready()) {
            Timeout t(timeout);
            join();
        }
        return outcome();
    }
    // The same without waiting: TimeoutExpired{0} if it is not ready.
    decltype(auto) get_nowait() {
        if (!ready()) throw TimeoutExpired{0};
        return outcome();
    }
    // The value once it returned normally.
    template <class U = T, class = std::enable_if_t<!std::is_void_v<U>>>
    const std::optional<U>& value() const noexcept {
        return slot_.value;
    }

private:
    decltype(auto) outcome() {
        if (exception()) std::rethrow_exception(exception());
        if (killed()) throw GreenletKilled();
        if constexpr (!std::is_void_v<T>) return static_cast<const T&>(*slot_.value);
    }
    void execute() override {
        Fn fn = std::move(fn_);
        slot_.run(fn);
    }
    Fn fn_;
    detail::ResultSlot<T> slot_;
};

template <class T>
using GreenletPtr = Ref<GreenletOf<T>>;

// A greenlet for fn(args...), created but not started.
template <class F, class... Args>
auto make_greenlet(F&& fn, Args&&... args) {
    // A greenlet runs once, so its arguments are moved into the call: move-only arguments work.
    using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>;
    static_assert(alignof(GreenletOf<R>) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "Greenlet::operator new aligns for new");
    return GreenletPtr<R>(new GreenletOf<R>(
        Hub::current(), [fn = std::forward<F>(fn), tup = std::make_tuple(std::forward<Args>(args)...)]() mutable -> R {
            return std::apply(fn, std::move(tup));
        }));
}

template <class F, class... Args>
auto spawn(F&& fn, Args&&... args) {
    auto g = make_greenlet(std::forward<F>(fn), std::forward<Args>(args)...);
    g->start();
    return g;
}

template <class F, class... Args>
auto spawn_later(Seconds delay, F&& fn, Args&&... args) {
    auto g = make_greenlet(std::forward<F>(fn), std::forward<Args>(args)...);
    g->start_later(delay);
    return g;
}

struct JoinAllOptions {
    MaybeTimeout timeout = std::nullopt;              // give up then (no exception): nullopt waits for them all
    std::optional<std::size_t> count = std::nullopt;  // return once this many have finished
    bool raise_error = false;                         // rethrow the failure of the first greenlet seen to fail
};

// Waits for the greenlets and returns those that finished, in completion order: all of them, the first `count`, or
// whatever finished before `timeout` (no exception on timeout). With `raise_error`, rethrows the failure of the first
// greenlet seen to fail. Duplicates are allowed.
std::vector<Ref<Greenlet>> joinall(std::span<const Ref<Greenlet>> greenlets, JoinAllOptions options);
inline std::vector<Ref<Greenlet>> joinall(std::span<const Ref<Greenlet>> greenlets,
                                          MaybeTimeout timeout = std::nullopt) {
    return joinall(greenlets, JoinAllOptions{.timeout = timeout});
}

// Kills all of them: the unstarted never run, the others get GreenletExit (or `with.error`) in one hub callback, in
// order; then waits for them to die.
void killall(std::span<const Ref<Greenlet>> greenlets, KillWith with = {});
// The same, waiting at most `timeout`: if it passes first, throws TimeoutExpired (as gevent's killall does).
void killall_and_wait(std::span<const Ref<Greenlet>> greenlets, MaybeTimeout timeout, KillWith with = {});
// The same without waiting for them to die.
void killall_nowait(std::span<const Ref<Greenlet>> greenlets, KillWith with = {});

// Cooperative sleep for the current greenlet; sleep(0s) yields to the back of the run queue.
void sleep(Seconds duration);

}  // namespace greenfinch::core
