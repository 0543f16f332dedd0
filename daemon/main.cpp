// greenfinch: the daemon's entry point.
//
// Reads the configuration (defaults, then the TOML file, then flags), binds every listen address for UDP and TCP (or
// takes the sockets systemd passed), binds the admin endpoint, drops root if told to, and hands over to the
// Supervisor: `workers` threads each serve queries on their own hub (see worker.hpp), the main thread handles
// signals, reloads, metrics and systemd (see supervisor.hpp).
#include "daemon/ops/config.hpp"
#include "daemon/serve/listeners.hpp"
#include "daemon/ops/privileges.hpp"
#include "daemon/ops/supervisor.hpp"
#include "daemon/ops/systemd.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace greenfinch;

namespace {
// What the command line says; applied over the file at start-up and again on every reload.
struct Flags {
    std::string config_file;
    std::vector<std::string> listen;
    std::string log_level;
    std::optional<int> max_inflight;
    std::optional<int> workers;
    std::vector<std::string> upstreams;
    std::string cache_backend;
    std::string redis_address;
    std::string metrics;
};

daemon::Config build_config(const Flags& f) {
    daemon::Config config;
    if (!f.config_file.empty()) config = daemon::load_config(f.config_file);
    if (!f.listen.empty()) config.server.listen = f.listen;
    if (!f.log_level.empty()) config.log.level = f.log_level;
    if (f.max_inflight) config.server.max_inflight = *f.max_inflight;
    if (!f.upstreams.empty()) config.upstream.servers = f.upstreams;
    if (f.workers) config.server.workers = *f.workers;
    if (!f.cache_backend.empty()) config.cache.backend = f.cache_backend;
    if (!f.redis_address.empty()) config.redis.address = f.redis_address;
    if (!f.metrics.empty()) config.metrics.listen = f.metrics;
    daemon::validate(config, f.config_file.empty() ? "command line" : f.config_file + " and command line");
    if (config.upstream.servers.empty()) {
        config.upstream.servers = daemon::resolv_conf_nameservers("/etc/resolv.conf");
        if (config.upstream.servers.empty()) {
            throw daemon::ConfigError("no upstream: set upstream.servers or --upstream (/etc/resolv.conf has no nameserver)");
        }
    }
    daemon::check_not_forwarding_to_self(config.server.listen, config.upstream.servers, daemon::host_addresses());
    return config;
}
}  // namespace

int main(int argc, char** argv) {
    // The Supervisor's hub takes these signals once it runs; until then they wait, blocked, rather than kill the
    // process (a SIGTERM or SIGHUP right after start-up must not be lost). Worker threads inherit the mask, so the
    // main thread alone receives them.
    sigset_t handled;
    sigemptyset(&handled);
    for (int signo : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1}) sigaddset(&handled, signo);
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);
    // A write to a connection its peer has closed must fail with EPIPE, not end the process: our own TCP writes say
    // MSG_NOSIGNAL, but hiredis 0.14 writes to Redis with write(2).
    std::signal(SIGPIPE, SIG_IGN);

    CLI::App app{"greenfinch: a caching DNS forwarder"};
    Flags flags;
    bool check_config = false;
    app.add_option("--config", flags.config_file, "TOML configuration file (see conf/greenfinch.toml)");
    app.add_option("--listen", flags.listen, "ADDR:PORT to serve on, UDP and TCP (repeatable; default 127.0.0.1:5335 and [::1]:5335)");
    app.add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical or off (default info)");
    app.add_option("--max-inflight", flags.max_inflight, "queries served at once per listener (default 10000)");
    app.add_option("--workers", flags.workers, "worker threads, each with its own SO_REUSEPORT sockets (default 1)");
    app.add_option("--upstream", flags.upstreams, "ADDR[:PORT] of an upstream resolver, tried in order (repeatable; "
                                                  "default: the nameservers of /etc/resolv.conf)");
    app.add_option("--cache", flags.cache_backend, "memory, or redis: memory in front of a Redis shared by a fleet")
        ->check(CLI::IsMember({"memory", "redis"}));
    app.add_option("--redis", flags.redis_address, "Redis for --cache redis: IP:PORT, HOST:PORT or unix:/path "
                                                   "(default 127.0.0.1:6379)");
    app.add_option("--metrics", flags.metrics, "ADDR:PORT of the HTTP endpoint for /metrics and /cache/flush");
    app.add_flag("--check-config", check_config, "validate the configuration and exit (non-zero when invalid)");
    app.set_version_flag("--version", std::string("greenfinch ") + GREENFINCH_VERSION);
    CLI11_PARSE(app, argc, argv);

    daemon::Config config;
    try {
        config = build_config(flags);
    } catch (const daemon::ConfigError& e) {
        std::fprintf(stderr, "greenfinch: invalid configuration: %s\n", e.what());
        return 2;
    }
    if (check_config) {
        std::printf("%s: configuration OK\n", flags.config_file.empty() ? "defaults" : flags.config_file.c_str());
        return 0;
    }
    spdlog::set_level(spdlog::level::from_str(config.log.level));

    std::vector<std::vector<daemon::ListenSockets>> sockets;
    std::optional<core::TcpListener> admin;
    try {
        const std::vector<int> inherited = daemon::systemd::inherited_sockets();
        if (!inherited.empty()) {
            spdlog::info("socket activation: serving the {} socket(s) systemd passed; server.listen is not used",
                         inherited.size());
            sockets = daemon::adopt_listeners(inherited, config.server.workers);
        } else {
            sockets = daemon::bind_listeners(config.server.listen, config.server.workers);
        }
        if (!config.metrics.listen.empty()) {
            admin = core::TcpListener::bind(*core::SocketAddress::parse(config.metrics.listen), {64, false});
        }
        if (!config.server.user.empty()) {
            daemon::drop_privileges(config.server.user);
            spdlog::info("running as user {}", config.server.user);
        }
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    std::string upstream_list;
    for (const auto& u : config.upstream.servers) upstream_list += (upstream_list.empty() ? "" : ", ") + u;
    spdlog::info("greenfinch {}: {} worker(s), forwarding to {}; memory cache of {} entries{}", GREENFINCH_VERSION,
                 config.server.workers, upstream_list, config.cache.max_entries,
                 config.cache.backend == "redis"
                     ? " in front of redis " + config.redis.address + " (keys \"" + config.redis.prefix + "...\")"
                     : std::string());

    daemon::Supervisor supervisor(config, [flags] { return build_config(flags); });
    return supervisor.run(std::move(sockets), std::move(admin));
}
