#include "core/engine/greenlet.hpp"

#include "core/engine/waiter.hpp"

#include <algorithm>

namespace greenfinch::core {

namespace {
bool is_greenlet_exit(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const GreenletExit&) {
        return true;
    } catch (...) {
        return false;
    }
}
}  // namespace

Greenlet::Greenlet(Hub& hub) : RawGreenlet(Ref<RawGreenlet>(&hub.greenlet())), hub_(hub) {
    ev_timer_init(
        &start_timer_,
        [](struct ev_loop*, ev_timer* w, int) {
            auto* g = static_cast<Greenlet*>(w->data);
            Ref<Greenlet> hold = std::move(g->timer_hold_);
            try {
                g->begin();
            } catch (...) {
                g->hub_.handle_error("greenlet start", std::current_exception());
            }
        },
        0., 0.);
    start_timer_.data = this;
}

Greenlet::~Greenlet() { stop_start_timer(); }

void* Greenlet::operator new(std::size_t size) {
    Hub* hub = Hub::current_if_any();
    return hub ? hub->greenlet_blocks().allocate(size) : RecycledBlocks::allocate_unkept(size);
}

void Greenlet::operator delete(void* block, std::size_t size) noexcept {
    // The hub of the thread the greenlet dies on, if it has one yet (or still: its destructor clears it last).
    if (Hub* hub = Hub::current_if_any()) {
        hub->greenlet_blocks().deallocate(block, size);
    } else {
        ::operator delete(block);
    }
}

Greenlet* Greenlet::current() noexcept { return dynamic_cast<Greenlet*>(&RawGreenlet::current()); }

void Greenlet::start() {
    if (finished_ || start_pending_ || RawGreenlet::started()) return;
    start_pending_ = true;
    hub_.run_callback([self = Ref<Greenlet>(this)] { self->begin(); });
}

void Greenlet::start_later(Seconds delay) {
    if (finished_ || start_pending_ || RawGreenlet::started()) return;
    start_pending_ = true;
    timer_hold_ = Ref<Greenlet>(this);
    hub_.update_now();
    hub_.start_timer(start_timer_, delay.count());
}

void Greenlet::stop_start_timer() noexcept {
    ev_timer_stop(hub_.loop(), &start_timer_);
    timer_hold_.reset();
}

void Greenlet::begin() {
    if (!start_pending_) return;  // killed before it started
    start_pending_ = false;
    try {
        hub_.resume(*this);
    } catch (...) {
        if (RawGreenlet::started()) throw;
        // No stack or coroutine could be had for it (mmap failed, vm.max_map_count): it fails, and its joiners and
        // links (a Pool's slot among them) hear of it, rather than waiting for a greenlet that will never run.
        mark_dead_unstarted();
        finish(Ending::Failed, std::current_exception());
    }
}

std::any Greenlet::run(std::any) {
    live_.self = Ref<RawGreenlet>(this);
    hub_.live_.push_back(live_);
    Ending ending = Ending::Returned;
    std::exception_ptr error;
    try {
        execute();
    } catch (const boost::context::detail::forced_unwind&) {
        throw;
    } catch (const GreenletExit&) {
        ending = Ending::Killed;
    } catch (...) {
        ending = Ending::Failed;
        error = std::current_exception();
    }
    finish(ending, std::move(error));
    live_.node.unlink();
    live_.self.reset();  // the thread state still holds the running greenlet until it has switched away
    return {};
}

void Greenlet::finish(Ending ending, std::exception_ptr error) {
    finished_ = true;
    killed_ = ending == Ending::Killed;
    exception_ = std::move(error);
    if (exception_) hub_.handle_error("greenlet", exception_);
    schedule_links();
}

bool Greenlet::join(MaybeTimeout timeout) {
    if (finished_) return true;
    if (&RawGreenlet::current() == this) throw std::logic_error("a greenlet cannot join itself");
    WaitList waiting;
    const LinkId id = rawlink([&waiting, &hub = hub_](Greenlet&) { wake_first(hub, waiting); });
    struct Unlink {
        Greenlet& g;
        LinkId id;
        ~Unlink() { g.unlink(id); }
    } unlink_on_exit{*this, id};
    wait_in(hub_, waiting, timeout);
    return finished_;
}

bool Greenlet::deliver_kill(std::exception_ptr error) {
    if (!error) error = std::make_exception_ptr(GreenletExit{});
    if (finished_) return false;
    if (!RawGreenlet::started()) {
        start_pending_ = false;
        stop_start_timer();
        mark_dead_unstarted();
        if (is_greenlet_exit(error)) {
            finish(Ending::Killed);
        } else {
            finish(Ending::Failed, std::move(error));
        }
        return false;
    }
    if (&RawGreenlet::current() == this) std::rethrow_exception(error);
    hub_.run_callback([self = Ref<Greenlet>(this), error] {
        if (!self->finished_) self->hub_.throw_into(*self, error);
    });
    return true;
}

void Greenlet::kill(KillWith with) { kill_and_wait(std::nullopt, std::move(with)); }

void Greenlet::kill_and_wait(MaybeTimeout timeout, KillWith with) {
    if (deliver_kill(std::move(with.error))) join(timeout);
}

void Greenlet::kill_nowait(KillWith with) { deliver_kill(std::move(with.error)); }

Greenlet::LinkId Greenlet::rawlink(LinkFn fn) {
    const LinkId id = ++last_link_id_;
    links_.push_back({id, std::move(fn)});
    if (finished_) schedule_links();
    return id;
}

Greenlet::LinkId Greenlet::link(LinkFn fn) {
    return rawlink([fn = std::move(fn)](Greenlet& g) mutable {
        auto child = make_greenlet([fn = std::move(fn)](Ref<Greenlet> g) mutable { fn(*g); }, Ref<Greenlet>(&g));
        // As gevent's SpawnedLink: the link's greenlet runs at once, from the notifier (on the hub), so links run in
        // registration order, and one can still unlink a later one before it fires.
        Greenlet& c = *child;
        c.start_pending_ = true;
        c.begin();
    });
}

Greenlet::LinkId Greenlet::link_value(LinkFn fn) {
    return link([fn = std::move(fn)](Greenlet& g) mutable {
        if (g.successful()) fn(g);
    });
}

Greenlet::LinkId Greenlet::link_exception(LinkFn fn) {
    return link([fn = std::move(fn)](Greenlet& g) mutable {
        if (!g.successful()) fn(g);
    });
}

void Greenlet::unlink(LinkId id) noexcept {
    auto it = std::find_if(links_.begin() + static_cast<std::ptrdiff_t>(link_head_), links_.end(),
                           [id](const Link& l) { return l.id == id; });
    if (it != links_.end()) links_.erase(it);
}

void Greenlet::schedule_links() {
    if (links_scheduled_ || link_head_ == links_.size()) return;
    links_scheduled_ = true;
    hub_.run_callback([self = Ref<Greenlet>(this)] { self->notify_links(); });
}

void Greenlet::notify_links() {
    while (link_head_ < links_.size()) {
        LinkFn fn = std::move(links_[link_head_++].fn);
        try {
            fn(*this);
        } catch (...) {
            hub_.handle_error("link", std::current_exception());
        }
    }
    links_.clear();
    link_head_ = 0;
    links_scheduled_ = false;
}

std::vector<Ref<Greenlet>> joinall(std::span<const Ref<Greenlet>> greenlets, JoinAllOptions options) {
    Hub& hub = Hub::current();
    const std::size_t wanted = std::min(options.count.value_or(greenlets.size()), greenlets.size());
    struct Collector {
        std::vector<Ref<Greenlet>> done;
        WaitList waiting;
    } c;
    std::vector<std::pair<Greenlet*, Greenlet::LinkId>> links;
    struct Unlink {
        std::vector<std::pair<Greenlet*, Greenlet::LinkId>>& links;
        ~Unlink() {
            for (auto& [g, id] : links) g->unlink(id);
        }
    } unlink_on_exit{links};
    for (const auto& g : greenlets) {
        if (g->ready()) {
            c.done.push_back(g);
        } else {
            links.emplace_back(g.get(), g->rawlink([&c, &hub](Greenlet& done) {
                c.done.push_back(Ref<Greenlet>(&done));
                wake_first(hub, c.waiting);
            }));
        }
    }
    Deadline deadline(hub, options.timeout);
    std::size_t checked = 0;
    for (;;) {
        if (options.raise_error) {
            for (; checked < c.done.size(); ++checked) {
                if (!c.done[checked]->successful()) std::rethrow_exception(c.done[checked]->exception());
            }
        }
        if (c.done.size() >= wanted) break;
        if (!wait_in(hub, c.waiting, deadline.remaining())) break;
    }
    if (c.done.size() > wanted) c.done.resize(wanted);
    return std::move(c.done);
}

namespace {
// killall's delivery: the unstarted die at once, the running get `error` in one hub callback. Returns those.
std::vector<Ref<Greenlet>> deliver_killall(std::span<const Ref<Greenlet>> greenlets, std::exception_ptr error) {
    if (!error) error = std::make_exception_ptr(GreenletExit{});
    Hub& hub = Hub::current();
    std::vector<Ref<Greenlet>> running;
    for (const auto& g : greenlets) {
        if (g->ready()) continue;
        if (g->RawGreenlet::started()) {
            running.push_back(g);
        } else {
            g->kill_nowait(KillWith{error});
        }
    }
    if (running.empty()) return running;
    hub.run_callback([running, error, &hub]() {
        for (const auto& g : running) {
            if (g->RawGreenlet::started() && !g->ready()) hub.throw_into(*g, error);
        }
    });
    return running;
}
}  // namespace

void killall(std::span<const Ref<Greenlet>> greenlets, KillWith with) {
    killall_and_wait(greenlets, std::nullopt, std::move(with));
}

void killall_and_wait(std::span<const Ref<Greenlet>> greenlets, MaybeTimeout timeout, KillWith with) {
    const std::vector<Ref<Greenlet>> running = deliver_killall(greenlets, std::move(with.error));
    if (running.empty()) return;
    Timeout t(timeout);
    for (const auto& g : running) g->join();
}

void killall_nowait(std::span<const Ref<Greenlet>> greenlets, KillWith with) {
    deliver_killall(greenlets, std::move(with.error));
}

void sleep(Seconds duration) {
    Hub& hub = Hub::current();
    if (duration.count() <= 0) {
        if (hub.on_hub()) throw BlockingSwitchOutError();
        hub.resume_later(Hub::ticket());
        hub.switch_out();
        return;
    }
    hub.park(duration);
}

}  // namespace greenfinch::core
