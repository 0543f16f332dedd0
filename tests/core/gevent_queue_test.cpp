// Ports of gevent's Queue / Channel behaviour (test__queue) to greenfinch's runtime; numbers refer to the table in
// docs/runtime.md ("Tested against gevent").
//
// C++ deviations from gevent:
// - Empty/Full are QueueEmpty/QueueFull; ValueError from task_done() is std::invalid_argument.
// - #41 (test_iterable: iterating a queue stops at a StopIteration sentinel) is not portable: Queue<T> has no
//   iteration protocol and C++ has no StopIteration sentinel value.
// - util.wrap_errors(Full, q.put_nowait) is spelled out as try/catch in the hub callbacks.
#include "core/engine/errors.hpp"
#include "core/engine/greenlet.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/queue.hpp"

#include "tests/core/test_support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace greenfinch::core;
using namespace greenfinch::test;
using namespace std::chrono_literals;

namespace {

struct RuntimeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// do_receive() of test__queue: get() under Timeout(0, RuntimeError()).
template <class Q>
void do_receive(Q& q, AsyncResult<std::string>& evt) {
    Timeout t(0s, std::make_exception_ptr(RuntimeError("timeout")));
    try {
        evt.set(q.get());  // should have raised
    } catch (const RuntimeError&) {
        evt.set("timed out");
    }
}

// Two hub callbacks each put_nowait() one item; records "ok" or "Full" for each.
template <class Q>
void put_nowait_twice_from_hub(Hub& hub, Q& q, std::vector<std::string>& result) {
    for (int v : {2, 3}) {
        hub.run_callback([&q, &result, v] {
            try {
                q.put_nowait(v);
                result.push_back("ok");
            } catch (const QueueFull&) {
                result.push_back("Full");
            }
        });
    }
    sleep(0s);
}

}  // namespace

TEST_CASE("test__queue test_put_nowait_simple / test_put_nowait_unlock: put_nowait works from the hub [#32]",
          "[gevent][queue]") {
    Hub hub;
    std::vector<std::string> result;
    SECTION("Queue(1): [None, Full]") {
        Queue<int> q(1);
        put_nowait_twice_from_hub(hub, q, result);
        CHECK(result == std::vector<std::string>{"ok", "Full"});
    }
    SECTION("Channel: [Full, Full] (no getter waiting)") {
        Channel<int> q;
        put_nowait_twice_from_hub(hub, q, result);
        CHECK(result == std::vector<std::string>{"Full", "Full"});
    }
    SECTION("test_put_nowait_unlock: Queue") {
        Queue<int> q;
        auto p = spawn([&q] { return q.get(); });
        CHECK(q.empty());
        CHECK_FALSE(q.full());
        sleep(1ms);
        CHECK(q.empty());
        hub.run_callback([&] {
            q.put_nowait(10);
            result.push_back("ok");
        });
        CHECK_FALSE(p->ready());
        sleep(1ms);
        CHECK(result == std::vector<std::string>{"ok"});
        REQUIRE(p->ready());
        CHECK(p->get() == 10);
        CHECK(q.empty());
    }
    SECTION("test_put_nowait_unlock: Channel") {
        Channel<int> q;
        auto p = spawn([&q] { return q.get(); });
        CHECK(q.empty());
        CHECK(q.full());
        sleep(1ms);
        hub.run_callback([&] {
            q.put_nowait(10);
            result.push_back("ok");
        });
        CHECK_FALSE(p->ready());
        sleep(1ms);
        CHECK(result == std::vector<std::string>{"ok"});
        REQUIRE(p->ready());
        CHECK(p->get() == 10);
        CHECK(q.full());
        CHECK(q.empty());
    }
}

TEST_CASE(
    "test__queue test_get_nowait_simple / test_get_nowait_unlock(_channel): get_nowait works from the hub "
    "[#33]",
    "[gevent][queue]") {
    Hub hub;
    std::vector<std::string> result;
    SECTION("test_get_nowait_simple: [4, Empty]") {
        Queue<int> q(1);
        q.put(4);
        auto store_result = [&] {
            try {
                result.push_back(std::to_string(q.get_nowait()));
            } catch (const QueueEmpty&) {
                result.push_back("Empty");
            }
        };
        hub.run_callback(store_result);
        hub.run_callback(store_result);
        sleep(0s);
        CHECK(result == std::vector<std::string>{"4", "Empty"});
    }
    SECTION("test_get_nowait_unlock: Queue(1)") {
        Queue<int> q(1);
        auto p = spawn([&q] { q.put(5); });
        CHECK(q.empty());
        sleep(0s);
        CHECK(q.full());
        hub.run_callback([&] { result.push_back(std::to_string(q.get_nowait())); });
        sleep(0s);
        CHECK(q.empty());
        CHECK(result == std::vector<std::string>{"5"});
        CHECK(p->ready());
        CHECK(p->dead());
    }
    SECTION("test_get_nowait_unlock_channel: get_nowait on the hub takes a waiting putter's item") {
        Channel<int> q;
        auto p = spawn([&q] { q.put(5); });
        sleep(1ms);
        CHECK_FALSE(p->ready());  // the putter waits for a taker
        hub.run_callback([&] { result.push_back(std::to_string(q.get_nowait())); });
        sleep(1ms);
        CHECK(result == std::vector<std::string>{"5"});
        CHECK(p->ready());
        CHECK(p->dead());
        CHECK(q.empty());
        CHECK(q.full());
    }
}

TEST_CASE("test__queue test_max_size: put blocks while the queue is full [#34]", "[gevent][queue]") {
    Hub hub;
    Queue<std::string> q(2);
    std::vector<std::string> results;
    auto p = spawn([&] {
        q.put("a");
        results.push_back("a");
        q.put("b");
        results.push_back("b");
        q.put("c");
        results.push_back("c");
        return std::string("OK");
    });
    sleep(0s);
    CHECK(results == std::vector<std::string>{"a", "b"});
    CHECK(q.get() == "a");
    sleep(0s);
    CHECK(results == std::vector<std::string>{"a", "b", "c"});
    CHECK(q.get() == "b");
    CHECK(q.get() == "c");
    REQUIRE(p->ready());
    CHECK(p->get_for(Seconds(0)) == "OK");
}

TEST_CASE("test__queue test_multiple_waiters: each waiting getter gets its own item [#35]", "[gevent][queue]") {
    Hub hub;
    Queue<std::string> q;
    const std::vector<std::string> sendings{"1", "2", "3", "4"};
    std::array<AsyncResult<std::string>, 4> evts;
    for (auto& evt : evts) spawn([&q, &evt] { evt.set(q.get()); });
    sleep(0.01s);  // get 'em all waiting
    std::set<std::string> results;
    auto collect_pending_results = [&] {
        for (auto& e : evts) {
            try {
                results.insert(e.get_for(1ms));  // gevent: with Timeout(0.001, False): e.get()
            } catch (const TimeoutExpired&) {}
        }
        return results.size();
    };
    q.put(sendings[0]);
    CHECK(collect_pending_results() == 1);
    q.put(sendings[1]);
    CHECK(collect_pending_results() == 2);
    q.put(sendings[2]);
    q.put(sendings[3]);
    CHECK(collect_pending_results() == 4);
    CHECK(results == std::set<std::string>(sendings.begin(), sendings.end()));
}

TEST_CASE(
    "test__queue test_waiters_that_cancel / test_two_waiters_one_dies / test_two_bogus_waiters: a timed-out "
    "getter takes nothing [#36]",
    "[gevent][queue]") {
    Hub hub;
    Queue<std::string> q;
    SECTION("test_waiters_that_cancel") {
        AsyncResult<std::string> evt;
        spawn([&] { do_receive(q, evt); });
        CHECK(evt.get() == "timed out");
        q.put("hi");
        CHECK(q.get() == "hi");
    }
    SECTION("test_two_waiters_one_dies") {
        AsyncResult<std::string> dying_evt, waiting_evt;
        spawn([&] { do_receive(q, dying_evt); });
        spawn([&] { waiting_evt.set(q.get()); });
        sleep(0.02s);  // gevent: sleep(0.1)
        q.put("hi");
        CHECK(dying_evt.get() == "timed out");
        CHECK(waiting_evt.get() == "hi");
    }
    SECTION("test_two_bogus_waiters") {
        AsyncResult<std::string> e1, e2;
        spawn([&] { do_receive(q, e1); });
        spawn([&] { do_receive(q, e2); });
        sleep(0.02s);
        q.put("sent");
        CHECK(e1.get() == "timed out");
        CHECK(e2.get() == "timed out");
        CHECK(q.get() == "sent");
    }
    SECTION("Channel: test_waiters_that_cancel") {
        Channel<std::string> c;
        AsyncResult<std::string> evt;
        spawn([&] { do_receive(c, evt); });
        CHECK(evt.get() == "timed out");
        auto sender = spawn([&c] { c.put("hi"); });
        CHECK(c.get() == "hi");
        CHECK(sender->join(1s));
    }
}

TEST_CASE("test__queue TestGetInterrupt / TestPutInterrupt: get/put timeouts raise Empty/Full [#37]",
          "[gevent][queue]") {
    Hub hub;
    constexpr double T = 0.02;
    auto check_elapsed = [](Clock::time_point t0) {
        const double elapsed = since(t0);
        CHECK(elapsed >= T * 0.9);
        CHECK(elapsed < T + 0.2);
    };
    SECTION("TestGetInterrupt (Queue)") {
        Queue<int> q;
        const auto t0 = Clock::now();
        CHECK_THROWS_AS(q.get_for(Seconds(T)), QueueEmpty);
        check_elapsed(t0);
    }
    SECTION("TestGetInterruptChannel") {
        Channel<int> q;
        const auto t0 = Clock::now();
        CHECK_THROWS_AS(q.get_for(Seconds(T)), QueueEmpty);
        check_elapsed(t0);
    }
    SECTION("TestPutInterrupt (Queue(1))") {
        Queue<int> q(1);
        while (!q.full()) q.put(1);
        const auto t0 = Clock::now();
        CHECK_THROWS_AS(q.put_for(2, Seconds(T)), QueueFull);
        check_elapsed(t0);
        CHECK(q.qsize() == 1);
    }
    SECTION("TestPutInterruptChannel") {
        Channel<int> q;
        const auto t0 = Clock::now();
        CHECK_THROWS_AS(q.put_for(2, Seconds(T)), QueueFull);
        check_elapsed(t0);
        // the untaken item is gone with its putter: a later getter finds nothing
        CHECK_THROWS_AS(q.get_nowait(), QueueEmpty);
    }
    SECTION("test_outer_timeout_is_not_lost (get)") {
        Queue<int> q;
        Timeout outer(1ms);
        bool owned = false;
        try {
            q.get_for(1s);
        } catch (const TimeoutExpired& e) {
            owned = outer.owns(e);
        }
        CHECK(owned);
    }
    SECTION("test_outer_timeout_is_not_lost (put)") {
        Queue<int> q(1);
        q.put(1);
        Timeout outer(1ms);
        bool owned = false;
        try {
            q.put_for(2, 1s);
        } catch (const TimeoutExpired& e) {
            owned = outer.owns(e);
        }
        CHECK(owned);
        CHECK(q.qsize() == 1);
    }
    SECTION("test_raises_timeout_Timeout_exc_customized (get)") {
        Queue<int> q;
        bool caught = false;
        try {
            Timeout t(Seconds(T), std::make_exception_ptr(RuntimeError("expected error")));
            q.get();
        } catch (const RuntimeError&) {
            caught = true;
        }
        CHECK(caught);
    }
}

TEST_CASE("test__queue test_peek_empty: blocking forever in main raises LoopExit [#38]", "[gevent][queue]") {
    Hub hub;
    Queue<int> q;
    // No putters waiting, in the main greenlet: LoopExit
    CHECK_THROWS_AS(q.peek(), LoopExit);
    CHECK_THROWS_AS(q.get(), LoopExit);
    // The hub still works afterwards.
    auto g = spawn([&q] {
        try {
            q.peek_for(0.01s);
            return false;
        } catch (const QueueEmpty&) {
            return true;
        }
    });
    CHECK(g->get());
}

TEST_CASE("test__queue test_peek_multi_greenlet / test_send_first: peek leaves the item [§1.8]", "[gevent][queue]") {
    Hub hub;
    Queue<int> q;
    auto g = spawn([&q] { return q.peek(); });
    sleep(0s);
    q.put(1);
    REQUIRE(g->join(1s));
    CHECK_FALSE(g->exception());
    CHECK(g->get() == 1);
    CHECK(q.peek() == 1);
    CHECK(q.get() == 1);
    CHECK(q.empty());
}

TEST_CASE("test__queue TestQueue test_task_done / test_issue_45: joinable queue accounting [#39]", "[gevent][queue]") {
    Hub hub;
    SECTION("test_task_done") {
        Queue<int> channel;
        spawn([&channel] { channel.put(42); });
        CHECK(channel.get() == 42);
        CHECK(channel.unfinished_tasks() == 1);
        channel.task_done();
        CHECK(channel.unfinished_tasks() == 0);
        CHECK_THROWS_AS(channel.task_done(), std::invalid_argument);  // called too many times
        CHECK(channel.unfinished_tasks() == 0);
    }
    SECTION("test_issue_45: join() on a queue nothing was put into returns at once, without switching") {
        Queue<int> q;
        sleep(0s);
        const auto iterations = hub.loop_iterations();
        CHECK(q.join());
        CHECK(hub.loop_iterations() == iterations);
    }
    SECTION("join() waits until every item is done, false on timeout") {
        Queue<int> q;
        q.put(1);
        q.put(2);
        CHECK(q.unfinished_tasks() == 2);
        const auto t0 = Clock::now();
        CHECK_FALSE(q.join(0.02s));
        CHECK(since(t0) >= 0.018);
        int done = 0;
        spawn([&] {
            for (int i = 0; i < 2; ++i) {
                q.get();
                sleep(0s);
                ++done;
                q.task_done();
            }
        });
        CHECK(q.join(2s));
        CHECK(done == 2);
        CHECK(q.unfinished_tasks() == 0);
    }
}

TEST_CASE("test__queue TestChannel test_send / test_wait / test_zero_max_size: a Channel is a rendezvous [#40]",
          "[gevent][queue]") {
    Hub hub;
    Channel<std::string> channel;
    std::vector<std::string> events;
    SECTION("test_send") {
        auto g = spawn([&] {
            events.push_back(channel.get());
            events.push_back(channel.get());
        });
        events.push_back("sending");
        channel.put("hello");
        events.push_back("sent hello");
        channel.put("world");
        events.push_back("sent world");
        CHECK(events == std::vector<std::string>{"sending", "hello", "sent hello", "world", "sent world"});
        CHECK_NOTHROW(g->get());
    }
    SECTION("test_wait") {
        auto g = spawn([&] {
            events.push_back("sending hello");
            channel.put("hello");
            events.push_back("sending world");
            channel.put("world");
            events.push_back("sent world");
        });
        events.push_back("waiting");
        events.push_back(channel.get());
        events.push_back(channel.get());
        CHECK(events == std::vector<std::string>{"waiting", "sending hello", "hello", "sending world", "world"});
        sleep(0s);
        CHECK(events ==
              std::vector<std::string>{"waiting", "sending hello", "hello", "sending world", "world", "sent world"});
        CHECK_NOTHROW(g->get());
    }
    SECTION("test_zero_max_size") {
        AsyncResult<std::string> e1, e2;
        auto p1 = spawn([&] {
            channel.put("hi");
            e1.set("done");
        });
        sleep(1ms);
        CHECK_FALSE(e1.ready());  // the sender is not done until a receiver takes the item
        auto p2 = spawn([&] { e2.set(channel.get()); });
        CHECK(e2.get() == "hi");
        CHECK(e1.get() == "done");
        Timeout t(0s);
        std::vector<Ref<Greenlet>> both{p1, p2};
        CHECK(joinall(both).size() == 2);
    }
    CHECK(channel.qsize() == 0);
    CHECK(channel.empty());
    CHECK(channel.full());
}

TEST_CASE("test__queue (invariant §1.11.1): a killed getter or putter leaves no trace in the queue [§1.8]",
          "[gevent][queue]") {
    Hub hub;
    SECTION("Queue: killed getter") {
        Queue<std::string> q;
        auto dying = spawn([&q] { return q.get(); });
        auto living = spawn([&q] { return q.get(); });
        sleep(0s);
        dying->kill();
        CHECK(dying->killed());
        q.put("hi");
        CHECK(living->get() == "hi");
        q.put("again");
        CHECK(q.get() == "again");
    }
    SECTION("Queue(1): killed putter") {
        Queue<std::string> q(1);
        q.put("first");
        auto putter = spawn([&q] { q.put("never"); });
        sleep(0s);
        putter->kill();
        CHECK(q.get() == "first");
        sleep(0s);
        CHECK(q.empty());
        CHECK(q.unfinished_tasks() == 1);
    }
    SECTION("Channel: killed putter") {
        Channel<std::string> c;
        auto putter = spawn([&c] { c.put("never"); });
        sleep(0s);
        putter->kill();
        CHECK(putter->killed());
        CHECK_THROWS_AS(c.get_nowait(), QueueEmpty);
        auto sender = spawn([&c] { c.put("real"); });
        CHECK(c.get() == "real");
        CHECK(sender->join(1s));
    }
}
