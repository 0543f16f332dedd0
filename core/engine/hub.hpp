// Hub: one per thread. It owns a libev loop, runs on a greenlet of its own, and is the only code that switches into
// greenlets (gevent's hub).
//
// - Callbacks (`run_callback`) run in FIFO order on the hub, before each poll; callbacks added while draining run in
//   the same pass, but the drain yields to I/O and timers every `switch_interval` (so a `sleep(0)` loop cannot
//   starve a timer). An exception escaping a callback goes to the error handler and never stops the loop.
// - A greenlet blocks by parking: it registers how it wants to be woken, then `switch_out()` runs the hub until
//   someone resumes it. Blocking on the hub's own stack (inside a callback) throws BlockingSwitchOutError.
// - I/O and timer watchers resume their greenlet directly from the libev callback, in the same iteration; wake-ups
//   from primitives are deferred through callbacks (see event.hpp). Timeouts run at a lower priority than I/O, so an
//   I/O event that arrives in the same iteration wins.
// - `run()` (from the main greenlet) returns once `stop()` is called or nothing is left that could wake anything;
//   a main greenlet blocked in anything else gets LoopExit instead, as gevent's would.
// - `post()` is the only thread-safe member: another thread hands the hub a callback (ev_async).
// - Destroying the hub stops its loop, then unwinds every greenlet still alive on it with GreenletExit (by force if
//   one parks again instead), so their destructors run.
// - Timers start through `start_timer()`. libev never waits longer than 59.743 s (MAX_BLOCKTIME, for periodic
//   watchers, which the hub does not use), so every wait it makes is bounded, and a bounded epoll_wait costs the
//   kernel clock reads and an hrtimer armed and cancelled on each sleep. While no timer can lie beyond that cap, the
//   hub's wait is made unbounded instead (epoll_wait below, which libev's call reaches before glibc's).
//
// `Hub::current()` is per-thread (a hub is constructed on the thread it serves); all other state hangs off the hub.
#pragma once

#include "core/engine/errors.hpp"
#include "core/engine/raw_greenlet.hpp"
#include "core/engine/stack_pool.hpp"
#include "core/memory/intrusive_list.hpp"
#include "core/memory/recycled_blocks.hpp"
#include "core/memory/small_function.hpp"

#include <ev.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace greenfinch::core {

using Seconds = std::chrono::duration<double>;
// A timeout for a blocking call: nullopt waits forever; zero or less means "do not wait past this iteration".
using MaybeTimeout = std::optional<Seconds>;

// Embedded in every Greenlet: while it is started and not yet dead, the hub lists it and holds a reference to it, so
// a greenlet nobody holds a handle to still runs to its end (a detached query greenlet, say).
struct LiveGreenlet {
    ListNode node;
    Ref<RawGreenlet> self;
};

class Hub {
public:
    struct Options {
        StackPool::Config stacks{};
        std::size_t max_idle_coroutines = 1024;
        Seconds switch_interval{0.005};
    };
    using Callback = SmallFunction<void()>;
    // Receives errors nobody else can handle: failed greenlets, throwing callbacks and rawlinks.
    // `where` names the source ("greenlet", "callback", ...).
    using ErrorHandler = SmallFunction<void(std::string_view where, std::exception_ptr error)>;

    explicit Hub(Options options);
    Hub() : Hub(Options{}) {}
    ~Hub();
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    // The hub of the calling thread; throws std::logic_error when the thread has none.
    static Hub& current();
    static Hub* current_if_any() noexcept;

    struct ev_loop* loop() const noexcept {
        return loop_;
    }
    // Where this hub's Greenlet objects live between one and the next (greenlet.hpp).
    RecycledBlocks& greenlet_blocks() noexcept { return greenlet_blocks_; }
    // libev's cached time of this iteration, in seconds; update_now() refreshes it.
    double now() const noexcept { return ev_now(loop_); }
    void update_now() noexcept {
        if (wait_end_pending_) {  // the time the latest wait ended, before this refresh moves past it
            wait_ended_ = ev_now(loop_);
            wait_end_pending_ = false;
        }
        ev_now_update(loop_);
    }
    RawGreenlet& greenlet() const noexcept { return *greenlet_; }
    bool on_hub() const noexcept { return &RawGreenlet::current() == greenlet_.get(); }

    void run_callback(Callback fn);
    // Callbacks are queued behind the one running: more work (say, more answers) comes in this same pass.
    bool callbacks_pending() const noexcept { return callbacks_head_ < callbacks_.size(); }
    // Thread-safe: runs `fn` on this hub's thread, in its callback order.
    void post(Callback fn);

    // While a KeepAlive exists the loop counts as alive, e.g. while a greenlet waits for another thread's post().
    class KeepAlive {
    public:
        explicit KeepAlive(Hub& hub) noexcept : hub_(&hub) { ev_ref(hub.loop_); }
        KeepAlive(KeepAlive&& o) noexcept : hub_(std::exchange(o.hub_, nullptr)) {}
        KeepAlive& operator=(KeepAlive&&) = delete;
        ~KeepAlive() {
            if (hub_) ev_unref(hub_->loop_);
        }

    private:
        Hub* hub_;
    };
    KeepAlive keep_alive() noexcept { return KeepAlive(*this); }

    // From the main greenlet: runs the loop until stop() or until nothing is left that could wake anything.
    void run();
    // Makes run() return once the current callback pass is over.
    void stop() noexcept { stop_requested_ = true; }

    // ---- The parking protocol, for primitives built on the hub ----

    // Parks the current greenlet until the hub resumes it; rethrows anything thrown into it meanwhile.
    void switch_out();
    // Parks like switch_out(), but for at most `timeout`: returns false when the timeout elapsed first.
    bool park(MaybeTimeout timeout);
    // On the hub only: continue a parked greenlet now / raise `error` at its suspension point.
    void resume(RawGreenlet& g);
    void throw_into(RawGreenlet& g, std::exception_ptr error);

    // Names one park of one greenlet, so that a deferred wake-up can check it is still the park in progress.
    // Take it right before switch_out(); nothing else may park in between.
    struct ParkTicket {
        Ref<RawGreenlet> greenlet;
        std::uint64_t generation;
    };
    static ParkTicket ticket() {
        RawGreenlet& g = RawGreenlet::current();
        return {Ref<RawGreenlet>(&g), g.park_generation};
    }
    // Schedules a callback that resumes the ticket's greenlet if it is still in that park.
    void resume_later(ParkTicket ticket);

    // Waits until `fd` is ready for `events` (EV_READ / EV_WRITE); false on timeout.
    bool wait_fd(int fd, int events, MaybeTimeout timeout);

    // Starts `timer` (initialised, not active) to fire once, `after` seconds from now.
    void start_timer(ev_timer& timer, double after) noexcept;
    // Whether a wait of this loop may be unbounded: no timer started on it is still due beyond libev's cap.
    bool idle_wait_unbounded() noexcept;
    // Waits of this loop made unbounded so far (see start_timer).
    std::uint64_t unbounded_waits() const noexcept { return unbounded_waits_; }
    void count_unbounded_wait() noexcept { ++unbounded_waits_; }
    // How long the loop's latest wait for events took, from libev's own clock readings on either side of it (no clock
    // read of ours): events the kernel already held (a wait of a microsecond or two) or events the hub slept for.
    // Negative before the first wait through epoll_wait (and with another libev backend): nothing known to have slept.
    double last_wait_seconds() const noexcept {
        return (wait_end_pending_ ? ev_now(loop_) : wait_ended_) - wait_began_;
    }
    void note_wait_begins() noexcept {
        wait_began_ = ev_now(loop_);
        wait_end_pending_ = true;
    }

    void set_error_handler(ErrorHandler handler) { error_handler_ = std::move(handler); }
    void handle_error(std::string_view where, std::exception_ptr error) noexcept;
    // Reports `error`, then raises it in the main greenlet (gevent's handle_system_error), e.g. from a signal handler.
    void raise_in_main(std::string_view where, std::exception_ptr error);

    // A fresh identity for this hub's Timeouts.
    std::uint64_t new_id() noexcept { return ++last_id_; }

    // Greenlets started and not yet dead on this hub (see Greenlet).
    std::size_t live_greenlets() const noexcept { return live_.size(); }
    std::uint64_t loop_iterations() const noexcept { return ev_iteration(loop_); }

private:
    friend class Greenlet;
    class HubGreenlet;

    void loop_body();
    void run_callbacks();
    void unwind_live_greenlets() noexcept;
    static void on_async(struct ev_loop*, ev_async* w, int);

    RecycledBlocks greenlet_blocks_;
    struct ev_loop* loop_;
    Options options_;
    Ref<RawGreenlet> greenlet_;
    std::vector<Callback> callbacks_;
    std::size_t callbacks_head_ = 0;
    ev_async async_;
    std::mutex posted_mutex_;
    std::vector<Callback> posted_;
    bool stop_requested_ = false;
    bool main_in_run_ = false;
    bool closing_ = false;
    std::uint64_t last_id_ = 0;
    double far_timers_until_ = 0;  // steady-clock seconds until which a timer beyond the cap may be pending; 0: none
    std::uint64_t unbounded_waits_ = 0;
    // libev's time as it called epoll_wait last (it reads the clock just before), and as that wait ended (it reads the
    // clock just after; kept here once something refreshes the time in the same pass).
    double wait_began_ = std::numeric_limits<double>::infinity();
    double wait_ended_ = 0;
    bool wait_end_pending_ = false;
    ErrorHandler error_handler_;
    IntrusiveList<LiveGreenlet, &LiveGreenlet::node> live_;
};

}  // namespace greenfinch::core
