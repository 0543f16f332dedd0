// DaemonProcess: the real greenfinch binary, started with the test's arguments, watched without blocking the hub.
//
// Its output is read through cooperative waits, so the test's own servers (TestUpstream, Redis clients) keep running
// while the test waits for a log line or for the exit. The constructor returns once the daemon logs where it
// listens (port 0 gives a kernel-chosen port). The destructor kills it if the test did not stop it.
#pragma once

#include "core/engine/hub.hpp"
#include "core/io/socket_address.hpp"

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace greenfinch::test {

class DaemonProcess {
public:
    struct Launch {
        std::vector<std::string> env;  // "NAME=value", added to the test's environment
        std::vector<int> sockets;      // passed as systemd does: fds 3.. with LISTEN_FDS and LISTEN_PID set
        // {file, target}: the daemon runs in a mount namespace of its own in which `file` is mounted over `target`
        // (/etc/hosts, say), leaving the machine's untouched. Needs root; not with `sockets`.
        std::vector<std::pair<std::string, std::string>> binds;
    };
    explicit DaemonProcess(std::vector<std::string> args) : DaemonProcess(std::move(args), Launch{}) {}
    DaemonProcess(std::vector<std::string> args, Launch launch);
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    // The first address it listens on.
    const core::SocketAddress& address() const { return address_; }
    pid_t pid() const noexcept { return pid_; }
    // Everything it logged so far.
    const std::string& log() const { return log_; }
    // Reads its log until `text` appears after `from` (an offset into log()); false if it did not within `timeout`.
    bool wait_for_log(const std::string& text, core::Seconds timeout, std::size_t from = 0);

    void signal(int signo);
    // Waits for it to exit (reading its log to the end); its exit status, or -1 if a signal ended it or `timeout`
    // passed (then it is killed).
    int wait(core::Seconds timeout);
    // SIGTERM, then wait().
    int terminate(core::Seconds timeout = core::Seconds(10.0)) {
        signal(SIGTERM);
        return wait(timeout);
    }

private:
    // Appends what is readable; false on EOF or timeout.
    bool read_some(core::MaybeTimeout timeout);

    pid_t pid_ = -1;
    int log_fd_ = -1;
    bool eof_ = false;
    std::string log_;
    core::SocketAddress address_;
};

}  // namespace greenfinch::test
