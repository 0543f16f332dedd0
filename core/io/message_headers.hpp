// Datagram and MessageHeaders: a batch of datagrams as recvmmsg and sendmmsg want it, set up in one place for every
// reader and writer of batches (UdpSocket, the sockets c-ares reads through).
//
// A Datagram names memory that someone else owns: the buffer to receive into (or the bytes to send) and the peer's
// address. MessageHeaders owns what the kernel reads besides: one mmsghdr and one iovec per entry, kept and reused, so
// that a batch in steady state allocates nothing; the arrays grow only when a batch is larger than any before.
//
//   headers.reserve(n);                                    // before pointing: growing moves the arrays
//   for (i < n) headers.receive_into(i, batch[i]);          // per call, or once for buffers that stay put
//   const int got = headers.receive(fd, n);                // one recvmmsg, never waiting; as the system call returns
//   if (got > 0) headers.collect(batch.first(got));        // each datagram's size and sender's address length
//   headers.rearm(got);                                    // once-pointed entries: room for the next senders again
//
// An entry points into the caller's Datagram (its buffer and its SocketAddress), so both must stay put while the
// entry is used. Everything here is inline, with no virtual call and no allocation per batch: it is the read path of
// every query. One greenlet at a time per object (a socket keeps one for receiving and one for sending).
#pragma once

#include "core/io/direct_syscalls.hpp"
#include "core/io/socket_address.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <vector>

namespace greenfinch::core {

// One datagram: `buffer` is the caller's memory; `size` the bytes received, or to send.
struct Datagram {
    std::span<std::byte> buffer;
    std::size_t size = 0;
    SocketAddress peer;
};

class MessageHeaders {
public:
    MessageHeaders() = default;
    explicit MessageHeaders(std::size_t capacity) { reserve(capacity); }
    // Entries point into their own arrays: a copy would point into the original's.
    MessageHeaders(const MessageHeaders&) = delete;
    MessageHeaders& operator=(const MessageHeaders&) = delete;
    MessageHeaders(MessageHeaders&&) noexcept = default;
    MessageHeaders& operator=(MessageHeaders&&) noexcept = default;

    // Room for `n` entries. Growing invalidates the entries pointed so far: point them after this.
    void reserve(std::size_t n) {
        if (headers_.size() < n) {
            headers_.resize(n);
            iovecs_.resize(n);
        }
    }
    std::size_t capacity() const noexcept { return headers_.size(); }

    // Entry `i` receives into `d.buffer`, its sender's address into `d.peer`.
    void receive_into(std::size_t i, Datagram& d) noexcept {
        iovecs_[i] = {d.buffer.data(), d.buffer.size()};
        msghdr& h = headers_[i].msg_hdr;
        h = {};
        h.msg_name = d.peer.get();
        h.msg_namelen = SocketAddress::capacity();
        h.msg_iov = &iovecs_[i];
        h.msg_iovlen = 1;
    }
    // Entry `i` sends the first `d.size` bytes of `d.buffer` to `d.peer`.
    void send_from(std::size_t i, const Datagram& d) noexcept {
        iovecs_[i] = {d.buffer.data(), d.size};
        msghdr& h = headers_[i].msg_hdr;
        h = {};
        h.msg_name = const_cast<sockaddr*>(d.peer.get());
        h.msg_namelen = d.peer.size();
        h.msg_iov = &iovecs_[i];
        h.msg_iovlen = 1;
    }

    // recvmmsg into entries [0, count), never waiting: the number received, or -1 with errno.
    int receive(int fd, std::size_t count) noexcept {
        return direct::recvmmsg(fd, headers_.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
    }
    // sendmmsg of entries [first, first + count), never waiting: the number sent, or -1 with errno.
    int send(int fd, std::size_t first, std::size_t count) noexcept {
        return direct::sendmmsg(fd, headers_.data() + first, static_cast<unsigned>(count), MSG_DONTWAIT);
    }

    // After receive(): each of `received` (entries 0, 1, ... in order) gets its size and its sender's address length.
    void collect(std::span<Datagram> received) const noexcept {
        for (std::size_t i = 0; i < received.size(); ++i) {
            received[i].size = headers_[i].msg_len;
            *received[i].peer.size_ptr() = headers_[i].msg_hdr.msg_namelen;
        }
    }
    // Entries pointed once and received into again: the kernel wrote each sender's address length over the room for
    // it, in the first `count` entries (those it filled).
    void rearm(std::size_t count) noexcept {
        for (std::size_t i = 0; i < count; ++i) headers_[i].msg_hdr.msg_namelen = SocketAddress::capacity();
    }

private:
    std::vector<mmsghdr> headers_;
    std::vector<iovec> iovecs_;
};

}  // namespace greenfinch::core
