#include "core/io/accept_retrying.hpp"

#include "core/engine/greenlet.hpp"
#include "core/engine/hub.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

namespace greenfinch::core {

TcpListener::Accepted accept_retrying(TcpListener& listener, ThrottledWarning& warn, std::string_view name) {
    constexpr Seconds kBackOff{0.1};
    for (;;) {
        try {
            return listener.accept_with_peer();
        } catch (const std::system_error& e) {
            warn(Hub::current().now(),
                 fmt::format("{} {}: accept failed: {}", name, listener.local_address().to_string(), e.what()));
        }
        sleep(kBackOff);
    }
}

}  // namespace greenfinch::core
