#include "daemon/ops/worker.hpp"

#include "cache/redis_cache.hpp"
#include "cache/redis_client.hpp"
#include "core/engine/waiter.hpp"
#include "daemon/resolve/resolver.hpp"
#include "daemon/serve/tcp_service.hpp"
#include "daemon/serve/udp_service.hpp"
#include "upstream/plain.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace greenfinch::daemon {

namespace {
constexpr core::Seconds kDrainBudget{2.0};

std::unique_ptr<upstream::Upstream> make_upstream(core::Hub& hub, const std::vector<std::string>& addresses,
                                                  std::chrono::milliseconds budget) {
    std::vector<core::SocketAddress> servers;
    for (const auto& a : addresses) servers.push_back(*core::SocketAddress::parse(a, 53));
    // The upstream's own retries fit in the budget: two rounds over the servers.
    constexpr int kRounds = 2;
    const auto attempt =
        std::max(std::chrono::milliseconds(100), budget / (kRounds * static_cast<int>(servers.size())));
    return upstream::make_plain_upstream(hub, {.servers = servers, .attempt_timeout = attempt, .tries = kRounds});
}

// Route 0 for [upstream] servers, then one per [[forward]] zone in the file's order, as the policy numbers them.
UpstreamRoutes make_routes(core::Hub& hub, const Config& config) {
    const auto route = [&](std::string zone, const std::vector<std::string>& servers,
                           std::chrono::milliseconds budget) {
        return std::make_shared<UpstreamRoute>(UpstreamRoute::Options{.zone = std::move(zone),
                                                                      .upstream = make_upstream(hub, servers, budget),
                                                                      .budget = core::Seconds(budget),
                                                                      .max_inflight = config.upstream.max_inflight});
    };
    UpstreamRoutes routes;
    routes.push_back(route(".", config.upstream.servers, config.upstream.timeout));
    for (const auto& z : config.forward) {
        routes.push_back(route(z.name(), z.servers, z.timeout_or(config.upstream.timeout)));
    }
    return routes;
}

bool same_routes(const Config& a, const Config& b) {
    return a.upstream.servers == b.upstream.servers && a.upstream.timeout == b.upstream.timeout &&
           a.upstream.max_inflight == b.upstream.max_inflight && a.forward == b.forward;
}

Resolver::Options resolver_options(const Config& config) {
    Resolver::Options options;
    options.policy = {.min_ttl = whole_seconds(config.cache.min_ttl),
                      .max_ttl = whole_seconds(config.cache.max_ttl),
                      .negative_ttl_max = whole_seconds(config.cache.negative_ttl_max),
                      .servfail_ttl = whole_seconds(config.cache.servfail_ttl)};
    options.prefetch = config.cache.prefetch;
    options.stale_client_timeout = core::Seconds(config.cache.stale_client_timeout).count();
    options.log_queries = config.log.queries;
    return options;
}

std::optional<cache::RedisClient> redis_client(core::Hub& hub, const Config& config) {
    if (config.cache.backend != CacheBackend::redis) return std::nullopt;
    return std::make_optional<cache::RedisClient>(
        hub, cache::RedisClient::Options{.address = *cache::parse_redis_address(config.redis.address),
                                         .password = config.redis.password,
                                         .db = config.redis.db,
                                         .timeout = config.redis.timeout});
}
}  // namespace

Worker::Worker(ConfigSnapshot config, policy::PolicySnapshot policy, cache::MemoryCache& cache,
               std::vector<ListenSockets> sockets)
    : config_(std::move(config)),
      redis_(redis_client(hub_, *config_)),
      shared_(redis_ ? std::make_optional<cache::RedisCache>(
                           *redis_, cache::RedisCache::Options{.prefix = config_->redis.prefix,
                                                               .serve_stale = whole_seconds(config_->cache.serve_stale),
                                                               .clock = &Resolver::cache_clock,
                                                               .wall_clock = &wall_seconds})
                     : std::nullopt),
      resolver_(cache, shared_ ? &*shared_ : nullptr, make_routes(hub_, *config_), std::move(policy),
                resolver_options(*config_)),
      responder_([this](std::span<const std::byte> q, const QueryOrigin& origin, std::span<std::byte> out) {
          return resolver_.resolve(q, origin, out);
      }) {
    const TcpService::Options tcp_options{.max_connections = config_->server.max_tcp_connections,
                                          .idle_timeout = config_->server.tcp_idle_timeout};
    for (auto& s : sockets) {
        if (s.udp)
            udp_.push_back(std::make_unique<UdpService>(std::move(*s.udp), responder_, config_->server.max_inflight));
        if (s.tcp) tcp_.push_back(std::make_unique<TcpService>(std::move(*s.tcp), responder_, tcp_options));
    }
    for (auto& s : udp_) s->start();
    for (auto& s : tcp_) s->start();
}

Worker::~Worker() = default;

WorkerResult Worker::serve(WorkerControl& control) {
    core::Event stop;
    if (control.attach(hub_, stop, *this)) stop.set();
    stop.wait();
    control.detach();

    for (auto& s : udp_) s->stop();
    for (auto& s : tcp_) s->stop();
    WorkerResult result;
    // One budget for all the listeners together: they drain one after another, but their queries finished meanwhile.
    const core::Deadline drain_until(hub_, kDrainBudget);
    for (auto& s : udp_) result.drained = s->drain(drain_until.remaining()) && result.drained;
    for (auto& s : tcp_) result.drained = s->drain(drain_until.remaining()) && result.drained;
    for (auto& s : udp_) result.answered += s->stats().answered;
    for (auto& s : tcp_) result.answered += s->stats().answered;
    return result;
}

WorkerStats Worker::collect_stats() const {
    WorkerStats out;
    out.resolver = resolver_.stats();
    for (const auto& s : udp_) out.udp += s->stats();
    for (const auto& s : tcp_) out.tcp += s->stats();
    for (const auto& route : resolver_.routes()) {
        out.upstream_in_flight += route->upstream->in_flight();
        out.routes.emplace_back(route->zone, route->stats);
    }
    out.live_greenlets = hub_.live_greenlets();
    out.redis_configured = redis_.has_value();
    if (redis_) {
        out.redis_up = redis_->up() ? 1 : 0;
        out.redis = redis_->stats();
        out.redis_values = shared_->extra();
        out.redis_lookups = shared_->stats();
    }
    return out;
}

void Worker::reload(const ConfigSnapshot& next, const policy::PolicySnapshot& policy) {
    resolver_.reconfigure(resolver_options(*next));
    if (shared_) shared_->set_serve_stale(whole_seconds(next->cache.serve_stale));
    // The routes and the policy that numbers them change together, between two queries. A query in flight holds
    // its route, which goes when the last of them is done.
    if (!same_routes(*next, *config_)) resolver_.use_routes(make_routes(hub_, *next));
    resolver_.use_policy(policy);
    config_ = next;
}

void Worker::flush_shared(const std::optional<std::string>& name) {
    if (!shared_) return;
    if (name) {
        shared_->erase_name(*name);
    } else {
        shared_->clear();
    }
}

}  // namespace greenfinch::daemon
