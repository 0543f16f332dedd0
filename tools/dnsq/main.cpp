// dnsq: greenfinch's DNS client.
//
//   dnsq [@SERVER] [-p PORT] NAME [TYPE] [--tcp] [--dnssec] [--timeout SECONDS]
//       One query; prints the answer like dig (header, flags, sections with TTLs, time taken). Exits 0 when an answer
//       came (whatever its rcode), 1 when none did. A truncated UDP answer is retried over TCP, as dig does.
//   dnsq --file FILE [--concurrency N] [@SERVER] [-p PORT] [--tcp] [--timeout SECONDS]
//       Sends every "NAME [TYPE]" line of FILE, N at a time (each in its own greenlet; 1 = one after the other), and
//       prints a summary: answered, timed out, answers by rcode, queries per second, latency p50/p90/p99.
//       Exits 0 when every query was answered.
//   dnsq --flush NAME --admin ADDR:PORT      (or --flush-all)
//       Asks greenfinch's admin endpoint ([metrics] listen, loopback only) to drop NAME, every type, or the whole
//       cache, from memory and Redis. Prints its reply; exits 0 when it was done.
// The server defaults to 127.0.0.1 port 5335, greenfinch's own default.
#include "core/engine/greenlet.hpp"
#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"
#include "core/primitives/pool.hpp"
#include "dns/message.hpp"
#include "dns/presentation.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace greenfinch;

namespace {

using Clock = std::chrono::steady_clock;

struct Reply {
    std::vector<std::byte> wire;
    bool over_tcp = false;
};

// One exchange; nullopt on timeout or a socket error. Retries over TCP when the UDP answer is truncated.
std::optional<Reply> exchange(const std::vector<std::byte>& query, const core::SocketAddress& server, bool tcp,
                              core::Seconds timeout, bool announce_tc) {
    const std::uint16_t id = dns::read_u16(query, 0);
    try {
        if (!tcp) {
            auto sock = core::UdpSocket::open(server.family());
            sock.send_to(query, server);
            const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
            std::vector<std::byte> buf(65535);
            for (;;) {
                const auto left = std::chrono::duration<double>(deadline - Clock::now());
                if (left.count() <= 0) return std::nullopt;
                const auto [n, from] = sock.recv_from(buf, left);
                const std::optional<dns::Header> h = dns::parse_header(std::span(buf).first(n));
                if (!h || !(from == server) || h->id != id) continue;  // not ours
                buf.resize(n);
                if (!h->tc()) return Reply{.wire = std::move(buf), .over_tcp = false};
                if (announce_tc) std::printf(";; Truncated, retrying in TCP mode.\n");
                break;
            }
        }
        auto conn = core::TcpStream::connect(server, timeout);
        std::vector<std::byte> framed(2);
        dns::write_u16(framed, 0, static_cast<std::uint16_t>(query.size()));
        framed.insert(framed.end(), query.begin(), query.end());
        conn.write_all(framed, timeout);
        std::array<std::byte, 2> len{};
        if (!conn.read_exact(len, timeout)) return std::nullopt;
        std::vector<std::byte> answer(dns::read_u16(len, 0));
        if (!conn.read_exact(answer, timeout)) return std::nullopt;
        return Reply{.wire = std::move(answer), .over_tcp = true};
    } catch (const core::SocketTimeout&) {
        return std::nullopt;
    } catch (const std::system_error& e) {
        std::fprintf(stderr, ";; %s\n", e.what());
        return std::nullopt;
    }
}

std::optional<std::vector<std::byte>> make_query(const std::string& name, const std::string& type, bool dnssec) {
    const auto qtype = dns::type_from_name(type);
    if (!qtype) {
        std::fprintf(stderr, "dnsq: unknown type %s\n", type.c_str());
        return std::nullopt;
    }
    auto q = dns::build_query(name, *qtype, static_cast<std::uint16_t>(::arc4random()), 1232, dnssec);
    if (!q) std::fprintf(stderr, "dnsq: not a valid domain name: %s\n", name.c_str());
    return q;
}

int single(const std::string& name, const std::string& type, const core::SocketAddress& server, bool tcp, bool dnssec,
           core::Seconds timeout) {
    auto query = make_query(name, type, dnssec);
    if (!query) return 2;
    const auto t0 = Clock::now();
    auto reply = exchange(*query, server, tcp, timeout, true);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!reply) {
        std::printf(";; no answer from %s within %.1f s\n", server.to_string().c_str(), timeout.count());
        return 1;
    }
    dns::Message m;
    if (dns::parse_message(reply->wire, m) != dns::ParseStatus::Ok) {
        std::printf(";; malformed answer (%zu bytes) from %s\n", reply->wire.size(), server.to_string().c_str());
        return 1;
    }
    std::printf("%s\n;; Query time: %.1f msec\n;; SERVER: %s (%s)\n;; MSG SIZE  rcvd: %zu\n",
                dns::format_message(reply->wire, m).c_str(), ms, server.to_string().c_str(),
                reply->over_tcp ? "TCP" : "UDP", reply->wire.size());
    return 0;
}

int batch(const std::string& file, int concurrency, const core::SocketAddress& server, bool tcp, bool dnssec,
          core::Seconds timeout) {
    std::ifstream in(file);
    if (!in) {
        std::fprintf(stderr, "dnsq: cannot read %s\n", file.c_str());
        return 2;
    }
    std::vector<std::vector<std::byte>> queries;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string name, type = "A";
        if (!(words >> name) || name[0] == '#') continue;
        words >> type;
        auto q = make_query(name, type, dnssec);
        if (!q) return 2;
        queries.push_back(std::move(*q));
    }
    std::vector<double> latencies;
    std::map<std::string, int> rcodes;
    int timed_out = 0;
    core::Pool pool(std::max(1, concurrency));
    const auto t0 = Clock::now();
    for (const auto& q : queries) {
        pool.spawn([&, &q = q] {
            const auto start = Clock::now();
            auto reply = exchange(q, server, tcp, timeout, false);
            const std::optional<dns::Header> h = reply ? dns::parse_header(reply->wire) : std::nullopt;
            if (!h) {
                ++timed_out;
                return;
            }
            latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
            ++rcodes[dns::rcode_name(static_cast<unsigned>(h->rcode()))];
        });
    }
    pool.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
        if (latencies.empty()) return 0.0;
        return latencies[std::min(latencies.size() - 1,
                                  static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
    };
    std::printf("queries: %zu, answered: %zu, timed out: %d\n", queries.size(), latencies.size(), timed_out);
    std::printf("rcodes:");
    for (const auto& [rc, n] : rcodes) std::printf(" %s=%d", rc.c_str(), n);
    std::printf("\nqueries/s: %.0f\nlatency ms: p50 %.2f, p90 %.2f, p99 %.2f\n",
                seconds > 0 ? static_cast<double>(queries.size()) / seconds : 0.0, pct(0.50), pct(0.90), pct(0.99));
    return timed_out == 0 ? 0 : 1;
}

// One HTTP POST to greenfinch's admin endpoint; 0 on 200.
int flush(const std::string& admin_text, const std::string& name, core::Seconds timeout) {
    auto admin = core::SocketAddress::parse(admin_text);
    if (!admin) {
        std::fprintf(stderr, "dnsq: --admin must be ADDR:PORT: %s\n", admin_text.c_str());
        return 2;
    }
    std::string target = "/cache/flush";
    if (!name.empty()) {
        target += "?name=";
        for (unsigned char c : name) {
            if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
                target += static_cast<char>(c);
            } else {
                char hex[4];
                std::snprintf(hex, sizeof(hex), "%%%02X", c);
                target += hex;
            }
        }
    }
    const std::string request =
        "POST " + target + " HTTP/1.1\r\nHost: " + admin_text + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    std::string reply;
    try {
        auto conn = core::TcpStream::connect(*admin, timeout);
        conn.write_all(std::as_bytes(std::span(request)), timeout);
        std::array<std::byte, 4096> buf{};
        while (const std::size_t n = conn.read_some(buf, timeout))
            reply.append(reinterpret_cast<const char*>(buf.data()), n);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dnsq: admin endpoint %s: %s\n", admin_text.c_str(), e.what());
        return 1;
    }
    const auto body = reply.find("\r\n\r\n");
    std::printf("%s", body == std::string::npos ? reply.c_str() : reply.c_str() + body + 4);
    return reply.starts_with("HTTP/1.1 200") ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"dnsq: query a DNS server (by default greenfinch on 127.0.0.1:5335)"};
    std::vector<std::string> words;
    int port = 5335;
    bool tcp = false;
    bool dnssec = false;
    double timeout = 5.0;
    std::string file;
    int concurrency = 10;
    std::string flush_name;
    bool flush_all = false;
    std::string admin = "127.0.0.1:9153";
    app.add_option("args", words, "[@SERVER] NAME [TYPE]");
    app.add_option("-p,--port", port, "server port")->capture_default_str();
    app.add_flag("--tcp", tcp, "query over TCP");
    app.add_flag("--dnssec", dnssec, "set the DO bit (ask for DNSSEC records)");
    app.add_option("--timeout", timeout, "seconds to wait for an answer")->capture_default_str();
    app.add_option("--file", file, "query every \"NAME [TYPE]\" line of FILE and print a summary");
    app.add_option("--concurrency", concurrency, "with --file: queries in flight at once")->capture_default_str();
    app.add_option("--flush", flush_name, "drop NAME (every type) from greenfinch's cache, memory and Redis");
    app.add_flag("--flush-all", flush_all, "drop greenfinch's whole cache");
    app.add_option("--admin", admin, "greenfinch's admin endpoint ([metrics] listen)")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (!flush_name.empty() || flush_all) {
        core::Hub hub;
        return flush(admin, flush_all ? std::string() : flush_name, core::Seconds(timeout));
    }

    std::string server_text = "127.0.0.1";
    std::vector<std::string> rest;
    for (auto& w : words) {
        if (!w.empty() && w[0] == '@')
            server_text = w.substr(1);
        else
            rest.push_back(w);
    }
    if (port < 1 || port > 65535) {
        std::fprintf(stderr, "dnsq: bad port %d\n", port);
        return 2;
    }
    auto server = core::SocketAddress::parse(server_text, static_cast<std::uint16_t>(port));
    if (!server) {
        std::fprintf(stderr, "dnsq: server must be an IP address: %s\n", server_text.c_str());
        return 2;
    }
    core::Hub hub;
    if (!file.empty()) return batch(file, concurrency, *server, tcp, dnssec, core::Seconds(timeout));
    if (rest.empty() || rest.size() > 2) {
        std::fprintf(stderr, "usage: dnsq [@SERVER] [-p PORT] NAME [TYPE] [--tcp] [--dnssec] [--timeout SECONDS]\n");
        return 2;
    }
    return single(rest[0], rest.size() > 1 ? rest[1] : "A", *server, tcp, dnssec, core::Seconds(timeout));
}
