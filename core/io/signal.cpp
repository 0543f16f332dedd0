#include "core/io/signal.hpp"

#include "core/engine/greenlet.hpp"

#include <pthread.h>
#include <csignal>

namespace greenfinch::core {

SignalHandler::SignalHandler(int signo, SmallFunction<void()> fn)
    : hub_(Hub::current()),
      state_(make_ref<State>(std::move(fn))) {
    if (!state_->fn) throw std::invalid_argument("a signal handler needs a function");
    ev_signal_init(&watcher_, &SignalHandler::on_signal, signo);
    watcher_.data = this;
    ev_signal_start(hub_.loop(), &watcher_);
    ev_unref(hub_.loop());
    // A program may block the signal until a handler exists (so that it is not lost at start-up); libev 4.33 leaves
    // the mask alone, so this thread takes it from here.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

SignalHandler::~SignalHandler() {
    ev_ref(hub_.loop());
    ev_signal_stop(hub_.loop(), &watcher_);
}

void SignalHandler::on_signal(struct ev_loop*, ev_signal* w, int) {
    auto* self = static_cast<SignalHandler*>(w->data);
    Hub& hub = self->hub_;
    try {
        spawn([st = self->state_, &hub] {
            try {
                st->fn();
            } catch (const GreenletExit&) {
                throw;
            } catch (const boost::context::detail::forced_unwind&) {
                throw;
            } catch (...) {
                hub.raise_in_main("signal handler", std::current_exception());
            }
        });
    } catch (...) {
        hub.handle_error("signal", std::current_exception());
    }
}

}  // namespace greenfinch::core
