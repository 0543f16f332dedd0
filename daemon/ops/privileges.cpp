#include "daemon/ops/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace greenfinch::daemon {

void drop_privileges(const std::string& user) {
    if (::geteuid() != 0) return;
    errno = 0;
    const passwd* pw = ::getpwnam(user.c_str());
    if (!pw) throw std::runtime_error("server.user: no such user \"" + user + "\"");
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    if (::initgroups(user.c_str(), gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
        throw std::runtime_error("cannot become user \"" + user + "\": " + std::strerror(errno));
    }
    if (uid != 0 && ::setuid(0) == 0) throw std::runtime_error("dropped to \"" + user + "\" but could regain root");
}

}  // namespace greenfinch::daemon
