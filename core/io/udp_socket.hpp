// UdpSocket: a cooperative UDP socket with batched receive and send (recvmmsg / sendmmsg).
//
// recv_batch() parks until at least one datagram is there, then takes as many as fit in one system call; a
// send_batch() hands the kernel a whole batch at once. Batching saves a system call per packet when the socket queue
// is deep; at low load a batch is simply one datagram. The message headers (MessageHeaders) are kept in the socket and
// reused, so a batch allocates nothing: one set for receiving and one for sending, so one greenlet may receive while
// another sends (at most one of each at a time). A batch that comes back short means the queue is empty, so the next
// recv_batch() waits for readiness first instead of spending a recvmmsg on EAGAIN. recv_from() returns the
// datagram's size and sender together (Received) rather than through an out-parameter.
//
// After a lone datagram the next is read alone too, by recvfrom: a recvmmsg of several makes the kernel look for a
// second one that is usually not there, and recvmsg copies in a message header, each dearer for the kernel than a
// recvfrom. Unless the hub's wait found datagrams already queued (Hub::last_wait_seconds): then the read is a batch
// of 4 again. After a short batch of several the window stays at twice it, slept or not: traffic that comes in bursts
// is read a burst at a time, which costs less per answer than reading it one by one.
#pragma once

#include "core/io/io_watch.hpp"
#include "core/io/message_headers.hpp"
#include "core/io/socket.hpp"

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace greenfinch::core {

class UdpSocket {
public:
    struct Options {
        bool reuse_port = false;  // SO_REUSEPORT: one socket per worker on the same address
        int receive_buffer = 0;   // SO_RCVBUF in bytes; 0 keeps the system default
        int send_buffer = 0;      // SO_SNDBUF in bytes; 0 keeps the system default
    };

    static UdpSocket bind(const SocketAddress& address, Options options);
    static UdpSocket bind(const SocketAddress& address) { return bind(address, Options{}); }
    // An unbound socket of the address's family, for a client.
    static UdpSocket open(int family);
    // Takes over an already bound descriptor (e.g. from socket activation).
    static UdpSocket adopt(int fd);

    SocketAddress local_address() const { return socket_.local_address(); }
    int fd() const noexcept { return socket_.fd(); }
    void close() noexcept {
        read_watch_.reset();
        socket_.close();
    }

    struct Received {
        std::size_t size;  // truncated to the buffer
        SocketAddress peer;
    };
    // One datagram into `buffer`: its size and sender.
    Received recv_from(std::span<std::byte> buffer, MaybeTimeout timeout = std::nullopt);
    void send_to(std::span<const std::byte> data, const SocketAddress& to, MaybeTimeout timeout = std::nullopt);
    // One datagram, never waiting: for a lone answer with nothing to batch it with. Refused: the kernel rejected it
    // for good (as send_batch() skips one).
    enum class TrySend : std::uint8_t { Sent, WouldBlock, Refused };
    TrySend try_send_to(std::span<const std::byte> data, const SocketAddress& to) noexcept;

    // Waits for at least one datagram, then fills as many entries of `batch` as are ready, up to a window: doubled
    // after a full batch (read again at once), twice the last short one, 1 after a lone datagram (4 again if the
    // hub's wait found more queued). Returns how many.
    std::size_t recv_batch(std::span<Datagram> batch, MaybeTimeout timeout = std::nullopt);
    // A wait shorter than this found its datagrams already queued: the hub did not sleep for them.
    static constexpr double kQueuedWait = 20e-6;
    // Sends every entry, waiting for room as needed; a datagram the kernel refuses for good (e.g. EMSGSIZE, an
    // unreachable peer) is skipped and counted. Returns the number refused.
    std::size_t send_batch(std::span<const Datagram> batch, MaybeTimeout timeout = std::nullopt);

private:
    explicit UdpSocket(Socket s) : socket_(std::move(s)) {}
    bool wait_readable(MaybeTimeout timeout);

    Socket socket_;
    // The kernel's view of one batch; filled and read only by the greenlet that owns that direction.
    MessageHeaders receiving_;
    MessageHeaders sending_;
    // recv_batch()'s watch stays armed between batches (see IoWatch); it goes before the descriptor closes.
    std::unique_ptr<IoWatch> read_watch_;
    // The last batch came back short, so the queue is empty: wait before the next recvmmsg rather than spend a
    // system call on learning EAGAIN.
    bool drained_ = false;
    static constexpr std::size_t kBacklogWindow = 4;  // the batch after a lone datagram, once more are found queued
    std::size_t window_ = 1;                          // how many entries the next recv_batch offers the kernel
};

}  // namespace greenfinch::core
