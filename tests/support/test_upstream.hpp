// TestUpstream: a scriptable DNS server for tests, built on our own runtime and run on the test's hub.
//
// It listens on 127.0.0.1 with a kernel-chosen port, UDP and TCP alike, answers each query in its own greenlet, and
// does to each name what the test scripted: answer (an A record with a TTL, perhaps behind a CNAME), wait first, stay silent, SERVFAIL,
// NXDOMAIN (with an SOA whose MINIMUM is the script's TTL), answer TC=1 over UDP (the full answer over TCP), or answer
// with the wrong ID, or, as a server without EDNS, FORMERR without an OPT record to a query with one. Like a real
// server it answers an OPT record with one of its own (DO echoed; flags and options as scripted), and over UDP sends
// TC=1 instead of an answer larger than the query allows (512 bytes without EDNS). It counts the queries for each
// name, over TCP apart, and keeps the last one, so a test can prove how many reached it and what they asked.
#pragma once

#include "core/engine/greenlet.hpp"
#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"
#include "core/io/udp_tcp_pair.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/pool.hpp"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace greenfinch::test {

class TestUpstream {
public:
    // TcpServFail: TC=1 over UDP, then SERVFAIL over TCP.
    enum class Action { Answer, Drop, ServFail, NxDomain, Truncate, WrongId, NoEdns, TcpServFail };
    struct Script {
        Action action = Action::Answer;
        double delay = 0;  // seconds before answering
        std::uint32_t ttl = 300;
        std::array<std::uint8_t, 4> address{192, 0, 2, 1};
        std::uint16_t records = 1;  // A records in the answer (the last octet counts up): many make a big answer
        // The header flags of an answer besides QR, RD (echoed), TC and RCODE: RA as a resolver sets it; AA (0x0400)
        // as an authoritative server sets it, Z (0x0040) as a broken one might.
        std::uint16_t flags = 0x0080;
        std::uint16_t opt_flags = 0;  // OPT flags besides DO (echoed): unknown ones, which no one may pass on
        std::vector<std::uint8_t> opt_options{};  // the OPT record's RDATA (options such as NSID or a cookie)
        // Answer: a CNAME from the name to this one ("cdn.tracker.example") first, the A records then owned by it.
        std::string cname{};
    };

    TestUpstream();
    explicit TestUpstream(Script default_script);
    ~TestUpstream();
    TestUpstream(const TestUpstream&) = delete;
    TestUpstream& operator=(const TestUpstream&) = delete;

    // `name` in lowercase presentation form without the final dot ("www.example.com").
    void script(const std::string& name, Script s) { scripts_[name] = s; }
    core::SocketAddress address() const { return udp_.local_address(); }
    int count(const std::string& name) const;
    int tcp_count(const std::string& name) const;
    std::vector<std::byte> last_query(const std::string& name) const;
    int total() const noexcept { return total_; }
    // Parks until at least `n` queries have arrived in all; false if `timeout` passed first.
    bool wait_for_total(int n, core::Seconds timeout);

private:
    std::vector<std::byte> respond(std::span<const std::byte> query, bool over_tcp);
    void serve_udp();
    void serve_tcp_connection(core::TcpStream conn);

    Script default_;
    std::map<std::string, Script> scripts_;
    std::map<std::string, int> counts_;
    std::map<std::string, int> tcp_counts_;
    std::map<std::string, std::vector<std::byte>> last_queries_;
    int total_ = 0;
    core::Event arrived_;  // set on every query, cleared by the waiter in wait_for_total()
    core::UdpTcpPair sockets_;
    core::UdpSocket& udp_ = sockets_.udp;
    core::TcpListener& tcp_ = sockets_.tcp;
    core::Group greenlets_;
};

}  // namespace greenfinch::test
