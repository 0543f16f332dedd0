// CallbackResult<T, Context>: the result a C library's callback fills in while a greenlet waits for it (a c-ares
// answer, a hiredis reply).
//
//   auto box = make_ref<CallbackResult<Answer>>(hub);
//   start_request(..., &on_done, box->lend());     // the library holds a reference until its callback runs
//   if (!box->wait(timeout)) return timed_out;     // parks; false if `timeout` passed first
//   use(box->result());
//
//   void on_done(void* arg, ...) {                 // on the hub's stack, inside the library's own processing
//       auto box = CallbackResult<Answer>::adopt(arg);  // takes that reference back
//       box->fulfil(Answer{...});
//   }
//
// - Ownership: the box is reference-counted on one hub. The waiter holds one reference and the library the one
//   lend() gave it, so the box outlives whichever side is done first: a waiter that timed out or was killed has
//   left, and the callback that comes later still finds its box. When the library refuses the request (its callback
//   will never run), unlend() gives its reference back.
// - Waking: the callback may run inside the waiter's own call (an answer read before the waiter parked) and always
//   on the hub's stack, where nothing may switch. fulfil() therefore stores the result and resumes the waiter from a
//   later hub callback (wake_first_later). With nobody waiting it wakes nobody; a waiter that comes later finds
//   done() and does not park.
// - Context: what the callback needs besides the result (the channel's counters, say), given by the side that starts
//   the request and read by the callback through context().
// One lend() per box, one fulfil() per lend(); a second fulfil() overwrites the result.
#pragma once

#include "core/engine/hub.hpp"
#include "core/engine/waiter.hpp"
#include "core/memory/ref.hpp"

#include <optional>
#include <utility>
#include <variant>

namespace greenfinch::core {

template <class T, class Context = std::monostate>
class CallbackResult final : public RefCounted<CallbackResult<T, Context>> {
public:
    explicit CallbackResult(Hub& hub, Context context = {}) : hub_(hub), context_(std::move(context)) {}

    // ---- The waiting side ----

    // The pointer to hand the library as the callback's argument; it carries a reference until adopt() takes it.
    void* lend() noexcept {
        this->add_ref();
        return this;
    }
    // The library refused the request, so no callback will adopt what lend() gave it.
    void unlend() noexcept { this->release(); }
    // Parks the calling greenlet until fulfil() (true) or until `timeout` passed first (false); true at once if
    // fulfilled already. A kill or an outer Timeout unwinds through it and leaves the box to the callback.
    bool wait(MaybeTimeout timeout) {
        if (!done()) wait_in(hub_, waiter_, timeout);
        return done();
    }
    bool done() const noexcept { return result_.has_value(); }
    // Once done().
    T& result() noexcept { return *result_; }

    // ---- The callback's side ----

    // The box behind a lend()'s pointer, holding the reference that pointer carried.
    static Ref<CallbackResult> adopt(void* lent) noexcept {
        auto* box = static_cast<CallbackResult*>(lent);
        Ref<CallbackResult> ref(box);
        box->release();
        return ref;
    }
    Context& context() noexcept { return context_; }
    // Stores the result and schedules the waiter's wake-up, if one is parked.
    void fulfil(T value) {
        result_.emplace(std::move(value));
        wake_first_later(hub_, waiter_);
    }

private:
    Hub& hub_;
    WaitList waiter_;
    std::optional<T> result_;
    [[no_unique_address]] Context context_;
};

}  // namespace greenfinch::core
