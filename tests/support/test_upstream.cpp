#include "tests/support/test_upstream.hpp"

#include "core/engine/waiter.hpp"
#include "core/primitives/semaphore.hpp"
#include "dns/bytes.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace greenfinch::test {

namespace {
std::string lower_name(std::span<const std::byte> query, const dns::Message& m) {
    std::string text;
    dns::append_presentation(text, query.subspan(m.question.name_offset, m.question.name_length));
    if (text.size() > 1 && text.back() == '.') text.pop_back();
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}
void put16(std::vector<std::byte>& v, unsigned x) {
    v.push_back(static_cast<std::byte>(x >> 8));
    v.push_back(static_cast<std::byte>(x & 0xff));
}
void put32(std::vector<std::byte>& v, std::uint32_t x) {
    put16(v, x >> 16);
    put16(v, x & 0xffff);
}
}  // namespace

TestUpstream::TestUpstream() : TestUpstream(Script{}) {}

TestUpstream::TestUpstream(Script default_script)
    : default_(default_script),
      sockets_(core::bind_udp_and_tcp(core::SocketAddress::loopback_v4())) {
    greenlets_.spawn([this] { serve_udp(); });
    greenlets_.spawn([this] {
        for (;;) {
            core::TcpStream conn = tcp_.accept();
            greenlets_.spawn([this](core::TcpStream c) { serve_tcp_connection(std::move(c)); }, std::move(conn));
        }
    });
}

TestUpstream::~TestUpstream() { greenlets_.kill(); }

int TestUpstream::count(const std::string& name) const {
    auto it = counts_.find(name);
    return it == counts_.end() ? 0 : it->second;
}

int TestUpstream::tcp_count(const std::string& name) const {
    auto it = tcp_counts_.find(name);
    return it == tcp_counts_.end() ? 0 : it->second;
}

std::vector<std::byte> TestUpstream::last_query(const std::string& name) const {
    auto it = last_queries_.find(name);
    return it == last_queries_.end() ? std::vector<std::byte>{} : it->second;
}

bool TestUpstream::wait_for_total(int n, core::Seconds timeout) {
    core::Deadline deadline(core::Hub::current(), timeout);
    while (total_ < n) {
        arrived_.clear();
        if (!arrived_.wait(deadline.remaining())) return total_ >= n;
    }
    return true;
}

std::vector<std::byte> TestUpstream::respond(std::span<const std::byte> query, bool over_tcp) {
    dns::Message m;
    if (dns::parse_message(query, m) != dns::ParseStatus::Ok) return {};
    const std::string name = lower_name(query, m);
    ++counts_[name];
    if (over_tcp) ++tcp_counts_[name];
    last_queries_[name].assign(query.begin(), query.end());
    ++total_;
    arrived_.set();
    auto it = scripts_.find(name);
    const Script s = it == scripts_.end() ? default_ : it->second;
    if (s.delay > 0) core::sleep(core::Seconds(s.delay));
    if (s.action == Action::Drop) return {};

    std::vector<std::byte> r(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(m.question.end));
    if (s.action == Action::NoEdns && m.edns.present) {
        dns::write_u16(r, 2, static_cast<std::uint16_t>(0x8181 | (m.header.flags & 0x0100)));  // FORMERR
        dns::write_u16(r, 10, 0);
        return r;
    }
    std::uint16_t flags = static_cast<std::uint16_t>(0x8000 | s.flags | (m.header.flags & 0x0100));
    std::uint16_t an = 0, ns = 0;
    std::vector<std::byte> records;
    const bool tc = (s.action == Action::Truncate || s.action == Action::TcpServFail) && !over_tcp;
    if (s.action == Action::ServFail || (s.action == Action::TcpServFail && over_tcp)) {
        flags |= 2;
    } else if (s.action == Action::NxDomain || (m.question.qtype != dns::type::A && !tc)) {
        if (s.action == Action::NxDomain) flags |= 3;
        ns = 1;  // SOA: owner, MNAME and RNAME all the query name
        put16(records, 0xc00c);
        put16(records, dns::type::SOA);
        put16(records, dns::kClassIN);
        put32(records, 3600);
        put16(records, 2 + 2 + 20);
        put16(records, 0xc00c);
        put16(records, 0xc00c);
        for (std::uint32_t v : {1u, 7200u, 900u, 86400u}) put32(records, v);
        put32(records, s.ttl);
    } else if (tc) {
        flags |= 0x0200;
    } else {
        an = s.records;
        std::uint16_t owner = 0xc00c;
        if (!s.cname.empty()) {
            const std::vector<std::byte> target = *dns::wire_name(s.cname);
            ++an;
            put16(records, 0xc00c);
            put16(records, dns::type::CNAME);
            put16(records, dns::kClassIN);
            put32(records, s.ttl);
            put16(records, static_cast<unsigned>(target.size()));
            owner = static_cast<std::uint16_t>(0xc000 | (r.size() + records.size()));
            records.insert(records.end(), target.begin(), target.end());
        }
        for (std::uint16_t i = 0; i < s.records; ++i) {
            put16(records, owner);
            put16(records, dns::type::A);
            put16(records, dns::kClassIN);
            put32(records, s.ttl);
            put16(records, 4);
            for (int b = 0; b < 3; ++b)
                records.push_back(static_cast<std::byte>(s.address[static_cast<std::size_t>(b)]));
            records.push_back(static_cast<std::byte>((s.address[3] + i) & 0xff));
        }
    }
    const std::size_t opt_size = m.edns.present ? 11 + s.opt_options.size() : 0;
    const std::size_t limit = m.edns.present ? std::max<std::size_t>(512, m.edns.udp_size) : 512;
    if (!over_tcp && r.size() + records.size() + opt_size > limit) {
        flags |= 0x0200;
        an = ns = 0;
    } else {
        r.insert(r.end(), records.begin(), records.end());
    }
    if (m.edns.present) {
        r.push_back(std::byte{0});
        put16(r, dns::type::OPT);
        put16(r, 1232);
        put32(r, (m.edns.dnssec_ok ? 0x8000u : 0u) | s.opt_flags);
        put16(r, static_cast<unsigned>(s.opt_options.size()));
        for (const std::uint8_t b : s.opt_options) r.push_back(static_cast<std::byte>(b));
    }
    if (s.action == Action::WrongId) dns::write_u16(r, 0, static_cast<std::uint16_t>(m.header.id ^ 0x5a5a));
    dns::write_u16(r, 2, flags);
    dns::write_u16(r, 6, an);
    dns::write_u16(r, 8, ns);
    dns::write_u16(r, 10, m.edns.present ? 1 : 0);
    return r;
}

void TestUpstream::serve_udp() {
    for (;;) {
        std::array<std::byte, 4096> buf{};
        const auto [n, from] = udp_.recv_from(buf);
        std::vector<std::byte> query(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        greenlets_.spawn(
            [this, from](std::vector<std::byte> q) {
                auto r = respond(q, false);
                if (!r.empty()) udp_.send_to(r, from);
            },
            std::move(query));
    }
}

void TestUpstream::serve_tcp_connection(core::TcpStream conn) {
    auto write_lock = std::make_shared<core::Lock>();
    try {
        for (;;) {
            std::array<std::byte, 2> len{};
            if (!conn.read_exact(len)) return;
            std::vector<std::byte> q(dns::read_u16(len, 0));
            if (!conn.read_exact(q)) return;
            auto r = respond(q, true);
            if (r.empty()) continue;
            std::lock_guard guard(*write_lock);
            std::array<std::byte, 2> out_len{};
            dns::write_u16(out_len, 0, static_cast<std::uint16_t>(r.size()));
            conn.write_all(out_len);
            conn.write_all(r);
        }
    } catch (const std::system_error&) {}
}

}  // namespace greenfinch::test
