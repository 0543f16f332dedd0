#include "core/primitives/timeout.hpp"

#include <algorithm>
#include <stdexcept>

namespace greenfinch::core {

namespace {
constexpr int kTimeoutPriority = -1;
}

Timeout::Timeout(MaybeTimeout seconds, std::exception_ptr exception)
    : hub_(Hub::current()),
      seconds_(seconds),
      exception_(std::move(exception)),
      id_(hub_.new_id()) {
    ev_timer_init(&timer_, &Timeout::on_expiry, 0., 0.);
    timer_.data = this;
    ev_set_priority(&timer_, kTimeoutPriority);
    start();
}

void Timeout::start() {
    if (pending()) throw std::logic_error("Timeout already started; cancel it before restarting it");
    if (!seconds_) return;
    if (hub_.on_hub()) throw BlockingSwitchOutError();
    target_ = RawGreenlet::current_ref();
    hub_.update_now();
    hub_.start_timer(timer_, seconds_->count());
}

void Timeout::cancel() noexcept {
    ev_timer_stop(hub_.loop(), &timer_);
    target_.reset();
}

void Timeout::on_expiry(struct ev_loop*, ev_timer* w, int) {
    auto* self = static_cast<Timeout*>(w->data);
    Ref<RawGreenlet> target = std::move(self->target_);
    std::exception_ptr error = self->exception_ ? self->exception_ : std::make_exception_ptr(TimeoutExpired{self->id_});
    Hub& hub = self->hub_;
    try {
        hub.throw_into(*target, std::move(error));
    } catch (...) {
        hub.handle_error("timeout", std::current_exception());
    }
}

}  // namespace greenfinch::core
