#include "daemon/udp_service.hpp"

#include <spdlog/spdlog.h>

#include <array>

namespace greenfinch::daemon {

namespace {
constexpr std::size_t kBatch = 64;
constexpr std::size_t kMaxDatagram = 65535;
constexpr std::size_t kMaxUdpAnswer = 4096;
}  // namespace

UdpService::UdpService(core::UdpSocket socket, Responder& responder, int max_inflight)
    : socket_(std::move(socket)), responder_(responder), queries_(max_inflight) {}

void UdpService::start() {
    receiver_ = core::spawn([this] { receive_loop(); });
    sender_ = core::spawn([this] { send_loop(); });
}

void UdpService::receive_loop() {
    std::vector<std::byte> storage(kBatch * kMaxDatagram);
    std::array<core::Datagram, kBatch> batch;
    for (std::size_t i = 0; i < kBatch; ++i) batch[i].buffer = std::span(storage).subspan(i * kMaxDatagram, kMaxDatagram);
    for (;;) {
        std::size_t n = 0;
        try {
            n = socket_.recv_batch(batch);
        } catch (const std::system_error& e) {
            spdlog::warn("udp {}: receive failed: {}", socket_.local_address().to_string(), e.what());
            core::sleep(core::Seconds(0.01));
            continue;
        }
        stats_.received += n;
        for (std::size_t i = 0; i < n; ++i) {
            std::vector<std::byte> query(batch[i].buffer.begin(), batch[i].buffer.begin() + batch[i].size);
            queries_.spawn([this](std::vector<std::byte> q, core::SocketAddress peer) { answer(std::move(q), peer); },
                           std::move(query), batch[i].peer);
        }
    }
}

void UdpService::answer(std::vector<std::byte> query, core::SocketAddress peer) {
    std::vector<std::byte> out(kMaxUdpAnswer);
    const std::size_t size = responder_(query, out);
    if (size == 0) {
        ++stats_.dropped;
        return;
    }
    out.resize(size);
    outgoing_.push_back({std::move(out), peer});
    outgoing_ready_.set();
}

void UdpService::send_loop() {
    std::vector<Reply> sending;
    std::vector<core::Datagram> batch;
    for (;;) {
        outgoing_ready_.wait();
        outgoing_ready_.clear();
        sending.swap(outgoing_);
        batch.clear();
        for (auto& r : sending) batch.push_back({r.bytes, r.bytes.size(), r.peer});
        const std::size_t refused = socket_.send_batch(batch);
        stats_.send_errors += refused;
        stats_.answered += batch.size() - refused;
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
    outgoing_ready_.set();  // the sender flushes what is left and, once idle, exits
    if (sender_) sender_->join(core::Seconds(1));
    if (sender_ && !sender_->ready()) sender_->kill();
    return finished;
}

}  // namespace greenfinch::daemon
