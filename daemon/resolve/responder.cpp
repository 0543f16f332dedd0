#include "daemon/resolve/responder.hpp"

#include "core/engine/hub.hpp"
#include "dns/header.hpp"

#include <exception>
#include <string>

namespace greenfinch::daemon {

std::size_t respond_or_servfail(Responder& responder, std::span<const std::byte> query, const QueryOrigin& origin,
                                std::span<std::byte> out, std::uint64_t& failed, core::ThrottledWarning& warn) {
    try {
        return responder(query, origin, out);
    } catch (const std::exception& e) {
        ++failed;
        warn(core::Hub::current().now(),
             std::string("a query failed inside the daemon and was answered SERVFAIL: ") + e.what());
        return dns::make_error_response(query, dns::Rcode::ServFail, out);
    }
}

}  // namespace greenfinch::daemon
