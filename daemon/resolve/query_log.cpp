#include "daemon/resolve/query_log.hpp"

#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <string>
#include <string_view>

namespace greenfinch::daemon {

void log_query(std::span<const std::byte> query, const QueryOrigin& origin, const LoggedAnswer& answer) {
    static constexpr std::array<std::string_view, 10> kSource{"dropped", "cache", "redis", "upstream", "coalesced",
                                                              "stale",   "error", "local", "special",  "blocked"};
    const std::span<const std::byte> response = answer.response;
    const double elapsed_seconds = answer.elapsed_seconds;
    const char* transport = origin.transport == Transport::Udp ? "udp" : "tcp";
    const double ms = elapsed_seconds * 1000.0;
    dns::Message q;
    if (dns::parse_message(query, q) != dns::ParseStatus::Ok) {
        spdlog::info("query {} {} malformed ({} bytes) -> {} {:.2f}ms", origin.peer.to_string(), transport,
                     query.size(), response.empty() ? "dropped" : "FORMERR", ms);
        return;
    }
    std::string name;
    dns::append_presentation(name, query.subspan(q.question.name_offset, q.question.name_length));
    const std::optional<dns::Header> h = dns::parse_header(response);
    const std::string rcode = h ? dns::rcode_name(static_cast<unsigned>(h->rcode())) : std::string("-");
    const std::string_view source = kSource[static_cast<std::size_t>(answer.source)];
    spdlog::info("query {} {} {} {} -> {} {}{}{} {:.2f}ms {}B", origin.peer.to_string(), transport, name,
                 dns::type_name(q.question.qtype), rcode, source, answer.zone.empty() ? "" : " zone=", answer.zone, ms,
                 response.size());
}

}  // namespace greenfinch::daemon
