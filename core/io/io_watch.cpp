#include "core/io/io_watch.hpp"

#include <stdexcept>

namespace greenfinch::core {

IoWatch::IoWatch(Hub& hub, int fd, int events) : hub_(hub) {
    ev_io_init(&io_, &IoWatch::on_ready, fd, events);
    io_.data = this;
}

IoWatch::~IoWatch() { ev_io_stop(hub_.loop(), &io_); }

bool IoWatch::wait(MaybeTimeout timeout) {
    if (hub_.on_hub()) throw BlockingSwitchOutError();
    if (waiter_) throw std::logic_error("IoWatch: a second greenlet waits on the same descriptor");
    if (!ev_is_active(&io_)) ev_io_start(hub_.loop(), &io_);
    waiter_ = &RawGreenlet::current();
    struct Clear {
        RawGreenlet*& waiter;
        ~Clear() { waiter = nullptr; }
    } clear{waiter_};
    return hub_.park(timeout);
}

void IoWatch::on_ready(struct ev_loop* loop, ev_io* w, int) {
    auto* self = static_cast<IoWatch*>(w->data);
    RawGreenlet* g = std::exchange(self->waiter_, nullptr);
    if (!g) {
        ev_io_stop(loop, w);  // nobody is waiting: stop firing until the next wait()
        return;
    }
    Hub& hub = self->hub_;  // `self` may be gone once the greenlet has run
    try {
        hub.resume(*g);
    } catch (...) {
        hub.handle_error("io", std::current_exception());
    }
}

}  // namespace greenfinch::core
