// greenfinch: the daemon's entry point.
//
// Reads the configuration (defaults, then the TOML file, then flags), binds every listen address for UDP and TCP,
// and serves each query in its own greenlet through the Resolver: memory cache, coalescing, c-ares upstream.
// `workers` threads each run a hub with their own sockets (see worker.hpp). SIGTERM, SIGINT or SIGQUIT stop it
// cleanly: no new queries, the ones in flight finish (up to 2 s), exit 0.
#include "cache/memory_cache.hpp"
#include "core/event.hpp"
#include "core/signal.hpp"
#include "daemon/config.hpp"
#include "daemon/worker.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace greenfinch;

int main(int argc, char** argv) {
    CLI::App app{"greenfinch: a caching DNS forwarder"};
    std::string config_file;
    std::vector<std::string> listen;
    std::string log_level;
    std::optional<int> max_inflight;
    std::optional<int> workers;
    std::vector<std::string> upstreams;
    std::string cache_backend;
    std::string redis_address;
    bool check_config = false;
    app.add_option("--config", config_file, "TOML configuration file (see conf/greenfinch.toml)");
    app.add_option("--listen", listen, "ADDR:PORT to serve on, UDP and TCP (repeatable; default 127.0.0.1:5335 and [::1]:5335)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off (default info)");
    app.add_option("--max-inflight", max_inflight, "queries served at once per listener (default 10000)");
    app.add_option("--workers", workers, "worker threads, each with its own SO_REUSEPORT sockets (default 1)");
    app.add_option("--upstream", upstreams, "ADDR[:PORT] of an upstream resolver, tried in order (repeatable; "
                                            "default: the nameservers of /etc/resolv.conf)");
    app.add_option("--cache", cache_backend, "memory, or redis: memory in front of a Redis shared by a fleet")
        ->check(CLI::IsMember({"memory", "redis"}));
    app.add_option("--redis", redis_address, "Redis for --cache redis: IP:PORT, localhost:PORT or unix:/path "
                                             "(default 127.0.0.1:6379)");
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
        if (workers) config.server.workers = *workers;
        if (!cache_backend.empty()) config.cache.backend = cache_backend;
        if (!redis_address.empty()) config.redis.address = redis_address;
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

    std::vector<std::vector<daemon::ListenSockets>> sockets;
    try {
        sockets = daemon::bind_listeners(config.server.listen, config.server.workers);
    } catch (const std::runtime_error& e) {
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

    cache::MemoryCache cache({static_cast<std::size_t>(config.cache.max_entries),
                              static_cast<std::uint32_t>(config.cache.serve_stale), 64});
    std::vector<daemon::WorkerControl> controls(static_cast<std::size_t>(config.server.workers));
    std::vector<daemon::WorkerResult> results(controls.size());
    std::vector<std::thread> threads;
    for (std::size_t w = 0; w < controls.size(); ++w) {
        threads.emplace_back([&, w] {
            try {
                results[w] = daemon::run_worker(config, cache, std::move(sockets[w]), controls[w]);
            } catch (const std::exception& e) {
                spdlog::critical("worker {} failed: {}", w, e.what());
                results[w].drained = false;
            }
        });
    }

    // The main thread keeps only the signals: its hub waits for one, then asks every worker to stop.
    {
        core::Hub hub;
        core::Event stop;
        std::vector<std::unique_ptr<core::SignalHandler>> signals;
        for (int signo : {SIGTERM, SIGINT, SIGQUIT}) {
            signals.push_back(std::make_unique<core::SignalHandler>(signo, [&stop, signo] {
                spdlog::info("signal {}: shutting down", signo);
                stop.set();
            }));
        }
        auto keep = hub.keep_alive();  // nothing else keeps this loop alive while it waits for a signal
        stop.wait();
    }
    for (auto& c : controls) c.request_stop();
    for (auto& t : threads) t.join();

    std::uint64_t answered = 0;
    bool clean = true;
    for (const auto& r : results) {
        answered += r.answered;
        clean = clean && r.drained;
    }
    if (!clean) spdlog::warn("some queries were still in flight after 2 s and were abandoned");
    spdlog::info("stopped after answering {} queries", answered);
    return 0;
}
