// The socket and epoll calls of the hot path, made through syscall(2) rather than glibc's wrappers.
//
// In a process with more than one thread, glibc's wrappers for these are cancellation points: around every call they
// switch the thread to asynchronous cancellation and back, two atomic read-modify-writes on the thread's descriptor.
// A forwarded query makes five or six such calls, so together they weigh as much as the cache lookup.
// greenfinch never cancels a thread, so the hub's I/O goes straight to the kernel. Same arguments, same results and
// errno as the functions they stand for.
#pragma once

#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace greenfinch::core::direct {

inline int recvmmsg(int fd, mmsghdr* messages, unsigned count, int flags) noexcept {
    return static_cast<int>(::syscall(SYS_recvmmsg, fd, messages, count, flags, nullptr));
}
inline int sendmmsg(int fd, mmsghdr* messages, unsigned count, int flags) noexcept {
    return static_cast<int>(::syscall(SYS_sendmmsg, fd, messages, count, flags));
}
inline ssize_t sendmsg(int fd, const msghdr* message, int flags) noexcept {
    return ::syscall(SYS_sendmsg, fd, message, flags);
}
inline ssize_t recvfrom(int fd, void* buffer, std::size_t length, int flags, sockaddr* from,
                        socklen_t* from_length) noexcept {
    return ::syscall(SYS_recvfrom, fd, buffer, length, flags, from, from_length);
}
inline ssize_t sendto(int fd, const void* data, std::size_t length, int flags, const sockaddr* to,
                      socklen_t to_length) noexcept {
    return ::syscall(SYS_sendto, fd, data, length, flags, to, to_length);
}
// epoll_pwait with no signal mask, as glibc's epoll_wait is.
inline int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) noexcept {
    return static_cast<int>(::syscall(SYS_epoll_pwait, epfd, events, max_events, timeout_ms, nullptr, _NSIG / 8));
}

}  // namespace greenfinch::core::direct
