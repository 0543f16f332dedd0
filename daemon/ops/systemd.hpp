// systemd integration through libsystemd: readiness and state notifications, the watchdog, socket activation.
// Without systemd (no NOTIFY_SOCKET, no LISTEN_FDS) every call here does nothing and says so.
#pragma once

#include "core/engine/hub.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace greenfinch::daemon::systemd {

// READY=1 with a STATUS line; RELOADING=1 (with MONOTONIC_USEC); STOPPING=1; WATCHDOG=1.
void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();

// How often to ping the watchdog (half of WatchdogSec=), if the service has one.
std::optional<core::Seconds> watchdog_interval();

// Descriptors passed by socket activation (fd 3 onwards), marked close-on-exec; empty without activation.
std::vector<int> inherited_sockets();

}  // namespace greenfinch::daemon::systemd
