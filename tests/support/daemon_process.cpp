#include "tests/support/daemon_process.hpp"

#include "core/engine/waiter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace greenfinch::test {

DaemonProcess::DaemonProcess(std::vector<std::string> args, Launch launch) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    // Sockets for activation go to 3, 4, ...: first out of the way (high, close-on-exec) so no source is overwritten.
    std::vector<int> high;
    for (int fd : launch.sockets) high.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
    for (std::size_t i = 0; i < high.size(); ++i) {
        posix_spawn_file_actions_adddup2(&actions, high[i], 3 + static_cast<int>(i));
    }
    args.insert(args.begin(), GREENFINCH_BINARY);
    std::string program = GREENFINCH_BINARY;
    if (!launch.sockets.empty()) {
        // LISTEN_PID must be the daemon's own pid: a shell sets it to its $$ and then becomes the daemon.
        program = "/bin/sh";
        args.insert(args.begin(),
                    {"/bin/sh", "-c",
                     "LISTEN_PID=$$ LISTEN_FDS=" + std::to_string(launch.sockets.size()) + " exec \"$@\"", "sh"});
    }
    if (!launch.binds.empty()) {
        if (!launch.sockets.empty()) throw std::invalid_argument("DaemonProcess: binds and sockets together");
        std::string mounts;
        for (const auto& [file, target] : launch.binds) mounts += "mount --bind '" + file + "' '" + target + "' && ";
        // unshare execs the shell in this same process, and the shell then becomes the daemon: pid_ stays its pid.
        program = "/usr/bin/unshare";
        args.insert(args.begin(), {"/usr/bin/unshare", "-m", "/bin/sh", "-c", mounts + "exec \"$@\"", "sh"});
    }
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), launch.env.begin(), launch.env.end());
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    for (int fd : high) ::close(fd);
    ::close(out[1]);
    log_fd_ = out[0];
    if (rc != 0) {
        ::close(log_fd_);
        throw std::runtime_error("cannot start " GREENFINCH_BINARY);
    }
    ::fcntl(log_fd_, F_SETFL, O_NONBLOCK);
    const std::string marker = "listening on ";
    if (!wait_for_log(marker, core::Seconds(10.0))) {
        throw std::runtime_error("greenfinch did not start listening; its log:\n" + log_);
    }
    const auto at = log_.find(marker) + marker.size();
    for (;;) {  // the address ends at the next space, which may not have arrived yet
        if (const auto end = log_.find(' ', at); end != std::string::npos) {
            auto parsed = core::SocketAddress::parse(log_.substr(at, end - at));
            if (!parsed) throw std::runtime_error("cannot read the listen address from: " + log_);
            address_ = *parsed;
            return;
        }
        if (!read_some(core::Seconds(10.0))) throw std::runtime_error("greenfinch's log ended early: " + log_);
    }
}

DaemonProcess::~DaemonProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    ::close(log_fd_);
}

bool DaemonProcess::read_some(core::MaybeTimeout timeout) {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(log_fd_, buf, sizeof(buf));
        if (n > 0) {
            log_.append(buf, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) {
            eof_ = true;
            return false;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN || !core::Hub::current().wait_fd(log_fd_, EV_READ, timeout)) return false;
    }
}

bool DaemonProcess::wait_for_log(const std::string& text, core::Seconds timeout, std::size_t from) {
    core::Deadline deadline(core::Hub::current(), timeout);
    while (log_.find(text, from) == std::string::npos) {
        if (!read_some(deadline.remaining())) return false;
    }
    return true;
}

void DaemonProcess::signal(int signo) {
    if (pid_ <= 0 || ::kill(pid_, signo) != 0) throw std::runtime_error("cannot signal greenfinch");
}

int DaemonProcess::wait(core::Seconds timeout) {
    core::Deadline deadline(core::Hub::current(), timeout);
    while (!eof_ && read_some(deadline.remaining())) {}
    if (!eof_) ::kill(pid_, SIGKILL);  // it outlived the timeout
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return (eof_ && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
}

}  // namespace greenfinch::test
