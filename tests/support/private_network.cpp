#include "tests/support/private_network.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

extern char** environ;

namespace greenfinch::test {
namespace {
[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("private network: " + what + ": " + std::strerror(errno));
}

void bring_loopback_up() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
    if (ok) {
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
        ok = ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
    }
    const int error = errno;
    ::close(fd);
    errno = error;
    if (!ok) fail("bringing lo up");
}
}  // namespace

bool PrivateNetwork::available() { return ::geteuid() == 0; }

PrivateNetwork::PrivateNetwork() {
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_ < 0) fail("open /proc/thread-self/ns/net");
    if (::unshare(CLONE_NEWNET) != 0) {
        const int error = errno;
        ::close(original_);
        errno = error;
        fail("unshare");
    }
    try {
        bring_loopback_up();
        netlink_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (netlink_ < 0) fail("netlink socket");
    } catch (...) {
        ::setns(original_, CLONE_NEWNET);
        ::close(original_);
        throw;
    }
}

PrivateNetwork::~PrivateNetwork() {
    ::close(netlink_);
    ::setns(original_, CLONE_NEWNET);
    ::close(original_);
}

void PrivateNetwork::hold_loopback() {
    // tc works out the token bucket's rate tables; a child forked from this thread runs in this namespace.
    const char* argv[] = {"tc",   "qdisc", "add",   "dev", "lo",    "root", "tbf",
                          "rate", "8bit",  "burst", "2kb", "limit", "64mb", nullptr};
    pid_t child = -1;
    if (::posix_spawnp(&child, "tc", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
        throw std::runtime_error("private network: cannot run tc (iproute2)");
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("private network: tc failed");
}

void PrivateNetwork::release_loopback() {
    struct {
        nlmsghdr header;
        tcmsg qdisc;
    } request{};
    request.header.nlmsg_len = sizeof(request);
    request.header.nlmsg_type = RTM_DELQDISC;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    request.qdisc.tcm_family = AF_UNSPEC;
    request.qdisc.tcm_ifindex = static_cast<int>(::if_nametoindex("lo"));
    request.qdisc.tcm_parent = TC_H_ROOT;
    if (::send(netlink_, &request, sizeof(request), 0) != static_cast<ssize_t>(sizeof(request))) fail("RTM_DELQDISC");
    struct {
        nlmsghdr header;
        nlmsgerr error;
    } ack{};
    if (::recv(netlink_, &ack, sizeof(ack), 0) < 0) fail("netlink ack");
    if (ack.header.nlmsg_type == NLMSG_ERROR && ack.error.error != 0) {
        errno = -ack.error.error;
        fail("removing the loopback queue");
    }
}

}  // namespace greenfinch::test
