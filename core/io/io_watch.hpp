// IoWatch: readiness of one descriptor that one greenlet waits on again and again (a UDP receive loop).
//
// Hub::wait_fd() starts and stops an ev_io per wait. libev removes epoll registrations lazily, so each restart
// then costs a failed EPOLL_CTL_ADD: one wasted system call per wake-up, a large share of a forwarded query's cost
// at low load. An IoWatch stays started while its greenlet works between waits; if it fires with nobody waiting it
// stops itself then, and the next wait() starts it again (epoll is level-triggered, so no readiness is lost).
//
// One waiter at a time; the watch belongs to the hub it was made on and must go before that hub and before the
// descriptor is closed.
#pragma once

#include "core/engine/hub.hpp"

namespace greenfinch::core {

class IoWatch {
public:
    IoWatch(Hub& hub, int fd, int events);
    ~IoWatch();
    IoWatch(const IoWatch&) = delete;
    IoWatch& operator=(const IoWatch&) = delete;

    // Parks the calling greenlet until the descriptor is ready; false when `timeout` passed first.
    bool wait(MaybeTimeout timeout);

private:
    static void on_ready(struct ev_loop*, ev_io* w, int);

    Hub& hub_;
    ev_io io_;
    RawGreenlet* waiter_ = nullptr;
};

}  // namespace greenfinch::core
