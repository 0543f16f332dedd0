#include "cache/redis_client.hpp"

#include "core/io/socket_address.hpp"
#include "core/io/thread_call.hpp"
#include "core/primitives/timeout.hpp"

#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace greenfinch::cache {

namespace {
constexpr double kFirstBackoff = 0.1;
// Connecting, authenticating and the first PING may take longer than one command may, but not much.
constexpr double kMinConnectTimeout = 0.5;
// How long a connection attempt waits for the system to resolve Redis' host name (getaddrinfo has no timeout of its
// own; a lookup still running then finishes on its thread and is dropped).
constexpr double kResolveTimeout = 5.0;

// Letters, digits, '-' and '_' (container names have them), in dot-separated labels of 1 to 63, 253 in all; one
// final dot allowed.
bool is_host_name(std::string_view name) {
    if (name.ends_with('.')) name.remove_suffix(1);
    if (name.empty() || name.size() > 253) return false;
    std::size_t label = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
            if (++label > 63) return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

struct Resolved {
    std::vector<std::string> addresses;  // numeric, in the order the system gives them
    std::string error;                   // when there are none
};

// What the system (nsswitch: /etc/hosts, DNS, ...) says `host` is, for TCP. Blocks: run it on a thread.
Resolved resolve(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    Resolved out;
    if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
        out.error = ::gai_strerror(rc);
        return out;
    }
    for (const addrinfo* a = found; a; a = a->ai_next) {
        char text[NI_MAXHOST];
        if (::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof(text), nullptr, 0, NI_NUMERICHOST) == 0 &&
            std::find(out.addresses.begin(), out.addresses.end(), text) == out.addresses.end()) {
            out.addresses.emplace_back(text);
        }
    }
    ::freeaddrinfo(found);
    if (out.addresses.empty()) out.error = "no address";
    return out;
}

RedisReply copy_reply(const redisReply& r) {
    RedisReply out;
    switch (r.type) {
        case REDIS_REPLY_STRING: out.type = RedisReply::Type::String; break;
        case REDIS_REPLY_STATUS: out.type = RedisReply::Type::Status; break;
        case REDIS_REPLY_ERROR: out.type = RedisReply::Type::Error; break;
        case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::Integer; break;
        case REDIS_REPLY_ARRAY: out.type = RedisReply::Type::Array; break;
        default: out.type = RedisReply::Type::Nil; break;
    }
    if (r.str) out.str.assign(r.str, r.len);
    out.integer = r.integer;
    for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy_reply(*r.element[i]));
    return out;
}

// hiredis wants parallel arrays of pointers and lengths.
struct Argv {
    explicit Argv(const std::vector<std::string_view>& args) {
        for (auto a : args) {
            ptrs.push_back(a.data());
            lens.push_back(a.size());
        }
    }
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
};
}  // namespace

std::string RedisAddress::to_string() const {
    if (!path.empty()) return "unix:" + path;
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<RedisAddress> parse_redis_address(std::string_view text) {
    RedisAddress a;
    if (text.starts_with("unix:")) {
        a.path = std::string(text.substr(5));
        if (a.path.empty() || a.path.front() != '/') return std::nullopt;
        return a;
    }
    std::string t(text);
    if (t == "localhost" || t.starts_with("localhost:")) t = "127.0.0.1" + t.substr(9);
    auto parsed = core::SocketAddress::parse(t, 6379);
    if (!parsed) {
        // A host name, with or without a port.
        const auto colon = t.rfind(':');
        a.host = t.substr(0, colon);
        if (!is_host_name(a.host)) return std::nullopt;
        if (colon != std::string::npos) {
            const std::string_view port = std::string_view(t).substr(colon + 1);
            const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
            if (ec != std::errc{} || end != port.data() + port.size() || a.port < 1 || a.port > 65535) {
                return std::nullopt;
            }
        }
        a.resolve = true;
        return a;
    }
    std::string s = parsed->to_string();  // "1.2.3.4:6379" or "[::1]:6379"
    const auto colon = s.rfind(':');
    a.host = s.substr(0, colon);
    if (a.host.starts_with('[')) a.host = a.host.substr(1, a.host.size() - 2);
    a.port = parsed->port();
    return a;
}

RedisClient::RedisClient(core::Hub& hub, Options options) : hub_(hub), options_(std::move(options)) {
    lost_.set();  // not connected yet: the keeper starts by connecting
    keeper_ = core::spawn([this] { keep_connected(); });
}

RedisClient::~RedisClient() {
    keeper_->kill();
    drop_context();
}

void RedisClient::drop_context() noexcept {
    if (!context_) return;
    redisAsyncContext* c = std::exchange(context_, nullptr);
    c->data = nullptr;  // the callbacks hiredis makes while freeing must not reach back into this client
    redisAsyncFree(c);  // every pending command's callback runs now, with no reply: their waiters wake to failure
}

void RedisClient::lose(std::string_view why) {
    const bool was_up = std::exchange(up_, false);
    came_up_.clear();
    if (was_up) {
        hub_.update_now();
        lost_at_ = hub_.now();
        spdlog::warn("redis {}: lost ({}); answering from memory and upstream, reconnecting in the background",
                     options_.address.to_string(), why);
    }
    lost_.set();
}

void RedisClient::keep_connected() {
    double backoff = kFirstBackoff;
    bool ever_up = false;
    std::string last_failure;
    for (;;) {
        lost_.wait();
        drop_context();  // a connection that timed out or broke is not reused
        std::optional<std::string> failure = connect_once();
        if (!failure) {
            lost_.clear();
            up_ = true;
            timeouts_in_a_row_ = 0;
            came_up_.set();
            if (ever_up) {
                ++stats_.reconnects;
                hub_.update_now();
                spdlog::info("redis {}: back after {:.1f} s", options_.address.to_string(), hub_.now() - lost_at_);
            } else {
                spdlog::info("redis {}: connected", options_.address.to_string());
            }
            ever_up = true;
            last_failure.clear();
            backoff = kFirstBackoff;
            continue;
        }
        ++stats_.errors;
        if (*failure != last_failure) {  // once per cause, not once per attempt
            spdlog::warn("redis {}: {}; answering from memory and upstream, retrying in the background",
                         options_.address.to_string(), *failure);
            last_failure = *failure;
        }
        core::sleep(core::Seconds(backoff));
        backoff = std::min(backoff * 2, options_.max_backoff.count());
    }
}

std::optional<std::string> RedisClient::connect_once() {
    const auto& a = options_.address;
    if (!a.path.empty()) return connect_to(redisAsyncConnectUnix(a.path.c_str()));
    if (!a.resolve) return connect_to(redisAsyncConnect(a.host.c_str(), a.port));
    // Looked up again for every attempt, so Redis moving to another address is followed.
    const auto found = core::call_on_thread([host = a.host] { return resolve(host); }, core::Seconds(kResolveTimeout));
    if (!found) {
        return "cannot resolve " + a.host + ": no answer within " + std::to_string(static_cast<int>(kResolveTimeout)) +
               " s";
    }
    if (found->addresses.empty()) return "cannot resolve " + a.host + ": " + found->error;
    std::string failures;
    for (const auto& address : found->addresses) {
        const auto failure = connect_to(redisAsyncConnect(address.c_str(), a.port));
        if (!failure) return std::nullopt;
        drop_context();
        failures += (failures.empty() ? "" : "; ") + address + ": " + *failure;
    }
    return failures;
}

std::optional<std::string> RedisClient::connect_to(redisAsyncContext* c) {
    if (!c) return "out of memory";
    if (c->err) {
        std::string why = c->errstr;
        redisAsyncFree(c);
        return "cannot connect: " + why;
    }
    c->data = this;
    context_ = c;
    redisLibevAttach(hub_.loop(), c);
    redisAsyncSetConnectCallback(c, &RedisClient::on_connect);
    redisAsyncSetDisconnectCallback(c, &RedisClient::on_disconnect);
    // Commands queue until the connection completes; the PING's reply proves the whole handshake worked.
    const core::Seconds timeout(std::max(kMinConnectTimeout, options_.timeout.count()));
    const std::string db = std::to_string(options_.db);
    auto step = [&](const std::vector<std::string_view>& args, const char* what) -> std::optional<std::string> {
        auto r = request(args, timeout);
        if (!r) return std::string(what) + ": no answer (connection refused, or Redis is busy)";
        if (r->type == RedisReply::Type::Error) return std::string(what) + " refused: " + r->str;
        return std::nullopt;
    };
    if (!options_.password.empty()) {
        if (auto e = step({"AUTH", options_.password}, "AUTH")) return e;
    }
    if (options_.db != 0) {
        if (auto e = step({"SELECT", db}, "SELECT")) return e;
    }
    if (auto e = step({"PING"}, "PING")) return e;
    if (context_ != c) return "the connection closed";
    return std::nullopt;
}

std::optional<RedisReply> RedisClient::request(const std::vector<std::string_view>& args, core::Seconds timeout) {
    if (!context_) return std::nullopt;
    core::Ref<Pending> pending = core::make_ref<Pending>(hub_);
    Argv argv(args);
    // hiredis calls on_reply exactly once if it queued the command, which takes back the reference lent here.
    if (redisAsyncCommandArgv(context_, &RedisClient::on_reply, pending->lend(), static_cast<int>(argv.ptrs.size()),
                              argv.ptrs.data(), argv.lens.data()) != REDIS_OK) {
        pending->unlend();
        return std::nullopt;
    }
    if (!pending->wait(timeout)) {
        ++stats_.timeouts;
        return std::nullopt;
    }
    return std::move(pending->result());
}

std::optional<RedisReply> RedisClient::command(const std::vector<std::string_view>& args) {
    if (!up_) {
        ++stats_.skipped;
        return std::nullopt;
    }
    redisAsyncContext* sent_on = context_;
    ++stats_.commands;
    std::optional<RedisReply> r = request(args, options_.timeout);
    if (r) {
        timeouts_in_a_row_ = 0;
        if (r->type == RedisReply::Type::Error) ++stats_.errors;
        return r;
    }
    // A timeout counts toward the breaker only while the connection it was sent on is still the current one.
    if (up_ && context_ == sent_on && ++timeouts_in_a_row_ >= options_.trip_after) {
        lose(std::to_string(timeouts_in_a_row_) + " commands in a row got no reply within " +
             std::to_string(static_cast<int>(options_.timeout.count() * 1000)) + " ms");
    }
    return std::nullopt;
}

bool RedisClient::send(const std::vector<std::string_view>& args) {
    if (!up_ || !context_) {
        ++stats_.skipped;
        return false;
    }
    Argv argv(args);
    if (redisAsyncCommandArgv(context_, &RedisClient::on_sent, nullptr, static_cast<int>(argv.ptrs.size()),
                              argv.ptrs.data(), argv.lens.data()) != REDIS_OK) {
        return false;
    }
    ++stats_.commands;
    return true;
}

bool RedisClient::wait_up(core::MaybeTimeout timeout) { return came_up_.wait(timeout); }

void RedisClient::on_reply(redisAsyncContext*, void* reply, void* privdata) {
    const core::Ref<Pending> p = Pending::adopt(privdata);
    // No reply: the connection went before it came. Nobody waiting (timed out, killed) is fine.
    std::optional<RedisReply> r;
    if (reply) r = copy_reply(*static_cast<redisReply*>(reply));
    p->fulfil(std::move(r));
}

void RedisClient::on_sent(redisAsyncContext* c, void* reply, void*) {
    auto* self = static_cast<RedisClient*>(c->data);
    if (self && reply && static_cast<redisReply*>(reply)->type == REDIS_REPLY_ERROR) ++self->stats_.errors;
}

void RedisClient::on_connect(const redisAsyncContext* c, int status) {
    auto* self = static_cast<RedisClient*>(c->data);
    if (!self || status == REDIS_OK) return;
    // hiredis frees the context when this returns, and calls no disconnect callback for it.
    spdlog::debug("redis {}: connect failed: {}", self->options_.address.to_string(), c->errstr);
    if (self->context_ == c) self->context_ = nullptr;
}

void RedisClient::on_disconnect(const redisAsyncContext* c, int status) {
    auto* self = static_cast<RedisClient*>(c->data);
    if (!self) return;
    // hiredis frees the context when this returns. Only flags change here: the keeper does the rest on its own stack.
    if (self->context_ == c) self->context_ = nullptr;
    self->lose(status == REDIS_OK ? "closed" : (c->errstr[0] ? c->errstr : "connection error"));
}

}  // namespace greenfinch::cache
