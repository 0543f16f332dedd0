#include "tests/support/redis_server.hpp"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace greenfinch::test {

namespace {
// A port the kernel just handed out and took back. redis-server cannot take port 0, so this is the best there is;
// start() retries with a new port if another process got there first.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
}
}  // namespace

RedisServer::RedisServer(std::string password) : password_(std::move(password)) {
    char templ[] = "/tmp/greenfinch-redis-XXXXXX";
    if (!::mkdtemp(templ)) throw std::runtime_error("mkdtemp");
    dir_ = templ;
    port_ = free_port();
    start();
}

RedisServer::~RedisServer() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void RedisServer::start() {
    for (int attempt = 0; attempt < 5; ++attempt) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        std::vector<std::string> args = {"redis-server",
                                         "--port",
                                         std::to_string(port_),
                                         "--bind",
                                         "127.0.0.1",
                                         "--unixsocket",
                                         socket_path(),
                                         "--unixsocketperm",
                                         "700",
                                         "--dir",
                                         dir_,
                                         "--save",
                                         "",
                                         "--appendonly",
                                         "no",
                                         "--daemonize",
                                         "no",
                                         "--logfile",
                                         "",
                                         "--enable-debug-command",
                                         "yes"};
        if (!password_.empty()) args.insert(args.end(), {"--requirepass", password_});
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
        const int rc = ::posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        if (rc != 0) {
            ::close(out[0]);
            throw std::runtime_error("cannot start redis-server (is it installed?)");
        }
        // Its log says when it is ready, or why it is not.
        std::string log;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        bool ready = false;
        while (!ready && std::chrono::steady_clock::now() < deadline) {
            pollfd p{out[0], POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            char buf[1024];
            const ssize_t n = ::read(out[0], buf, sizeof(buf));
            if (n <= 0) break;  // it exited
            log.append(buf, static_cast<std::size_t>(n));
            ready = log.find("Ready to accept connections") != std::string::npos;
        }
        ::close(out[0]);  // later log lines go nowhere; redis-server ignores SIGPIPE
        if (ready) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        if (log.find("Address already in use") == std::string::npos) {
            throw std::runtime_error("redis-server did not start:\n" + log);
        }
        port_ = free_port();
    }
    throw std::runtime_error("redis-server found no free port");
}

void RedisServer::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    ::unlink(socket_path().c_str());
}

SyncReply RedisServer::command(const std::vector<std::string>& args, int db) const {
    SyncReply out;
    timeval tv{5, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return out;
    }
    auto run = [c](const std::vector<std::string>& a) {
        std::vector<const char*> p;
        std::vector<std::size_t> l;
        for (const auto& s : a) {
            p.push_back(s.data());
            l.push_back(s.size());
        }
        return static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(a.size()), p.data(), l.data()));
    };
    if (!password_.empty()) freeReplyObject(run({"AUTH", password_}));
    if (db != 0) freeReplyObject(run({"SELECT", std::to_string(db)}));
    if (redisReply* r = run(args)) {
        out.ok = r->type != REDIS_REPLY_ERROR;
        if (r->str) out.str.assign(r->str, r->len);
        out.integer = r->integer;
        for (std::size_t i = 0; i < r->elements; ++i) {
            const redisReply* e = r->element[i];
            out.elements.emplace_back(e->str ? std::string(e->str, e->len) : std::to_string(e->integer));
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return out;
}

}  // namespace greenfinch::test
