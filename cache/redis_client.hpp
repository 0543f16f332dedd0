// RedisClient: one hiredis async connection on a hub, that a query never waits on for longer than a timeout.
//
// hiredis' libev adapter puts the connection on the hub's loop; commands pipeline on it in the order sent. A
// greenlet that needs a reply parks under `timeout`; the hiredis callback only copies the reply into a box shared with
// the waiter (core::CallbackResult) and schedules the wake-up, so it stays safe when that greenlet timed out or was
// killed long before. send() queues a command without
// waiting at all (writes that must not delay an answer).
//
// Redis down, slow or restarting: a lost connection, or `trip_after` timeouts in a row, opens the circuit breaker.
// While open, command() and send() fail at once instead of costing every query a timeout, and a keeper greenlet
// reconnects with exponential backoff (100 ms doubling up to `max_backoff`), authenticating and selecting the db,
// and closes the breaker once Redis answers a PING. One log line when Redis is lost, one when it is back.
//
// Addresses: "IP:PORT", "[IPv6]:PORT", "HOST:PORT" or "unix:/path/to/socket" (the port defaults to 6379). A host
// name is looked up before every connection attempt as the system resolves names (getaddrinfo: /etc/hosts, DNS,
// container names), on a thread (core/thread_call.hpp) since getaddrinfo blocks, and its addresses are tried in
// order; compat(hiredis 0.14) would resolve it with a blocking call on the hub. "localhost" is 127.0.0.1 without a
// lookup.
#pragma once

#include "core/engine/callback_result.hpp"
#include "core/engine/greenlet.hpp"
#include "core/engine/hub.hpp"
#include "core/primitives/event.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisAsyncContext;

namespace greenfinch::cache {

struct RedisAddress {
    std::string host;  // an IP address or a host name; empty for a unix socket
    int port = 6379;
    std::string path;      // the unix socket's path
    bool resolve = false;  // host is a name
    std::string to_string() const;
};
// nullopt when `text` is none of the accepted forms.
std::optional<RedisAddress> parse_redis_address(std::string_view text);

struct RedisReply {
    enum class Type : std::uint8_t { String, Status, Error, Integer, Nil, Array };
    Type type = Type::Nil;
    std::string str;  // String, Status, Error
    long long integer = 0;
    std::vector<RedisReply> elements;
};

class RedisClient {
public:
    struct Options {
        RedisAddress address;
        std::string password;  // AUTH when not empty
        int db = 0;            // SELECT when not 0
        core::Seconds timeout{0.05};
        core::Seconds max_backoff{3.0};
        int trip_after = 3;  // consecutive timeouts that open the breaker
    };
    struct Stats {
        std::uint64_t commands = 0;  // command() and send() calls that went to Redis (not the handshake)
        std::uint64_t timeouts = 0;
        std::uint64_t errors = 0;      // error replies and failed connections
        std::uint64_t skipped = 0;     // commands not sent because the breaker was open
        std::uint64_t reconnects = 0;  // connections made after a loss

        Stats& operator+=(const Stats& o) noexcept {
            commands += o.commands;
            timeouts += o.timeouts;
            errors += o.errors;
            skipped += o.skipped;
            reconnects += o.reconnects;
            return *this;
        }
    };

    RedisClient(core::Hub& hub, Options options);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Connected and answering: the breaker is closed.
    bool up() const noexcept { return up_; }
    // Sends `args` and parks for the reply; nullopt if the breaker is open, the timeout passed, or the connection
    // failed meanwhile.
    std::optional<RedisReply> command(const std::vector<std::string_view>& args);
    // Queues `args` without waiting; an error reply is only counted. False if the breaker is open.
    bool send(const std::vector<std::string_view>& args);
    // Parks until the breaker is closed; false if `timeout` passed first.
    bool wait_up(core::MaybeTimeout timeout);
    const Stats& stats() const noexcept { return stats_; }

private:
    // A command's reply; nullopt when the connection went before it came.
    using Pending = core::CallbackResult<std::optional<RedisReply>>;
    void keep_connected();
    // nullopt once connected and answering; else why not.
    std::optional<std::string> connect_once();
    // The handshake on a connection hiredis has started (or could not: null).
    std::optional<std::string> connect_to(redisAsyncContext* c);
    void lose(std::string_view why);
    void drop_context() noexcept;
    std::optional<RedisReply> request(const std::vector<std::string_view>& args, core::Seconds timeout);
    static void on_reply(redisAsyncContext* c, void* reply, void* privdata);
    static void on_sent(redisAsyncContext* c, void* reply, void* privdata);
    static void on_connect(const redisAsyncContext* c, int status);
    static void on_disconnect(const redisAsyncContext* c, int status);

    core::Hub& hub_;
    Options options_;
    redisAsyncContext* context_ = nullptr;  // owned by hiredis once attached; null when there is none
    bool up_ = false;
    int timeouts_in_a_row_ = 0;
    double lost_at_ = 0;
    core::Event lost_;     // wakes the keeper when the connection goes
    core::Event came_up_;  // set while up
    Stats stats_;
    core::Ref<core::Greenlet> keeper_;
};

}  // namespace greenfinch::cache
