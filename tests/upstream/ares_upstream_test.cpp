// c-ares on the hub against scripted upstreams on loopback.
#include "upstream/ares_upstream.hpp"
#include "core/engine/greenlet.hpp"
#include "core/io/socket.hpp"
#include "core/io/udp_socket.hpp"
#include "dns/message.hpp"
#include "dns/presentation.hpp"
#include "tests/dns/wire_builder.hpp"
#include "tests/support/private_network.hpp"
#include "tests/support/test_upstream.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <thread>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>

using namespace greenfinch;
using namespace std::chrono_literals;
using greenfinch::test::TestUpstream;
using greenfinch::test::Wire;
using Channel = upstream::AresUpstream;
using upstream::Outcome;

namespace {
std::vector<std::byte> query_for(const std::string& name, std::uint16_t id = 0x1234) {
    return Wire().header(id, 0x0100, 1, 0, 0, 0).question(name, dns::type::A);
}
Channel::Options options(std::vector<core::SocketAddress> servers, int attempt_ms = 500, int tries = 1) {
    return {.servers = std::move(servers), .attempt_timeout = std::chrono::milliseconds(attempt_ms), .tries = tries};
}
double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A TestUpstream on a thread and hub of its own: it answers while the channel's hub is busy or blocked, as a real
// upstream does.
class ThreadedUpstream {
public:
    explicit ThreadedUpstream(std::function<void(TestUpstream&)> setup) {
        std::promise<std::pair<core::Hub*, core::SocketAddress>> started;
        auto ready = started.get_future();
        thread_ = std::thread([&started, setup = std::move(setup)] {
            core::Hub hub;
            TestUpstream up;
            setup(up);
            started.set_value({&hub, up.address()});
            hub.run();
        });
        std::tie(hub_, address_) = ready.get();
    }
    ~ThreadedUpstream() {
        hub_->post([hub = hub_] { hub->stop(); });
        thread_.join();
    }
    core::SocketAddress address() const { return address_; }

private:
    std::thread thread_;
    core::Hub* hub_ = nullptr;
    core::SocketAddress address_;
};

// The UDP sockets of this process connected to `peer` (c-ares' sockets for that server).
std::vector<int> udp_sockets_connected_to(const core::SocketAddress& peer) {
    std::vector<int> found;
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return found;
    while (const dirent* e = ::readdir(dir)) {
        const int fd = std::atoi(e->d_name);
        struct stat st {};
        int type = 0;
        socklen_t type_length = sizeof(type);
        core::SocketAddress connected;
        socklen_t length = core::SocketAddress::capacity();
        if (e->d_name[0] == '.' || ::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
            ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 || type != SOCK_DGRAM ||
            ::getpeername(fd, connected.get(), &length) != 0) {
            continue;
        }
        *connected.size_ptr() = length;
        if (connected == peer) found.push_back(fd);
    }
    ::closedir(dir);
    return found;
}

// The last of them, or -1.
int udp_socket_connected_to(const core::SocketAddress& peer) {
    const auto all = udp_sockets_connected_to(peer);
    return all.empty() ? -1 : all.back();
}

// Waits (up to 5 s) until thread `tid` is blocked in poll(); false if it never gets there.
bool blocked_in_poll(pid_t tid) {
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(path);
        long number = -1;
        if (in >> number && (number == SYS_poll || number == SYS_ppoll)) return true;
        std::this_thread::yield();
    }
    return false;
}
}  // namespace

TEST_CASE("upstream: a query goes out under a fresh random ID and its answer comes back") {
    core::Hub hub;
    TestUpstream up;
    Channel ch(hub, options({up.address()}));
    auto r = ch.query(query_for("www.example"), 2s);
    REQUIRE(r.outcome == Outcome::Answered);
    dns::Message m;
    REQUIRE(dns::parse_message(r.answer, m) == dns::ParseStatus::Ok);
    CHECK(m.header.id == r.sent_id);
    CHECK(m.header.ancount == 1);
    CHECK(up.count("www.example") == 1);
    // IDs are random, not the client's: of 20 queries at most a couple may share the client's ID by chance.
    int same = 0;
    for (int i = 0; i < 20; ++i) same += ch.query(query_for("www.example"), 2s).sent_id == 0x1234 ? 1 : 0;
    CHECK(same <= 2);
    CHECK(ch.in_flight() == 0);
}

TEST_CASE("upstream: a silent server times out within the caller's budget") {
    core::Hub hub;
    TestUpstream up({TestUpstream::Action::Drop});
    Channel ch(hub, options({up.address()}, 5000));
    const auto t0 = std::chrono::steady_clock::now();
    auto r = ch.query(query_for("dead.example"), 200ms);
    CHECK(r.outcome == Outcome::TimedOut);
    CHECK(since(t0) >= 0.18);
    CHECK(since(t0) < 1.0);
}

TEST_CASE("upstream: when c-ares gives up first, the outcome is a timeout, long before the caller's") {
    core::Hub hub;
    TestUpstream up({TestUpstream::Action::Drop});
    Channel ch(hub, options({up.address()}, 100, 1));
    const auto t0 = std::chrono::steady_clock::now();
    auto r = ch.query(query_for("dead.example"), 5s);
    CHECK(r.outcome == Outcome::TimedOut);
    CHECK(since(t0) < 2.5);
}

TEST_CASE("upstream: failover to the next server when the first is silent or answers SERVFAIL") {
    core::Hub hub;
    TestUpstream silent({TestUpstream::Action::Drop});
    TestUpstream broken({TestUpstream::Action::ServFail});
    TestUpstream good;
    SECTION("silent first") {
        Channel ch(hub, options({silent.address(), good.address()}, 100, 1));
        auto r = ch.query(query_for("a.example"), 2s);
        CHECK(r.outcome == Outcome::Answered);
        CHECK(silent.count("a.example") == 1);
        CHECK(good.count("a.example") == 1);
    }
    SECTION("SERVFAIL first") {
        Channel ch(hub, options({broken.address(), good.address()}, 500, 1));
        auto r = ch.query(query_for("a.example"), 2s);
        REQUIRE(r.outcome == Outcome::Answered);
        dns::Message m;
        REQUIRE(dns::parse_message(r.answer, m) == dns::ParseStatus::Ok);
        CHECK(m.header.rcode() == dns::Rcode::NoError);
        CHECK(broken.count("a.example") == 1);
    }
}

TEST_CASE("upstream: after answered queries, a silent try still fails over on time") {
    core::Hub hub;
    TestUpstream first;
    first.script("late.example", {TestUpstream::Action::Drop});
    TestUpstream second;
    Channel ch(hub, options({first.address(), second.address()}, 300, 1));
    // The retry timer is set for the tries of queries answered at once, and only rearmed when it has to be.
    REQUIRE(ch.query(query_for("early.example"), 2s).outcome == Outcome::Answered);
    core::sleep(core::Seconds(0.2));  // had it stayed armed, it would now be due before a new try's attempt timeout
    const auto t0 = std::chrono::steady_clock::now();
    auto r = ch.query(query_for("late.example"), 2s);
    CHECK(r.outcome == Outcome::Answered);
    CHECK(second.count("late.example") == 1);
    CHECK(since(t0) >= 0.28);  // one attempt timeout on the silent server, not cut short by an old deadline ...
    CHECK(since(t0) < 0.6);    // ... nor stretched by it
}

TEST_CASE("upstream: a truncated UDP answer is retried over TCP") {
    core::Hub hub;
    TestUpstream up({TestUpstream::Action::Truncate});
    Channel ch(hub, options({up.address()}));
    auto r = ch.query(query_for("big.example"), 2s);
    REQUIRE(r.outcome == Outcome::Answered);
    dns::Message m;
    REQUIRE(dns::parse_message(r.answer, m) == dns::ParseStatus::Ok);
    CHECK_FALSE(m.truncated());
    CHECK(m.header.ancount == 1);
    CHECK(up.count("big.example") == 2);  // once over UDP, once over TCP
}

TEST_CASE("upstream: a channel that lost EDNS to a FORMERR is replaced, and big answers come over UDP again") {
    core::Hub hub;
    TestUpstream up({TestUpstream::Action::NoEdns});
    up.script("big.example", {TestUpstream::Action::Answer, 0, 300, {192, 0, 2, 1}, 40});  // about 680 bytes
    up.script("slow.example", {TestUpstream::Action::Answer, 0.2});
    const auto with_opt = [](const std::string& name) {
        return std::vector<std::byte>(Wire().header(1, 0x0100, 1, 0, 0, 1).question(name, dns::type::A).opt(1232));
    };
    const auto ask = [&](Channel& ch, const std::string& name) {
        auto r = ch.query(with_opt(name), 2s);
        REQUIRE(r.outcome == Outcome::Answered);
        dns::Message m;
        REQUIRE(dns::parse_message(r.answer, m) == dns::ParseStatus::Ok);
        CHECK(m.header.rcode() == dns::Rcode::NoError);
        return m.header.ancount;
    };
    auto o = options({up.address()});

    SECTION("not sooner than edns_retry_s: until then such answers are asked again over TCP") {
        o.edns_retry = 3600s;
        Channel ch(hub, o);
        CHECK(ask(ch, "old.example") == 1);
        CHECK(up.count("old.example") == 2);  // c-ares itself asked again without the OPT record
        CHECK(ask(ch, "big.example") == 40);
        CHECK(up.tcp_count("big.example") == 1);
    }
    SECTION("the old channel's queries still in flight are answered, then it is gone") {
        o.edns_retry = 0s;
        Channel ch(hub, o);
        auto slow = core::spawn([&] { return ask(ch, "slow.example"); });
        CHECK(ask(ch, "old.example") == 1);
        CHECK(ask(ch, "big.example") == 40);
        CHECK(up.count("big.example") == 1);
        CHECK(up.tcp_count("big.example") == 0);
        CHECK(udp_sockets_connected_to(up.address()).size() == 2);  // the old channel waits for slow.example
        CHECK(slow->get() == 1);
        CHECK(udp_sockets_connected_to(up.address()).size() == 1);
    }
}

TEST_CASE("upstream: an answer with the wrong ID is ignored") {
    core::Hub hub;
    TestUpstream up({TestUpstream::Action::WrongId});
    Channel ch(hub, options({up.address()}, 5000));
    auto r = ch.query(query_for("spoof.example"), 200ms);
    CHECK(r.outcome == Outcome::TimedOut);
}

TEST_CASE("upstream: the callback is safe after its greenlet was killed, and many queries run at once") {
    core::Hub hub;
    TestUpstream up;
    up.script("slow.example", {TestUpstream::Action::Answer, 0.05});
    Channel ch(hub, options({up.address()}));
    auto victim = core::spawn([&] { return ch.query(query_for("slow.example"), 5s); });
    core::sleep(10ms);
    victim->kill();
    CHECK(victim->killed());
    std::vector<core::Ref<core::Greenlet>> gs;
    int answered = 0;
    for (int i = 0; i < 100; ++i) {
        gs.push_back(core::spawn([&, i] {
            if (ch.query(query_for("n" + std::to_string(i) + ".example"), 5s).outcome == Outcome::Answered) {
                ++answered;
            }
        }));
    }
    core::joinall(gs);
    CHECK(answered == 100);
    core::sleep(100ms);  // the killed greenlet's answer arrives meanwhile, to no one
    CHECK(ch.in_flight() == 0);
    CHECK(up.count("slow.example") == 1);
}

TEST_CASE("upstream: answers already waiting when a query is sent are matched to their own queries") {
    core::Hub hub;
    ThreadedUpstream up([](TestUpstream& u) { u.script("late.example", {TestUpstream::Action::Answer, 0.05}); });
    Channel ch(hub, options({up.address()}, 2000));
    // The caller gives up on "late" before its answer comes; c-ares still waits for it.
    CHECK(ch.query(query_for("late.example"), 10ms).outcome == Outcome::TimedOut);
    CHECK(ch.in_flight() == 1);
    // Nothing runs on this hub meanwhile, so the late answer is waiting on the socket when the next query is sent,
    // and the read right after that send takes it: it must end the late query, and nothing else.
    std::this_thread::sleep_for(100ms);
    for (int i = 0; i < 50; ++i) {
        const std::string name = "n" + std::to_string(i) + ".example";
        auto r = ch.query(query_for(name), 2s);
        REQUIRE(r.outcome == Outcome::Answered);
        dns::Message m;
        REQUIRE(dns::parse_message(r.answer, m) == dns::ParseStatus::Ok);
        CHECK(m.header.id == r.sent_id);
        const auto asked = std::span(r.answer).subspan(m.question.name_offset, m.question.name_length);
        CHECK(std::ranges::equal(asked, *dns::wire_name(name)));
    }
    CHECK(ch.in_flight() == 0);
}

TEST_CASE("upstream: a stray datagram ahead of the answer does not hold the answer back") {
    // With one query in flight the channel reads one datagram at a time and takes the socket for empty after it;
    // here that one is a stray (its ID matches no query), and the answer behind it must still be read.
    core::Hub hub;
    auto upstream = core::UdpSocket::bind(core::SocketAddress::loopback_v4());
    auto responder = core::spawn([&upstream] {
        std::array<std::byte, 512> buf{};
        const auto [n, from] = upstream.recv_from(buf, 5s);
        std::vector<std::byte> answer(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        answer[2] |= std::byte{0x80};  // QR: a response, with no records (NODATA)
        std::vector<std::byte> stray = answer;
        stray[0] ^= std::byte{0x5a};
        upstream.send_to(stray, from);  // both queued before the channel's hub looks at its socket
        upstream.send_to(answer, from);
    });
    Channel ch(hub, options({upstream.local_address()}, 2000));
    const auto r = ch.query(query_for("stray.example"), 2s);
    CHECK(r.outcome == Outcome::Answered);
    CHECK(ch.in_flight() == 0);
    responder->join();
}

TEST_CASE("upstream: a TCP retry to a server that never completes the handshake does not stall the hub") {
    // c-ares leaves sockets from the channel's own socket functions as they come, so these must open them
    // non-blocking: a blocking connect() here would hold the hub (and every query on it) for the kernel's SYN retries.
    core::Hub hub;
    core::Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(core::SocketAddress::loopback_v4());
    const core::SocketAddress server = listener.local_address();
    // A backlog of 0 holds one connection that nobody accepts; once it is there, further SYNs are dropped.
    REQUIRE(::listen(listener.fd(), 0) == 0);
    const int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::connect(filler, server.get(), server.size()) == 0);
    // The same port over UDP answers every query with TC=1, which sends c-ares to TCP.
    auto udp = core::UdpSocket::bind(server);
    auto responder = core::spawn([&udp] {
        std::array<std::byte, 512> buf{};
        const auto [n, from] = udp.recv_from(buf, 5s);
        std::vector<std::byte> answer(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        answer[2] |= std::byte{0x82};  // QR and TC
        udp.send_to(answer, from);
    });
    // Should the hub block anyway, refusing the connection ends the wait at the next SYN retry (1 s, then 3 s) instead
    // of two minutes on: the test then fails on time, not by hanging.
    std::promise<void> done;
    std::thread refuse([&listener, &filler, returned = done.get_future()] {
        returned.wait_for(1500ms);
        ::close(filler);
        listener.close();
    });
    Channel ch(hub, options({server}, 2000));
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = ch.query(query_for("tcp.example"), 300ms);
    const double took = since(t0);
    done.set_value();
    refuse.join();
    responder->join();
    CHECK(r.outcome == Outcome::TimedOut);
    CHECK(took < 1.0);
}

TEST_CASE("upstream: a UDP send that finds the socket's buffer full waits briefly for room") {
    // c-ares 1.18 takes a UDP send that would block for a failed server: with one server the query fails at once.
    // On loopback a send buffer never fills, so this runs in a network namespace whose loopback holds every packet
    // in a queue: the socket's buffer then fills, and removing the queue makes room again.
    if (!test::PrivateNetwork::available()) {
        WARN("not root: a private network namespace needs root (CI runs as root)");
        return;
    }
    test::PrivateNetwork net;
    core::Hub hub;
    TestUpstream up;
    Channel ch(hub, options({up.address()}, 2000));
    REQUIRE(ch.query(query_for("warm.example"), 2s).outcome == Outcome::Answered);  // c-ares opens its socket
    const int fd = udp_socket_connected_to(up.address());
    REQUIRE(fd >= 0);
    net.hold_loopback();
    const auto filler = query_for("fill.example");
    int held = 0;
    while (::send(fd, filler.data(), filler.size(), MSG_DONTWAIT) >= 0) ++held;
    REQUIRE(errno == EAGAIN);
    INFO(held << " datagrams fill the send buffer");

    // No room comes: the send gives up after its short wait, and the query fails at once rather than at its deadline.
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(ch.query(query_for("held.example"), 2s).outcome == Outcome::Unreachable);
    CHECK(since(t0) >= 0.004);
    CHECK(since(t0) < 0.5);

    // Room comes while the send waits: the query goes out and is answered.
    const pid_t hub_thread = static_cast<pid_t>(::gettid());
    bool waited = false;
    std::string release_error;
    std::thread releaser([&] {
        waited = blocked_in_poll(hub_thread);
        try {
            net.release_loopback();
        } catch (const std::exception& e) {
            release_error = e.what();
        }
    });
    const auto r = ch.query(query_for("released.example"), 2s);
    releaser.join();
    CHECK(release_error.empty());
    CHECK(waited);
    CHECK(r.outcome == Outcome::Answered);
    CHECK(up.count("released.example") == 1);
    CHECK(up.count("held.example") == 0);
    CHECK(ch.in_flight() == 0);
}

TEST_CASE("upstream: once the first server is found dead queries start at the next, and the first is probed back") {
    core::Hub hub;
    TestUpstream first({TestUpstream::Action::Drop});
    TestUpstream second;
    Channel::Options o = options({first.address(), second.address()}, 200, 1);
    o.probe_interval = 0.5s;
    Channel ch(hub, o);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(ch.query(query_for("n0.example"), 2s).outcome == Outcome::Answered);
    CHECK(since(t0) >= 0.18);  // the first query found out: one attempt timeout
    core::sleep(20ms);
    t0 = std::chrono::steady_clock::now();
    for (int i = 1; i <= 5; ++i) {
        const std::string name = "n" + std::to_string(i) + ".example";
        REQUIRE(ch.query(query_for(name), 2s).outcome == Outcome::Answered);
        CHECK(first.count(name) == 0);
    }
    CHECK(since(t0) < 0.15);  // none of them waited on the dead server
    core::sleep(500ms);
    first.script("back.example", {TestUpstream::Action::Answer});
    first.script("after.example", {TestUpstream::Action::Answer});
    REQUIRE(ch.query(query_for("back.example"), 2s).outcome == Outcome::Answered);  // the probe
    CHECK(first.count("back.example") == 1);
    CHECK(second.count("back.example") == 0);
    REQUIRE(ch.query(query_for("after.example"), 2s).outcome == Outcome::Answered);
    CHECK(first.count("after.example") == 1);  // preferred again
    CHECK(second.count("after.example") == 0);
}
