// call_on_thread(f, timeout): runs a blocking function on a thread of its own while the calling greenlet waits
// cooperatively (gevent's threadpool.apply), for the rare call that has no asynchronous form: getaddrinfo(), say.
//
// Returns what `f` returned, or nullopt if `timeout` passed first; an exception `f` throws is rethrown here. The
// waiter may time out or be killed while `f` still runs: the thread is detached, finishes on its own and its result is
// dropped. It shares only a small box with the waiter and posts its wake-up only while the waiter is still there, so it
// never reaches a frame or a hub that may be gone. Each call costs a thread: keep it off any per-query path.
#pragma once

#include "core/engine/hub.hpp"
#include "core/primitives/event.hpp"

#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace greenfinch::core {

template <typename F>
auto call_on_thread(F f, MaybeTimeout timeout) -> std::optional<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    static_assert(!std::is_void_v<R>, "call_on_thread returns what the function returns");
    struct Box {
        std::mutex mutex;
        Hub* hub = nullptr;         // null once the waiter has left: nothing is posted then
        Event* finished = nullptr;  // read and cleared on the hub's thread only
        std::optional<R> result;
        std::exception_ptr error;
    };
    Hub& hub = Hub::current();
    Event finished;
    auto box = std::make_shared<Box>();
    box->hub = &hub;
    box->finished = &finished;
    struct Leave {
        Box& box;
        ~Leave() {
            std::lock_guard lock(box.mutex);
            box.hub = nullptr;
            box.finished = nullptr;  // a wake-up posted already finds nobody
        }
    } leave{*box};
    std::thread([box, f = std::move(f)]() mutable {
        std::optional<R> result;
        std::exception_ptr error;
        try {
            result.emplace(f());
        } catch (...) {
            error = std::current_exception();
        }
        std::lock_guard lock(box->mutex);
        box->result = std::move(result);
        box->error = error;
        if (box->hub) {
            box->hub->post([box] {
                if (box->finished) box->finished->set();
            });
        }
    }).detach();
    auto keep = hub.keep_alive();  // the thread's post() is what will wake this loop
    if (!finished.wait(timeout)) return std::nullopt;
    std::lock_guard lock(box->mutex);
    if (box->error) std::rethrow_exception(box->error);
    return std::move(box->result);
}

}  // namespace greenfinch::core
