// greenfinch: the daemon's entry point.
//
// This is the serving skeleton: it binds every listen address for UDP and TCP, serves each query in its own
// greenlet, and shuts down cleanly on SIGTERM, SIGINT or SIGQUIT. Resolution (cache and upstream forwarding) is not
// built yet, so every well-formed query is answered REFUSED, which tells a stub resolver to try its next server.
#include "core/event.hpp"
#include "core/signal.hpp"
#include "core/tcp.hpp"
#include "core/udp_socket.hpp"
#include "daemon/tcp_service.hpp"
#include "daemon/udp_service.hpp"
#include "dns/header.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

using namespace greenfinch;

namespace {
const std::vector<std::string> kDefaultListen = {"127.0.0.1:5335", "[::1]:5335"};
constexpr core::Seconds kDrainBudget{2.0};
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"greenfinch: a caching DNS forwarder"};
    std::vector<std::string> listen;
    std::string log_level = "info";
    int max_inflight = 10000;
    app.add_option("--listen", listen, "ADDR:PORT to serve on, UDP and TCP (repeatable; default 127.0.0.1:5335 and [::1]:5335)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();
    app.add_option("--max-inflight", max_inflight, "queries served at once per listener")->capture_default_str();
    app.set_version_flag("--version", std::string("greenfinch ") + GREENFINCH_VERSION);
    CLI11_PARSE(app, argc, argv);

    spdlog::set_level(spdlog::level::from_str(log_level));
    if (listen.empty()) listen = kDefaultListen;

    core::Hub hub;
    core::Event stop;
    std::vector<std::unique_ptr<core::SignalHandler>> signals;
    for (int signo : {SIGTERM, SIGINT, SIGQUIT}) {
        signals.push_back(std::make_unique<core::SignalHandler>(signo, [&stop, signo] {
            spdlog::info("signal {}: shutting down", signo);
            stop.set();
        }));
    }

    daemon::Responder refuse = [](std::span<const std::byte> query, std::span<std::byte> out) {
        return dns::make_error_response(query, dns::Rcode::Refused, out);
    };

    std::vector<std::unique_ptr<daemon::UdpService>> udp;
    std::vector<std::unique_ptr<daemon::TcpService>> tcp;
    for (const auto& text : listen) {
        auto address = core::SocketAddress::parse(text);
        if (!address) {
            spdlog::error("--listen {}: not an ADDR:PORT (IPv6 in brackets: [::1]:5335)", text);
            return 2;
        }
        try {
            udp.push_back(std::make_unique<daemon::UdpService>(core::UdpSocket::bind(*address), refuse, max_inflight));
            tcp.push_back(std::make_unique<daemon::TcpService>(core::TcpListener::bind(*address), refuse,
                                                               daemon::TcpService::Options{}));
        } catch (const std::system_error& e) {
            spdlog::warn("cannot listen on {}: {}", text, e.what());
            continue;
        }
        spdlog::info("listening on {} (udp, tcp)", udp.back()->local_address().to_string());
    }
    if (udp.empty()) {
        spdlog::error("no listen address could be bound");
        return 1;
    }
    spdlog::warn("greenfinch {}: resolution is not built yet; every query is answered REFUSED", GREENFINCH_VERSION);
    for (auto& s : udp) s->start();
    for (auto& s : tcp) s->start();

    stop.wait();

    for (auto& s : udp) s->stop();
    for (auto& s : tcp) s->stop();
    bool clean = true;
    for (auto& s : udp) clean = s->drain(kDrainBudget) && clean;
    for (auto& s : tcp) clean = s->drain(kDrainBudget) && clean;
    if (!clean) spdlog::warn("some queries were still in flight after {}s and were abandoned", kDrainBudget.count());
    std::uint64_t answered = 0;
    for (auto& s : udp) answered += s->stats().answered;
    for (auto& s : tcp) answered += s->stats().answered;
    spdlog::info("stopped after answering {} queries", answered);
    return 0;
}
