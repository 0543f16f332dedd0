// AdminServer: the HTTP endpoint on `[metrics] listen`, served by the main thread's hub.
//
//   GET  /metrics                      Prometheus text (any client)
//   POST /cache/flush                  drop the whole cache, memory and Redis (loopback clients only)
//   POST /cache/flush?name=NAME        drop every entry for NAME, whatever its type (loopback clients only)
//
// One greenlet per connection, one request per connection (Connection: close), requests up to 8 KiB, 5 s to send
// one. Anything else gets 404, 405 or 400; a flush from a non-loopback address gets 403, because the metrics port
// may be opened to a monitoring network while flushing must stay local.
#pragma once

#include "core/io/log_throttle.hpp"
#include "core/io/tcp.hpp"
#include "core/primitives/pool.hpp"

#include <functional>
#include <optional>
#include <string>

namespace greenfinch::daemon {

class AdminServer {
public:
    struct Handlers {
        std::function<std::string()> metrics;
        // `name`: nullopt for the whole cache. Returns a line for the caller (what was flushed).
        std::function<std::string(const std::optional<std::string>& name)> flush;
    };

    // A client has `request_timeout` to send its whole request, however it trickles it.
    AdminServer(core::TcpListener listener, Handlers handlers, core::Seconds request_timeout = core::Seconds(5.0));
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;
    ~AdminServer();

    void start();
    core::SocketAddress local_address() const { return listener_.local_address(); }

private:
    void serve(core::TcpStream stream, const core::SocketAddress& peer);

    core::TcpListener listener_;
    Handlers handlers_;
    core::Seconds request_timeout_;
    core::Pool connections_{64};
    core::Ref<core::Greenlet> acceptor_;
    core::ThrottledWarning accept_failed_;
};

// Decodes %XX and '+' in a query-string value; nullopt if it is malformed.
std::optional<std::string> url_decode(std::string_view text);

}  // namespace greenfinch::daemon
