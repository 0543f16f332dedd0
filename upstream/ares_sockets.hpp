// AresSockets: the socket calls c-ares makes for one channel (ares_set_socket_functions), so that reading
// answers from a UDP socket costs one recvmmsg per readiness instead of one recvfrom per answer plus one more that
// only learns the socket is empty.
//
// compat(c-ares 1.18) reads a readable UDP socket until recvfrom() fails with EAGAIN. Here the first read takes up
// to a batch of datagrams at once and later reads are served from it; a batch that came back short, or with as many
// answers as the channel has queries in flight, means there is nothing more to wait for, so the read after it answers
// EAGAIN without a system call (epoll is level-triggered: anything that arrives later, a stray included, is reported
// again). A batch asks for no more datagrams than there are queries in flight: with one (the usual case at low load)
// that is a plain recvfrom straight into c-ares' buffer, which costs the kernel less than a recvmmsg that would try
// for a second datagram, or a recvmsg that copies in a message header. A UDP query goes out by sendto for the same
// reason (sendmsg would copy in a message header). TCP sockets and everything else go straight to the kernel. The
// batch's message headers are core::MessageHeaders, pointed once at the batch's own buffers.
//
// It also remembers the UDP socket of the last send, so that the channel can look there for an early answer, and,
// by query ID, the rcode of answers c-ares reads and then drops without a word: on SERVFAIL, NOTIMP or REFUSED
// compat(c-ares 1.18) moves on to the next server, and with none left reports only the ECONNREFUSED it started the query
// with, the same as for a server that is not there at all. Over TCP the answers' headers are picked out of the
// stream as c-ares reads it (dns/tcp_message_heads.hpp). It notes any FORMERR read, which may have cost the channel
// its EDNS (AresUpstream). And it tells ServerHealth what each server was sent and whether it was heard from.
#pragma once

#include "core/engine/hub.hpp"
#include "core/io/message_headers.hpp"
#include "core/io/socket_address.hpp"
#include "dns/tcp_message_heads.hpp"
#include "upstream/server_health.hpp"

#include <ares.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace greenfinch::upstream {

class AresSockets {
public:
    // Installs these functions on `channel`; this object must outlive it.
    void install(ares_channel channel);
    // The UDP socket c-ares sent its last query on, or ARES_SOCKET_BAD when that went over TCP.
    ares_socket_t last_udp_send() const noexcept { return last_udp_send_; }
    // The channel's count of queries awaiting an answer; it must outlive this object's use by c-ares.
    void count_answers_awaited(const std::size_t& in_flight) noexcept { awaited_ = &in_flight; }
    // Reports the traffic of each of `servers` (ServerHealth's indexes) to `health`, timed by `hub`; both must
    // outlive this object's use by c-ares.
    void report_to(ServerHealth& health, std::vector<core::SocketAddress> servers, const core::Hub& hub) {
        health_ = &health;
        servers_ = std::move(servers);
        hub_ = &hub;
    }
    // The rcode of the last answer to `id` that c-ares discards (SERVFAIL, NOTIMP, REFUSED), or 0.
    std::uint8_t discarded_rcode(std::uint16_t id) const noexcept { return (*discarded_)[id]; }
    // Before a query goes out under `id`: what an earlier query with that ID was told is not its answer.
    void forget_rcode(std::uint16_t id) noexcept { (*discarded_)[id] = 0; }
    // Whether c-ares has read a FORMERR since the last call.
    bool take_formerr_read() noexcept { return std::exchange(formerr_read_, false); }

private:
    static constexpr std::size_t kBatch = 16;
    static constexpr int kUdpSendWaitMs = 5;        // the longest a UDP send waits for room in the socket's buffer
    static constexpr std::size_t kDatagram = 4097;  // what compat(c-ares 1.18) itself reads at most
    // A batch read ahead of c-ares: its entries point at the batch's own buffers, once, when the socket opens.
    struct UdpBatch {
        UdpBatch();
        UdpBatch(const UdpBatch&) = delete;
        UdpBatch& operator=(const UdpBatch&) = delete;
        std::array<std::array<std::byte, kDatagram>, kBatch> buffers;
        std::array<core::Datagram, kBatch> datagrams;  // buffers[i], and the sender of what it holds
        core::MessageHeaders headers{kBatch};
        std::size_t count = 0;
        std::size_t next = 0;
        bool drained = false;            // the last read came back short, or with every answer awaited
        std::size_t server = kNoServer;  // its index in servers_, once connected
    };
    static constexpr std::size_t kNoServer = static_cast<std::size_t>(-1);
    struct TcpConnection {
        std::size_t server = kNoServer;  // its index in servers_, once connected
        dns::TcpMessageHeads heads;      // where each answer's header passes by in the stream c-ares reads
    };

    static ares_socket_t open(int domain, int type, int protocol, void* self);
    static int close(ares_socket_t fd, void* self);
    static int connect(ares_socket_t fd, const sockaddr* address, ares_socklen_t length, void* self);
    static ares_ssize_t receive(ares_socket_t fd, void* buffer, std::size_t length, int flags, sockaddr* from,
                                ares_socklen_t* from_length, void* self);
    static ares_ssize_t send(ares_socket_t fd, const iovec* data, int count, void* self);
    void note_rcode(const void* answer, ares_ssize_t size) noexcept;
    void note_sent(std::size_t server) noexcept {
        if (health_ && server != kNoServer) health_->sent(server, hub_->now());
    }
    void note_heard(std::size_t server) noexcept {
        if (health_ && server != kNoServer) health_->heard(server);
    }

    std::unordered_map<ares_socket_t, std::unique_ptr<UdpBatch>> udp_;
    ares_socket_t last_udp_send_ = ARES_SOCKET_BAD;
    const std::size_t* awaited_ = nullptr;
    std::unordered_map<ares_socket_t, TcpConnection> tcp_;
    ServerHealth* health_ = nullptr;
    std::vector<core::SocketAddress> servers_;
    const core::Hub* hub_ = nullptr;
    bool formerr_read_ = false;
    std::unique_ptr<std::array<std::uint8_t, 65536>> discarded_ = std::make_unique<std::array<std::uint8_t, 65536>>();
};

}  // namespace greenfinch::upstream
