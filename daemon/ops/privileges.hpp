// Dropping root once the privileged part (binding port 53) is done, for a daemon started as root without systemd.
#pragma once

#include <string>

namespace greenfinch::daemon {

// Becomes `user` (its uid, primary gid and supplementary groups) for good. Does nothing when not root. Throws
// std::runtime_error if the user does not exist or the switch fails: a daemon that meant to drop root must not run
// on as root.
void drop_privileges(const std::string& user);

}  // namespace greenfinch::daemon
