#include "daemon/ops/systemd.hpp"

#include <systemd/sd-daemon.h>

#include <fcntl.h>

#include <string>

namespace greenfinch::daemon::systemd {

void notify_ready(std::string_view status) {
    const std::string message = "READY=1\nSTATUS=" + std::string(status);
    sd_notify(0, message.c_str());
}

void notify_reloading() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ull +
                      static_cast<unsigned long long>(now.tv_nsec) / 1000ull;
    const std::string message = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
    sd_notify(0, message.c_str());
}

void notify_stopping() { sd_notify(0, "STOPPING=1"); }

void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<core::Seconds> watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return core::Seconds(static_cast<double>(usec) / 2e6);
}

std::vector<int> inherited_sockets() {
    std::vector<int> fds;
    const int n = sd_listen_fds(1);
    for (int i = 0; i < n; ++i) {
        const int fd = SD_LISTEN_FDS_START + i;
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        fds.push_back(fd);
    }
    return fds;
}

}  // namespace greenfinch::daemon::systemd
