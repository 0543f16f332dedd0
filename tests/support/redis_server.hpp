// RedisServer: a real redis-server for a test, on a free loopback port and a unix socket in a private directory,
// with no persistence. Stopped (and its directory removed) when the object goes; kill() and start() let a test take
// it away and bring it back on the same port, as an operator's restart would.
//
// command() talks to it synchronously (hiredis' blocking API), for the test's own checks and for slowing it down
// (CLIENT PAUSE, DEBUG SLEEP). It blocks the test's thread, so keep it off paths where the hub must run.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace greenfinch::test {

struct SyncReply {
    bool ok = false;  // false: no connection, or an error reply
    std::string str;  // string, status or error text
    long long integer = 0;
    std::vector<std::string> elements;
};

class RedisServer {
public:
    // `password`: requirepass, when not empty.
    explicit RedisServer(std::string password = "");
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string unix_address() const { return "unix:" + socket_path(); }
    int port() const noexcept { return port_; }

    void start();  // waits until it accepts connections
    void kill();   // SIGKILL, as a crash would

    SyncReply command(const std::vector<std::string>& args, int db = 0) const;

private:
    std::string socket_path() const { return dir_ + "/redis.sock"; }

    std::string password_;
    std::string dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace greenfinch::test
