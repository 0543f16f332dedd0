// greenfinch: the daemon's entry point.
//
// Reads the configuration (defaults, then the TOML file, then flags), binds every listen address for UDP and TCP (or
// takes the sockets systemd passed), binds the admin endpoint, drops root if told to, reads the policy's files
// (local data, hosts files, lists: policy_sources.hpp), and hands over to the
// Supervisor: `workers` threads each serve queries on their own hub (see worker.hpp), the main thread handles
// signals, reloads, metrics and systemd (see supervisor.hpp).
#include "daemon/ops/config.hpp"
#include "daemon/ops/policy_sources.hpp"
#include "daemon/ops/privileges.hpp"
#include "daemon/ops/settings.hpp"
#include "daemon/ops/supervisor.hpp"
#include "daemon/ops/systemd.hpp"
#include "daemon/serve/listeners.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace greenfinch;

namespace {
// What the command line says: the file, and the keys its flags set, as typed; applied over the file at start-up and
// again on every reload.
struct CommandLine {
    std::string config_file;
    struct Given {
        std::string key;
        std::string flag;
        std::vector<std::string> texts;
    };
    std::vector<Given> given;  // in the table's order
};

daemon::ConfigSnapshot build_config(const CommandLine& line) {
    daemon::ConfigDraft draft;
    if (!line.config_file.empty()) draft.read_file(line.config_file);
    for (const auto& g : line.given) {
        const std::string origin = "command line (" + g.flag + ")";
        draft.set({.key = g.key, .texts = g.texts, .origin = origin});
    }
    if (draft.values().upstream.servers.empty()) {
        constexpr std::string_view kResolvConf = "/etc/resolv.conf";
        const auto nameservers = daemon::resolv_conf_nameservers(std::string(kResolvConf));
        if (nameservers.empty()) {
            throw daemon::ConfigError(
                "no upstream: set upstream.servers or --upstream (/etc/resolv.conf has no nameserver)");
        }
        draft.set({.key = "upstream.servers", .texts = nameservers, .origin = kResolvConf});
    }
    daemon::ConfigSnapshot config = std::move(draft).freeze();
    const auto own = daemon::host_addresses();
    daemon::check_not_forwarding_to_self(config->server.listen, config->upstream.servers, own);
    for (const auto& zone : config->forward)
        daemon::check_not_forwarding_to_self(config->server.listen, zone.servers, own);
    return config;
}

// --help's text for a flag: the key's help, what it accepts, its default and the key, which --help leads to.
std::string flag_help(const daemon::settings::Setting& s) {
    std::string text = std::string(s.help);
    if (const std::string accepts = daemon::settings::accepted(s); !accepts.empty())
        text += " Accepts " + accepts + ".";
    if (daemon::settings::repeatable(s)) text += " Repeatable.";
    return text + " Default: " + daemon::settings::default_literal(s) + ". In the file: " + s.key() + ".";
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
    // MSG_NOSIGNAL, but compat(hiredis 0.14) writes to Redis with write(2).
    std::signal(SIGPIPE, SIG_IGN);

    CLI::App app{"greenfinch: a caching DNS forwarder"};
    app.footer("Every setting, with its flag if it has one: greenfinch.toml(5), or docs/configuration.md.");
    CommandLine line;
    bool check_config = false;
    app.add_option("--config", line.config_file, "TOML configuration file (see conf/greenfinch.toml)");
    std::vector<std::pair<const daemon::settings::Setting*, CLI::Option*>> flags;
    for (const auto& s : daemon::settings::table()) {
        if (s.flag.name.empty()) continue;
        CLI::Option* option = app.add_option(std::string(s.flag.name), CLI::callback_t{}, flag_help(s));
        option->type_name(daemon::settings::flag_argument(s));
        if (daemon::settings::repeatable(s)) {
            option->expected(1, CLI::detail::expected_max_vector_size)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        } else {
            option->expected(1);
        }
        flags.emplace_back(&s, option);
    }
    app.add_flag("--check-config", check_config, "validate the configuration and exit (non-zero when invalid)");
    app.set_version_flag("--version", std::string("greenfinch ") + GREENFINCH_VERSION);
    CLI11_PARSE(app, argc, argv);
    for (const auto& [setting, option] : flags) {
        if (option->count() == 0) continue;
        line.given.push_back(
            {.key = setting->key(), .flag = std::string(setting->flag.name), .texts = option->results()});
    }

    daemon::ConfigSnapshot config;
    try {
        config = build_config(line);
    } catch (const daemon::ConfigError& e) {
        std::fprintf(stderr, "greenfinch: invalid configuration: %s\n", e.what());
        return 2;
    }
    if (check_config) {
        try {
            daemon::load_policy(*config);  // every record, list and hosts file it names
        } catch (const daemon::ConfigError& e) {
            std::fprintf(stderr, "greenfinch: invalid configuration: %s\n", e.what());
            return 2;
        }
        std::printf("%s: configuration OK\n", line.config_file.empty() ? "defaults" : line.config_file.c_str());
        return 0;
    }
    spdlog::set_level(daemon::spdlog_level(config->log.level));

    std::vector<std::vector<daemon::ListenSockets>> sockets;
    std::optional<core::TcpListener> admin;
    try {
        const std::vector<int> inherited = daemon::systemd::inherited_sockets();
        if (!inherited.empty()) {
            spdlog::info("socket activation: serving the {} socket(s) systemd passed; server.listen is not used",
                         inherited.size());
            sockets = daemon::adopt_listeners(inherited, config->server.workers);
        } else {
            sockets = daemon::bind_listeners(config->server.listen, config->server.workers);
        }
        if (!config->metrics.listen.empty()) {
            admin = core::TcpListener::bind(*core::SocketAddress::parse(config->metrics.listen), {.backlog = 64});
        }
        if (!config->server.user.empty()) {
            daemon::drop_privileges(config->server.user);
            spdlog::info("running as user {}", config->server.user);
        }
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    // Read as the user the daemon runs as, as every reload will.
    policy::LoadedPolicy policy;
    try {
        policy = daemon::load_policy(*config);
    } catch (const daemon::ConfigError& e) {
        spdlog::error("invalid configuration: {}", e.what());
        return 2;
    }
    std::string upstream_list;
    for (const auto& u : config->upstream.servers) upstream_list += (upstream_list.empty() ? "" : ", ") + u;
    spdlog::info("greenfinch {}: {} worker(s), forwarding to {}; memory cache of {} entries{}", GREENFINCH_VERSION,
                 config->server.workers, upstream_list, config->cache.max_entries,
                 config->cache.backend == daemon::CacheBackend::redis
                     ? " in front of redis " + config->redis.address + " (keys \"" + config->redis.prefix + "...\")"
                     : std::string());

    daemon::log_policy(policy);
    daemon::Supervisor supervisor(std::move(config), std::move(policy), [line] { return build_config(line); });
    return supervisor.run(std::move(sockets), std::move(admin));
}
