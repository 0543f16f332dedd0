#include "core/engine/hub.hpp"

#include "core/io/direct_syscalls.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace greenfinch::core {

namespace {
thread_local Hub* tls_hub = nullptr;

constexpr int kTimerPriority = -1;  // below I/O, as gevent's Timeout: an I/O event in the same iteration wins
constexpr std::size_t kCallbackCheckCount = 50;

// libev's MAX_BLOCKTIME (59.743 s) as its epoll backend passes it to epoll_wait, and how far away a timer must be to
// be hidden behind it (with room to spare).
constexpr int kLibevWaitCapMs = 59743;
constexpr double kHiddenBeyond = 59.0;

double steady_seconds() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Resumes greenlets from libev callbacks; nothing may unwind through libev's C frames.
template <class F>
void guarded(Hub& hub, std::string_view where, F&& f) noexcept {
    try {
        f();
    } catch (...) {
        hub.handle_error(where, std::current_exception());
    }
}
}  // namespace

class Hub::HubGreenlet final : public RawGreenlet {
public:
    explicit HubGreenlet(Hub& hub) : RawGreenlet(Ref<RawGreenlet>(&RawGreenlet::main())), hub_(hub) {}

private:
    std::any run(std::any) override {
        hub_.loop_body();
        return {};
    }
    Hub& hub_;
};

Hub::Hub(Options options) : loop_(nullptr), options_(options) {
    if (tls_hub) throw std::logic_error("this thread already has a hub");
    if (&RawGreenlet::current() != &RawGreenlet::main())
        throw std::logic_error("a hub is created on a thread's main greenlet");
    RawGreenlet::configure_thread(options.stacks, options.max_idle_coroutines);
    loop_ = ev_loop_new(EVFLAG_AUTO);
    if (!loop_) throw std::runtime_error("cannot create a libev loop");
    ev_set_userdata(loop_, this);
    greenlet_ = Ref<RawGreenlet>(new HubGreenlet(*this));
    ev_async_init(&async_, &Hub::on_async);
    async_.data = this;
    ev_async_start(loop_, &async_);
    ev_unref(loop_);  // posts from other threads alone do not keep the loop alive; see KeepAlive
    tls_hub = this;
}

Hub::~Hub() {
    // Stop the loop first: while greenlets unwind, nothing else may run (no timer, no I/O, no new greenlet).
    closing_ = true;
    ev_break(loop_, EVBREAK_ALL);
    if (greenlet_->active()) {
        try {
            greenlet_->switch_to();  // the loop sees closing_ and returns, ending the hub greenlet
        } catch (...) {}
    }
    unwind_live_greenlets();
    callbacks_.clear();
    ev_ref(loop_);
    ev_async_stop(loop_, &async_);
    ev_loop_destroy(loop_);
    tls_hub = nullptr;
}

void Hub::unwind_live_greenlets() noexcept {
    // Each live greenlet gets one GreenletExit, returning here when it dies. The hub greenlet has ended, so one that
    // parks again instead switches straight back here (the hub's live ancestor) rather than running the loop again;
    // its stack is then unwound by force.
    std::vector<Ref<RawGreenlet>> snapshot;
    live_.for_each([&](LiveGreenlet& lg) { snapshot.push_back(lg.self); });
    for (auto& g : snapshot) {
        if (!g->active()) continue;
        try {
            g->set_parent(RawGreenlet::current_ref());
            g->throw_in();
        } catch (...) {}
    }
    live_.for_each([&](LiveGreenlet& lg) {
        spdlog::warn("hub destroyed while a greenlet ignored GreenletExit; unwinding its stack by force");
        Ref<RawGreenlet> g = std::move(lg.self);
        lg.node.unlink();
        g->force_unwind();
    });
}

Hub& Hub::current() {
    if (!tls_hub) throw std::logic_error("no hub on this thread: construct a greenfinch::core::Hub first");
    return *tls_hub;
}

Hub* Hub::current_if_any() noexcept { return tls_hub; }

void Hub::run_callback(Callback fn) { callbacks_.push_back(std::move(fn)); }

void Hub::post(Callback fn) {
    {
        std::lock_guard lock(posted_mutex_);
        posted_.push_back(std::move(fn));
    }
    ev_async_send(loop_, &async_);
}

void Hub::on_async(struct ev_loop*, ev_async* w, int) {
    Hub& hub = *static_cast<Hub*>(w->data);
    std::vector<Callback> batch;
    {
        std::lock_guard lock(hub.posted_mutex_);
        batch.swap(hub.posted_);
    }
    for (auto& cb : batch) hub.run_callback(std::move(cb));
}

void Hub::run() {
    if (&RawGreenlet::current() != &RawGreenlet::main())
        throw std::logic_error("Hub::run() belongs to the main greenlet");
    main_in_run_ = true;
    struct Reset {
        bool& flag;
        ~Reset() { flag = false; }
    } reset{main_in_run_};
    greenlet_->switch_to();
}

void Hub::loop_body() {
    RawGreenlet& main = RawGreenlet::main();
    while (!closing_) {
        run_callbacks();
        if (closing_) break;
        if (stop_requested_ && main_in_run_) {
            stop_requested_ = false;
            main.switch_to();
            continue;
        }
        const bool pending = callbacks_head_ < callbacks_.size();
        const int alive = ev_run(loop_, pending ? EVRUN_NOWAIT : EVRUN_ONCE);
        if (closing_) break;
        if (!alive && callbacks_head_ == callbacks_.size()) {
            if (main_in_run_) {
                main.switch_to();
            } else {
                guarded(*this, "hub", [&] { main.throw_in(std::make_exception_ptr(LoopExit{})); });
            }
        }
    }
}

void Hub::run_callbacks() {
    const double start = ev_now(loop_);
    std::size_t count = 0;
    while (callbacks_head_ < callbacks_.size() && !closing_) {
        Callback cb = std::move(callbacks_[callbacks_head_++]);
        try {
            cb();
        } catch (...) {
            handle_error("callback", std::current_exception());
        }
        if (++count % kCallbackCheckCount == 0) {
            update_now();
            if (ev_now(loop_) >= start + options_.switch_interval.count()) break;
        }
    }
    if (callbacks_head_ == callbacks_.size()) {
        callbacks_.clear();
        callbacks_head_ = 0;
    } else if (callbacks_head_ > 1024 && callbacks_head_ * 2 > callbacks_.size()) {
        callbacks_.erase(callbacks_.begin(), callbacks_.begin() + static_cast<std::ptrdiff_t>(callbacks_head_));
        callbacks_head_ = 0;
    }
}

void Hub::switch_out() {
    RawGreenlet& self = RawGreenlet::current();
    if (&self == greenlet_.get()) throw BlockingSwitchOutError();
    struct EndPark {
        RawGreenlet& g;
        ~EndPark() { ++g.park_generation; }
    } end{self};
    greenlet_->switch_to();
}

namespace {
struct TimerPark {
    ev_timer timer;
    Hub* hub;
    RawGreenlet* greenlet;
    bool fired = false;
};
struct IoPark {
    ev_io io;
    Hub* hub;
    RawGreenlet* greenlet;
};
}  // namespace

bool Hub::park(MaybeTimeout timeout) {
    if (!timeout) {
        switch_out();
        return true;
    }
    if (on_hub()) throw BlockingSwitchOutError();
    TimerPark tp{{}, this, &RawGreenlet::current()};
    ev_timer_init(
        &tp.timer,
        [](struct ev_loop*, ev_timer* w, int) {
            auto* p = static_cast<TimerPark*>(w->data);
            p->fired = true;
            guarded(*p->hub, "timer", [p] { p->hub->resume(*p->greenlet); });
        },
        0., 0.);
    tp.timer.data = &tp;
    ev_set_priority(&tp.timer, kTimerPriority);
    update_now();
    start_timer(tp.timer, timeout->count());
    struct Stop {
        struct ev_loop* loop;
        ev_timer* timer;
        ~Stop() { ev_timer_stop(loop, timer); }
    } stop{loop_, &tp.timer};
    switch_out();
    return !tp.fired;
}

void Hub::start_timer(ev_timer& timer, double after) noexcept {
    after = std::max(0.0, after);
    ev_timer_set(&timer, after, 0.);
    ev_timer_start(loop_, &timer);
    // Kept even if the timer stops early: the wait stays bounded a little longer than needed, never too short.
    if (after >= kHiddenBeyond) far_timers_until_ = std::max(far_timers_until_, steady_seconds() + after + 1.0);
}

bool Hub::idle_wait_unbounded() noexcept {
    if (far_timers_until_ == 0) return true;
    if (steady_seconds() < far_timers_until_) return false;
    far_timers_until_ = 0;
    return true;
}

bool Hub::wait_fd(int fd, int events, MaybeTimeout timeout) {
    if (on_hub()) throw BlockingSwitchOutError();
    IoPark ip{{}, this, &RawGreenlet::current()};
    ev_io_init(
        &ip.io,
        [](struct ev_loop*, ev_io* w, int) {
            auto* p = static_cast<IoPark*>(w->data);
            guarded(*p->hub, "io", [p] { p->hub->resume(*p->greenlet); });
        },
        fd, events);
    ip.io.data = &ip;
    ev_io_start(loop_, &ip.io);
    struct Stop {
        struct ev_loop* loop;
        ev_io* io;
        ~Stop() { ev_io_stop(loop, io); }
    } stop{loop_, &ip.io};
    return park(timeout);
}

void Hub::resume(RawGreenlet& g) {
    if (!on_hub()) throw std::logic_error("Hub::resume() runs on the hub only");
    if (!g.dead()) g.switch_to();
}

void Hub::throw_into(RawGreenlet& g, std::exception_ptr error) {
    if (!on_hub()) throw std::logic_error("Hub::throw_into() runs on the hub only");
    if (!g.dead()) g.throw_in(std::move(error));
}

void Hub::resume_later(ParkTicket t) {
    run_callback([this, t = std::move(t)] {
        if (t.greenlet->park_generation == t.generation && t.greenlet->active()) resume(*t.greenlet);
    });
}

void Hub::handle_error(std::string_view where, std::exception_ptr error) noexcept {
    try {
        if (error_handler_) {
            error_handler_(where, error);
        } else {
            spdlog::error("{} failed: {}", where, describe(error));
        }
    } catch (...) {
        spdlog::error("the hub's error handler failed while reporting an error from {}", where);
    }
}

void Hub::raise_in_main(std::string_view where, std::exception_ptr error) {
    handle_error(where, error);
    run_callback([this, error] { throw_into(RawGreenlet::main(), error); });
}

}  // namespace greenfinch::core

// libev's epoll backend calls epoll_wait; defined here, in the program, this comes before glibc's. It turns libev's
// cap into an unbounded wait while the calling thread's hub has no timer the cap could be hiding, notes when the wait
// began (Hub::last_wait_seconds), and otherwise does exactly what glibc's does, without its cancellation point
// (core/direct_syscalls.hpp).
extern "C" int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout) {
    greenfinch::core::Hub* hub = greenfinch::core::Hub::current_if_any();
    if (hub) hub->note_wait_begins();
    if (timeout == greenfinch::core::kLibevWaitCapMs && hub && hub->idle_wait_unbounded()) {
        hub->count_unbounded_wait();
        timeout = -1;
    }
    return greenfinch::core::direct::epoll_wait(epfd, events, maxevents, timeout);
}
