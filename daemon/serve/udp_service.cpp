#include "daemon/serve/udp_service.hpp"

#include "core/engine/hub.hpp"

#include <spdlog/spdlog.h>

#include <array>

namespace greenfinch::daemon {

namespace {
constexpr std::size_t kBatch = 64;
}  // namespace

UdpService::UdpService(core::UdpSocket socket, Responder& responder, int max_inflight)
    : socket_(std::move(socket)),
      responder_(responder),
      queries_(max_inflight) {}

void UdpService::start() {
    receiver_ = core::spawn([this] { receive_loop(); });
    sender_ = core::spawn([this] { send_loop(); });
}

UdpService::ExchangePtr UdpService::take_exchange() {
    if (free_.empty()) return std::make_unique<Exchange>();
    ExchangePtr e = std::move(free_.back());
    free_.pop_back();
    return e;
}

void UdpService::receive_loop() {
    std::array<ExchangePtr, kBatch> slots;
    std::array<core::Datagram, kBatch> batch;
    for (std::size_t i = 0; i < kBatch; ++i) {
        slots[i] = take_exchange();
        batch[i].buffer = slots[i]->query;
    }
    for (;;) {
        std::size_t n = 0;
        try {
            n = socket_.recv_batch(batch);
        } catch (const std::system_error& e) {
            receive_failed_(core::Hub::current().now(),
                            fmt::format("udp {}: receive failed: {}", socket_.local_address().to_string(), e.what()));
            core::sleep(core::Seconds(0.01));
            continue;
        }
        stats_.received += n;
        for (std::size_t i = 0; i < n; ++i) {
            ExchangePtr e = std::exchange(slots[i], take_exchange());
            e->query_size = batch[i].size;
            e->peer = batch[i].peer;
            batch[i].buffer = slots[i]->query;
            queries_.spawn([this](ExchangePtr q) { answer(std::move(q)); }, std::move(e));
        }
    }
}

void UdpService::give_back(ExchangePtr e) {
    if (free_.size() < kMaxSpare) free_.push_back(std::move(e));
}

void UdpService::answer(ExchangePtr e) {
    e->answer_size = respond_or_servfail(responder_, std::span(e->query.data(), e->query_size),
                                         {e->peer, Transport::Udp}, e->answer, stats_.failed, query_failed_);
    if (e->answer_size == 0) {
        ++stats_.dropped;
        give_back(std::move(e));
        return;
    }
    if (outgoing_.empty() && !core::Hub::current().callbacks_pending()) {
        // Nothing queued and nothing else runs this pass that could answer: a batch would be this one datagram, so
        // spare the sender's wake-up. (At load, answers finish in runs and still leave through the sender.)
        switch (socket_.try_send_to(std::span(e->answer.data(), e->answer_size), e->peer)) {
            case core::UdpSocket::TrySend::Sent:
                ++stats_.answered;
                give_back(std::move(e));
                return;
            case core::UdpSocket::TrySend::Refused:
                ++stats_.send_errors;
                give_back(std::move(e));
                return;
            case core::UdpSocket::TrySend::WouldBlock: break;  // the sender waits for room
        }
    }
    outgoing_.push_back(std::move(e));
    outgoing_ready_.set();
}

void UdpService::send_loop() {
    std::vector<ExchangePtr> sending;
    std::vector<core::Datagram> batch;
    for (;;) {
        outgoing_ready_.wait();
        outgoing_ready_.clear();
        sending.swap(outgoing_);
        batch.clear();
        for (auto& e : sending) batch.push_back({std::span(e->answer.data(), e->answer_size), e->answer_size, e->peer});
        const std::size_t refused = socket_.send_batch(batch);
        stats_.send_errors += refused;
        stats_.answered += batch.size() - refused;
        for (auto& e : sending) give_back(std::move(e));
        sending.clear();
        if (stopping_ && outgoing_.empty() && queries_.size() == 0) return;
    }
}

void UdpService::stop() {
    if (stopping_) return;
    stopping_ = true;
    if (receiver_) receiver_->kill();
}

bool UdpService::drain(core::MaybeTimeout timeout) {
    const bool finished = queries_.join(timeout);
    // Queries still waiting (on an upstream slower than the budget) end here, while the resolver and the upstream
    // channel they are inside still exist; left to the hub's destructor, they would unwind through freed objects.
    if (!finished) queries_.kill_and_wait(core::Seconds(1));
    outgoing_ready_.set();  // the sender flushes what is left and, once idle, exits
    if (sender_) sender_->join(core::Seconds(1));
    if (sender_ && !sender_->ready()) sender_->kill();
    // Every datagram read is answered, dropped or refused by the kernel, or was still on its way (waiting for a
    // greenlet of the full Pool, running, or queued to send) when the stop came: that last kind is counted here.
    stats_.abandoned = stats_.received - stats_.answered - stats_.dropped - stats_.send_errors;
    if (stats_.abandoned > 0) {
        spdlog::warn("udp {}: {} queries read but not answered before the stop", socket_.local_address().to_string(),
                     stats_.abandoned);
    }
    return finished;
}

}  // namespace greenfinch::daemon
