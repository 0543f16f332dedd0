#include "daemon/ops/worker.hpp"

#include "cache/redis_cache.hpp"
#include "cache/redis_client.hpp"
#include "core/engine/waiter.hpp"
#include "daemon/resolve/resolver.hpp"
#include "daemon/serve/tcp_service.hpp"
#include "daemon/serve/udp_service.hpp"
#include "upstream/plain.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

namespace greenfinch::daemon {

namespace {
constexpr core::Seconds kDrainBudget{2.0};

double wall_clock() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

void WorkerControl::request_stop() {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    if (hub_) hub_->post([stop = stop_] { stop->set(); });
}

bool WorkerControl::attach(core::Hub& hub, core::Event& stop, WorkerHooks* hooks) {
    std::lock_guard lock(mutex_);
    hub_ = &hub;
    stop_ = &stop;
    hooks_ = hooks;
    for (auto& fn : early_) run_on_hub(std::move(fn));
    early_.clear();
    return stop_requested_;
}

void WorkerControl::detach() {
    std::lock_guard lock(mutex_);
    detached_ = true;
    hub_ = nullptr;
    stop_ = nullptr;
    hooks_ = nullptr;
}

bool WorkerControl::post(std::function<void(WorkerHooks&)> fn) {
    std::lock_guard lock(mutex_);
    if (stop_requested_ || detached_) return false;
    if (!hub_) {
        early_.push_back(std::move(fn));  // the worker is still starting: it runs these once attached
        return true;
    }
    run_on_hub(std::move(fn));
    return true;
}

void WorkerControl::run_on_hub(std::function<void(WorkerHooks&)> fn) {
    // The hooks outlive anything run on the worker's hub: the worker drains before its frame (and they) go.
    hub_->post([hooks = hooks_, fn = std::move(fn)] { core::spawn([hooks, fn] { fn(*hooks); }); });
}

namespace {
std::vector<core::SocketAddress> upstream_addresses(const Config& config) {
    std::vector<core::SocketAddress> out;
    for (const auto& u : config.upstream.servers) out.push_back(*core::SocketAddress::parse(u, 53));
    return out;
}

std::unique_ptr<upstream::Upstream> make_upstream(core::Hub& hub, const Config& config) {
    const auto servers = upstream_addresses(config);
    // The upstream's own retries fit in the budget: two rounds over the servers.
    constexpr int kRounds = 2;
    const auto attempt = std::max(std::chrono::milliseconds(100),
                                  config.upstream.timeout / (kRounds * static_cast<int>(servers.size())));
    return upstream::make_plain_upstream(hub, {.servers = servers, .attempt_timeout = attempt, .tries = kRounds});
}

Resolver::Options resolver_options(const Config& config) {
    Resolver::Options options;
    options.policy = {.min_ttl = whole_seconds(config.cache.min_ttl),
                      .max_ttl = whole_seconds(config.cache.max_ttl),
                      .negative_ttl_max = whole_seconds(config.cache.negative_ttl_max),
                      .servfail_ttl = whole_seconds(config.cache.servfail_ttl)};
    options.prefetch = config.cache.prefetch;
    options.upstream_timeout = config.upstream.timeout;
    options.stale_client_timeout = core::Seconds(config.cache.stale_client_timeout).count();
    options.max_upstream_inflight = config.upstream.max_inflight;
    options.log_queries = config.log.queries;
    return options;
}

template <class Stats>
void add_service_stats(Stats& total, const Stats& s);

template <>
void add_service_stats(UdpService::Stats& total, const UdpService::Stats& s) {
    total.received += s.received;
    total.answered += s.answered;
    total.dropped += s.dropped;
    total.send_errors += s.send_errors;
    total.failed += s.failed;
    total.abandoned += s.abandoned;
}

template <>
void add_service_stats(TcpService::Stats& total, const TcpService::Stats& s) {
    total.connections += s.connections;
    total.queries += s.queries;
    total.answered += s.answered;
    total.dropped += s.dropped;
    total.failed += s.failed;
    total.undelivered += s.undelivered;
}
}  // namespace

WorkerResult run_worker(const Config& config, cache::MemoryCache& cache, std::vector<ListenSockets> sockets,
                        WorkerControl& control) {
    core::Hub hub;
    std::unique_ptr<upstream::Upstream> upstream = make_upstream(hub, config);
    core::Group retiring;  // channels replaced on reload, each destroyed once its last query has left it

    // With the Redis backend each hub has its own connection, on its own loop, behind the shared memory cache.
    std::optional<cache::RedisClient> redis;
    std::optional<cache::RedisCache> shared;
    if (config.cache.backend == CacheBackend::redis) {
        redis.emplace(hub, cache::RedisClient::Options{.address = *cache::parse_redis_address(config.redis.address),
                                                       .password = config.redis.password,
                                                       .db = config.redis.db,
                                                       .timeout = config.redis.timeout});
        shared.emplace(*redis, cache::RedisCache::Options{.prefix = config.redis.prefix,
                                                          .serve_stale = whole_seconds(config.cache.serve_stale),
                                                          .clock = &Resolver::cache_clock,
                                                          .wall_clock = &wall_clock});
    }
    Resolver resolver(cache, shared ? &*shared : nullptr, *upstream, resolver_options(config));
    Responder answer = [&resolver](std::span<const std::byte> q, const QueryOrigin& origin, std::span<std::byte> out) {
        return resolver.resolve(q, origin, out);
    };

    const TcpService::Options tcp_options{.max_connections = config.server.max_tcp_connections,
                                          .idle_timeout = config.server.tcp_idle_timeout};
    std::vector<std::unique_ptr<UdpService>> udp;
    std::vector<std::unique_ptr<TcpService>> tcp;
    for (auto& s : sockets) {
        if (s.udp) udp.push_back(std::make_unique<UdpService>(std::move(*s.udp), answer, config.server.max_inflight));
        if (s.tcp) tcp.push_back(std::make_unique<TcpService>(std::move(*s.tcp), answer, tcp_options));
    }
    for (auto& s : udp) s->start();
    for (auto& s : tcp) s->start();

    Config current = config;  // this worker's view; a reload replaces it here, on the worker's thread
    WorkerHooks hooks;
    hooks.collect = [&](WorkerStats& out) {
        out.resolver = resolver.stats();
        for (const auto& s : udp) add_service_stats(out.udp, s->stats());
        for (const auto& s : tcp) add_service_stats(out.tcp, s->stats());
        out.upstream_in_flight = upstream->in_flight();
        out.live_greenlets = hub.live_greenlets();
        out.redis_configured = redis.has_value();
        if (redis) {
            out.redis_up = redis->up();
            out.redis = redis->stats();
            out.redis_values = shared->extra();
            out.redis_lookups = shared->stats();
        }
    };
    hooks.reload = [&](const Config& next) {
        resolver.reconfigure(resolver_options(next));
        if (shared) shared->set_serve_stale(whole_seconds(next.cache.serve_stale));
        if (next.upstream.servers != current.upstream.servers || next.upstream.timeout != current.upstream.timeout) {
            std::unique_ptr<upstream::Upstream> replaced = std::exchange(upstream, make_upstream(hub, next));
            resolver.use_upstream(*upstream);
            retiring.spawn([old = std::shared_ptr<upstream::Upstream>(std::move(replaced))] { old->wait_unused(); });
        }
        current = next;
    };
    hooks.flush_shared = [&](const std::optional<std::string>& name) {
        if (!shared) return;
        if (name) {
            shared->erase_name(*name);
        } else {
            shared->clear();
        }
    };

    core::Event stop;
    if (control.attach(hub, stop, &hooks)) stop.set();
    stop.wait();
    control.detach();

    for (auto& s : udp) s->stop();
    for (auto& s : tcp) s->stop();
    WorkerResult result;
    // One budget for all the listeners together: they drain one after another, but their queries finished meanwhile.
    const core::Deadline drain_until(hub, kDrainBudget);
    for (auto& s : udp) result.drained = s->drain(drain_until.remaining()) && result.drained;
    for (auto& s : tcp) result.drained = s->drain(drain_until.remaining()) && result.drained;
    for (auto& s : udp) result.answered += s->stats().answered;
    for (auto& s : tcp) result.answered += s->stats().answered;
    return result;
}

}  // namespace greenfinch::daemon
