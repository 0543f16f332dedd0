#include "upstream/ares_upstream.hpp"

#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/upstream_query.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace greenfinch::upstream {

AresUpstream::AresUpstream(core::Hub& hub, Options options)
    : hub_(hub),
      options_(std::move(options)),
      attempt_timeout_(std::chrono::duration<double>(options_.attempt_timeout).count()),
      health_(options_.servers.size(), attempt_timeout_, options_.probe_interval.count()) {
    if (options_.servers.empty()) throw std::invalid_argument("an upstream channel needs at least one server");
    sockets_.count_answers_awaited(in_flight_);
    sockets_.report_to(health_, options_.servers, hub_);
    rotations_.resize(options_.servers.size());
    rotation(0);  // a bad server list fails here, not on the first query
    ev_timer_init(&timer_, &AresUpstream::on_timer, 0., 0.);
    timer_.data = this;
}

AresUpstream::Rotation& AresUpstream::rotation(std::size_t first) {
    if (auto& current = rotations_[first]) {
        if (!current->edns_lost || hub_.now() - current->born < options_.edns_retry.count()) return *current;
        spdlog::info(
            "upstream: a fresh c-ares channel for servers from {}: the last one stopped using EDNS after a "
            "FORMERR without an OPT record",
            options_.servers[first].to_string());
        retired_.push_back(std::move(current));
        destroy_idle_retired();
    }
    auto r = std::make_unique<Rotation>();
    r->owner = this;
    r->born = hub_.now();
    ares_options ao{};
    ao.sock_state_cb = &AresUpstream::on_sock_state;
    ao.sock_state_cb_data = r.get();
    ao.timeout = static_cast<int>(options_.attempt_timeout.count());
    ao.tries = options_.tries;
    // With EDNS c-ares also retries a query without its OPT record (the last 11 bytes) when a server answers FORMERR
    // without one, and from then on takes no UDP answer over 512 bytes on this channel (after_reads() notices).
    ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_STAYOPEN | ARES_FLAG_EDNS;
    ao.ednspsz = options_.udp_payload;
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
    if (const int rc = ares_init_options(&r->channel, &ao, mask); rc != ARES_SUCCESS) {
        throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
    }
    sockets_.install(r->channel);
    std::string csv;
    const std::size_t n = options_.servers.size();
    for (std::size_t i = 0; i < n; ++i) csv += (csv.empty() ? "" : ",") + options_.servers[(first + i) % n].to_string();
    if (const int rc = ares_set_servers_ports_csv(r->channel, csv.c_str()); rc != ARES_SUCCESS) {
        ares_destroy(r->channel);
        throw std::runtime_error("c-ares: upstream servers \"" + csv + "\": " + ares_strerror(rc));
    }
    rotations_[first] = std::move(r);
    return *rotations_[first];
}

AresUpstream::~AresUpstream() {
    // Every query still in flight gets its callback now (ARES_EDESTRUCTION); their waiters wake to a failure.
    for_each_channel([](Rotation& r) { ares_destroy(r.channel); });
    ev_timer_stop(hub_.loop(), &timer_);
    for (auto& [fd, w] : watchers_) ev_io_stop(hub_.loop(), &w->io);
}

void AresUpstream::wait_unused() {
    while (callers_ > 0) {
        unused_.clear();
        unused_.wait();
    }
}

std::unique_ptr<Upstream> make_plain_upstream(core::Hub& hub, PlainOptions options) {
    return std::make_unique<AresUpstream>(hub, std::move(options));
}

namespace {
// A FORMERR without an OPT record: an upstream without EDNS, asked with it.
bool answered_without_edns(const Reply& r) noexcept {
    if (r.outcome != Outcome::Answered) return false;
    const std::optional<dns::Header> h = dns::parse_header(r.answer);
    return h && h->rcode() == dns::Rcode::FormErr && h->arcount == 0;
}

Reply failed(int status, std::uint16_t id) {
    return {.outcome = Outcome::Failed, .sent_id = id, .detail = ares_strerror(status)};
}
}  // namespace

Reply AresUpstream::query(std::span<const std::byte> query, core::MaybeTimeout timeout) {
    const double started = hub_.now();
    Reply r = send(query, timeout);
    if (!answered_without_edns(r)) return r;
    dns::UpstreamQueryBuffer buffer;
    const std::optional<std::span<const std::byte>> bare = dns::without_opt(query, buffer);
    if (!bare) return r;
    if (timeout) timeout = std::max(*timeout - core::Seconds(hub_.now() - started), core::Seconds(0));
    return send(*bare, timeout);
}

Reply AresUpstream::send(std::span<const std::byte> query, core::MaybeTimeout timeout) {
    if (query.size() < dns::kHeaderSize) return failed(ARES_EBADQUERY, 0);
    ++callers_;
    struct Leave {
        AresUpstream& channel;
        ~Leave() {
            if (--channel.callers_ == 0) channel.unused_.set();
        }
    } leave{*this};
    // c-ares copies the query, so ours with the fresh ID only has to live until ares_send() returns.
    std::array<std::byte, 512> small;
    std::vector<std::byte> large;
    std::span<std::byte> wire = small;
    if (query.size() > small.size()) {
        large.resize(query.size());
        wire = large;
    }
    wire = wire.first(query.size());
    std::memcpy(wire.data(), query.data(), query.size());
    const std::uint16_t id = ids_.next();
    dns::write_u16(wire, 0, id);
    sockets_.forget_rcode(id);

    ++in_flight_;
    Rotation& r = rotation(health_.first_to_try(hub_.now()));
    ++r.in_flight;
    core::Ref<Pending> pending = core::make_ref<Pending>(hub_, InFlight{&in_flight_, &r});
    // c-ares calls on_answer exactly once, which takes back the reference lent here.
    ares_send(r.channel, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<int>(wire.size()),
              &AresUpstream::on_answer, pending->lend());
    read_early(r, *pending);
    rearm_timer_if_needed();
    if (!pending->wait(timeout)) return {.outcome = Outcome::TimedOut, .sent_id = id};
    Answer& a = pending->result();
    switch (a.status) {
        case ARES_SUCCESS: return {.outcome = Outcome::Answered, .answer = std::move(a.answer), .sent_id = id};
        case ARES_ETIMEOUT: return {.outcome = Outcome::TimedOut, .sent_id = id};
        case ARES_ESERVFAIL: return {.outcome = Outcome::ServersFailed, .sent_id = id};
        case ARES_EREFUSED: return {.outcome = Outcome::Refused, .sent_id = id};
        case ARES_ECONNREFUSED:
            // What compat(c-ares 1.18) reports when every try ended in an answer it dropped, or at a port nobody
            // listens on; a timeout on the way would have made it ETIMEOUT.
            switch (sockets_.discarded_rcode(id)) {
                case static_cast<std::uint8_t>(dns::Rcode::ServFail):
                    return {.outcome = Outcome::ServersFailed, .sent_id = id};
                case static_cast<std::uint8_t>(dns::Rcode::Refused):
                    return {.outcome = Outcome::Refused, .sent_id = id};
                default: return {.outcome = Outcome::Unreachable, .sent_id = id, .detail = ares_strerror(a.status)};
            }
        default: return failed(a.status, id);
    }
}

void AresUpstream::on_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
    const core::Ref<Pending> p = Pending::adopt(arg);
    --*p->context().total;
    --p->context().rotation->in_flight;
    Answer a{status, {}};
    if (status == ARES_SUCCESS && abuf && alen > 0) {
        const auto* b = reinterpret_cast<const std::byte*>(abuf);
        a.answer.assign(b, b + alen);
    }
    p->fulfil(std::move(a));  // nobody waiting (gone, or not parked yet) is fine
}

void AresUpstream::read_early(const Rotation& rotation, const Pending& pending) {
    const ares_socket_t fd = sockets_.last_udp_send();
    if (pending.done() || fd == ARES_SOCKET_BAD || !early_reads_.worth_trying()) return;
    ares_process_fd(rotation.channel, fd, ARES_SOCKET_BAD);
    early_reads_.found(pending.done());
    after_reads();
}

void AresUpstream::after_reads() {
    if (sockets_.take_formerr_read()) {
        for (auto& r : rotations_) {
            if (!r || r->edns_lost) continue;
            ares_options o{};
            int mask = 0;
            if (ares_save_options(r->channel, &o, &mask) != ARES_SUCCESS) continue;
            r->edns_lost = (o.flags & ARES_FLAG_EDNS) == 0;
            ares_destroy_options(&o);
        }
    }
    destroy_idle_retired();
}

void AresUpstream::destroy_idle_retired() {
    std::erase_if(retired_, [](const std::unique_ptr<Rotation>& r) {
        if (r->in_flight > 0) return false;
        ares_destroy(r->channel);  // closes its sockets through on_sock_state, which still finds `r`
        return true;
    });
}

void AresUpstream::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* rotation = static_cast<Rotation*>(data);
    AresUpstream* self = rotation->owner;
    struct ev_loop* loop = self->hub_.loop();
    const int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
    auto it = self->watchers_.find(fd);
    if (events == 0) {
        if (it != self->watchers_.end()) {
            ev_io_stop(loop, &it->second->io);
            self->watchers_.erase(it);
        }
        return;
    }
    if (it == self->watchers_.end()) {
        auto w = std::make_unique<Watcher>();
        w->channel = self;
        w->ares = rotation->channel;
        ev_io_init(&w->io, &AresUpstream::on_io, fd, events);
        w->io.data = w.get();
        it = self->watchers_.emplace(fd, std::move(w)).first;
    } else if (it->second->io.events != events) {
        ev_io_stop(loop, &it->second->io);
        ev_io_set(&it->second->io, fd, events);
    }
    ev_io_start(loop, &it->second->io);
}

void AresUpstream::on_io(struct ev_loop*, ev_io* w, int revents) {
    const auto* watcher = static_cast<Watcher*>(w->data);
    auto* self = watcher->channel;
    const ares_socket_t fd = w->fd;  // the watcher may be gone once c-ares has processed the socket
    ares_process_fd(watcher->ares, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    self->after_reads();
    self->rearm_timer_if_needed();
}

void AresUpstream::on_timer(struct ev_loop*, ev_timer* w, int) {
    auto* self = static_cast<AresUpstream*>(w->data);
    self->for_each_channel([](Rotation& r) { ares_process_fd(r.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD); });
    self->after_reads();
    self->rearm_timer();
}

void AresUpstream::rearm_timer_if_needed() {
    if (in_flight_ == 0) {
        ev_timer_stop(hub_.loop(), &timer_);
        return;
    }
    if (ev_is_active(&timer_) && ev_timer_remaining(hub_.loop(), &timer_) <= attempt_timeout_) return;
    rearm_timer();
}

void AresUpstream::rearm_timer() {
    timeval soonest{};
    bool any = false;
    for_each_channel([&](Rotation& r) {
        timeval tv{};
        if (const timeval* t = ares_timeout(r.channel, any ? &soonest : nullptr, &tv)) {
            soonest = *t;
            any = true;
        }
    });
    ev_timer_stop(hub_.loop(), &timer_);
    if (any) hub_.start_timer(timer_, static_cast<double>(soonest.tv_sec) + static_cast<double>(soonest.tv_usec) / 1e6);
}

}  // namespace greenfinch::upstream
