// greenfinch: the daemon's entry point.
//
// Reads the configuration (defaults, then the TOML file, then flags), binds every listen address for UDP and TCP,
// and serves each query in its own greenlet through the Resolver: memory cache, coalescing, c-ares upstream.
// SIGTERM, SIGINT or SIGQUIT stop it cleanly: no new queries, the ones in flight finish (up to 2 s), exit 0.
#include "cache/memory_cache.hpp"
#include "core/event.hpp"
#include "core/signal.hpp"
#include "core/tcp.hpp"
#include "core/udp_socket.hpp"
#include "daemon/config.hpp"
#include "daemon/resolver.hpp"
#include "daemon/tcp_service.hpp"
#include "daemon/udp_service.hpp"
#include "daemon/upstream_channel.hpp"
#include "dns/header.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace greenfinch;

namespace {
constexpr core::Seconds kDrainBudget{2.0};
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"greenfinch: a caching DNS forwarder"};
    std::string config_file;
    std::vector<std::string> listen;
    std::string log_level;
    std::optional<int> max_inflight;
    std::vector<std::string> upstreams;
    bool check_config = false;
    app.add_option("--config", config_file, "TOML configuration file (see conf/greenfinch.toml)");
    app.add_option("--listen", listen, "ADDR:PORT to serve on, UDP and TCP (repeatable; default 127.0.0.1:5335 and [::1]:5335)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off (default info)");
    app.add_option("--max-inflight", max_inflight, "queries served at once per listener (default 10000)");
    app.add_option("--upstream", upstreams, "ADDR[:PORT] of an upstream resolver, tried in order (repeatable; "
                                            "default: the nameservers of /etc/resolv.conf)");
    app.add_flag("--check-config", check_config, "validate the configuration and exit (non-zero when invalid)");
    app.set_version_flag("--version", std::string("greenfinch ") + GREENFINCH_VERSION);
    CLI11_PARSE(app, argc, argv);

    daemon::Config config;
    try {
        if (!config_file.empty()) config = daemon::load_config(config_file);
        if (!listen.empty()) config.server.listen = listen;
        if (!log_level.empty()) config.log.level = log_level;
        if (max_inflight) config.server.max_inflight = *max_inflight;
        if (!upstreams.empty()) config.upstream.servers = upstreams;
        daemon::validate(config, config_file.empty() ? "command line" : config_file + " and command line");
        if (config.upstream.servers.empty()) {
            config.upstream.servers = daemon::resolv_conf_nameservers("/etc/resolv.conf");
            if (config.upstream.servers.empty()) {
                throw daemon::ConfigError("no upstream: set upstream.servers or --upstream (/etc/resolv.conf has no nameserver)");
            }
        }
        daemon::check_not_forwarding_to_self(config.server.listen, config.upstream.servers);
    } catch (const daemon::ConfigError& e) {
        std::fprintf(stderr, "greenfinch: invalid configuration: %s\n", e.what());
        return 2;
    }
    if (check_config) {
        std::printf("%s: configuration OK\n", config_file.empty() ? "defaults" : config_file.c_str());
        return 0;
    }
    spdlog::set_level(spdlog::level::from_str(config.log.level));

    core::Hub hub;
    core::Event stop;
    std::vector<std::unique_ptr<core::SignalHandler>> signals;
    for (int signo : {SIGTERM, SIGINT, SIGQUIT}) {
        signals.push_back(std::make_unique<core::SignalHandler>(signo, [&stop, signo] {
            spdlog::info("signal {}: shutting down", signo);
            stop.set();
        }));
    }

    cache::MemoryCache cache({static_cast<std::size_t>(config.cache.max_entries),
                              static_cast<std::uint32_t>(config.cache.serve_stale), 16});
    std::vector<core::SocketAddress> upstream_addresses;
    for (const auto& u : config.upstream.servers) upstream_addresses.push_back(*core::SocketAddress::parse(u, 53));
    // c-ares' own retries fit in the budget: two rounds over the servers.
    const int attempt_ms = std::max(100, config.upstream.timeout_ms / (2 * static_cast<int>(upstream_addresses.size())));
    daemon::UpstreamChannel upstream(hub, {upstream_addresses, attempt_ms, 2});
    daemon::Resolver::Options resolver_options;
    resolver_options.policy = {static_cast<std::uint32_t>(config.cache.min_ttl), static_cast<std::uint32_t>(config.cache.max_ttl),
                               static_cast<std::uint32_t>(config.cache.negative_ttl_max),
                               static_cast<std::uint32_t>(config.cache.servfail_ttl)};
    resolver_options.prefetch = config.cache.prefetch;
    resolver_options.upstream_timeout = core::Seconds(config.upstream.timeout_ms / 1000.0);
    resolver_options.max_upstream_inflight = config.upstream.max_inflight;
    daemon::Resolver resolver(cache, upstream, resolver_options);
    daemon::Responder answer_udp = [&resolver](std::span<const std::byte> query, std::span<std::byte> out) {
        return resolver.resolve(query, true, out);
    };
    daemon::Responder answer_tcp = [&resolver](std::span<const std::byte> query, std::span<std::byte> out) {
        return resolver.resolve(query, false, out);
    };

    std::vector<std::unique_ptr<daemon::UdpService>> udp;
    std::vector<std::unique_ptr<daemon::TcpService>> tcp;
    const daemon::TcpService::Options tcp_options{config.server.max_tcp_connections,
                                                  core::Seconds(config.server.tcp_idle_timeout_ms / 1000.0)};
    for (const auto& text : config.server.listen) {
        const auto address = *core::SocketAddress::parse(text);  // validated above
        try {
            auto udp_socket = core::UdpSocket::bind(address);
            // Port 0 asks the kernel for a port: TCP takes the same one.
            auto bound = udp_socket.local_address();
            auto tcp_listener = core::TcpListener::bind(bound);
            udp.push_back(std::make_unique<daemon::UdpService>(std::move(udp_socket), answer_udp, config.server.max_inflight));
            tcp.push_back(std::make_unique<daemon::TcpService>(std::move(tcp_listener), answer_tcp, tcp_options));
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
    std::string upstream_list;
    for (const auto& u : upstream_addresses) upstream_list += (upstream_list.empty() ? "" : ", ") + u.to_string();
    spdlog::info("greenfinch {}: forwarding to {}; memory cache of {} entries", GREENFINCH_VERSION, upstream_list,
                 config.cache.max_entries);
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
