// SignalHandler: run a function in a fresh greenlet each time a signal arrives (gevent's signal_handler).
//
//   SignalHandler on_term(SIGTERM, [&] { server.shutdown(); });
//
// The handler runs as ordinary greenlet code, so it may block. An exception escaping it is reported and raised in
// the main greenlet (as gevent does), which is how a fatal handler failure stops Hub::run(). The watcher does not keep
// the loop alive by itself. Destroying the SignalHandler stops watching; at most one handler per signal per process,
// and the handler's hub receives the signal whichever thread the kernel delivered it to. Creating it unblocks the
// signal in the calling thread, so a program can block signals until its handlers exist and lose none.
#pragma once

#include "core/engine/hub.hpp"
#include "core/memory/small_function.hpp"

namespace greenfinch::core {

class SignalHandler {
public:
    SignalHandler(int signo, SmallFunction<void()> fn);
    ~SignalHandler();
    SignalHandler(const SignalHandler&) = delete;
    SignalHandler& operator=(const SignalHandler&) = delete;

    int signo() const noexcept { return watcher_.signum; }

private:
    struct State : RefCounted<State> {
        explicit State(SmallFunction<void()> f) : fn(std::move(f)) {}
        SmallFunction<void()> fn;
    };
    static void on_signal(struct ev_loop*, ev_signal* w, int);

    Hub& hub_;
    Ref<State> state_;
    ev_signal watcher_;
};

}  // namespace greenfinch::core
