#include "tests/support/process.hpp"

#include "core/engine/waiter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace greenfinch::test {

ProcessResult run_process(std::vector<std::string> argv, core::Seconds timeout) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
        ::close(out[0]);
        throw std::runtime_error("cannot start " + argv[0]);
    }
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);
    ProcessResult result;
    core::Hub& hub = core::Hub::current();
    core::Deadline deadline(hub, timeout);
    bool timed_out = false;
    for (char buf[4096];;) {
        const ssize_t n = ::read(out[0], buf, sizeof(buf));
        if (n > 0) {
            result.output.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) break;  // EOF: the program closed its output, it is ending
        if (!hub.wait_fd(out[0], EV_READ, deadline.remaining())) {
            timed_out = true;
            break;
        }
    }
    ::close(out[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = (!timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace greenfinch::test
