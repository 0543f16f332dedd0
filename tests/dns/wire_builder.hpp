// Builds DNS messages byte by byte for tests, including broken ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace greenfinch::test {

class Wire {
public:
    Wire& u8(unsigned v) {
        bytes_.push_back(static_cast<std::byte>(v & 0xff));
        return *this;
    }
    Wire& u16(unsigned v) { return u8(v >> 8).u8(v); }
    Wire& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
    Wire& raw(std::initializer_list<unsigned> bs) {
        for (auto b : bs) u8(b);
        return *this;
    }
    // "www.example.com" (or "" / "." for the root) as uncompressed labels.
    Wire& name(std::string_view dotted) {
        while (!dotted.empty() && dotted != ".") {
            const auto dot = dotted.find('.');
            const auto label = dotted.substr(0, dot);
            u8(static_cast<unsigned>(label.size()));
            for (char c : label) u8(static_cast<unsigned char>(c));
            dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        }
        return u8(0);
    }
    Wire& pointer(unsigned offset) { return u16(0xc000 | offset); }
    Wire& header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }
    Wire& question(std::string_view qname, unsigned qtype, unsigned qclass = 1) {
        return name(qname).u16(qtype).u16(qclass);
    }
    // TYPE, CLASS, TTL, RDLENGTH after an owner name the caller wrote.
    Wire& rr_fixed(unsigned rtype, std::uint32_t ttl, unsigned rdlength, unsigned rclass = 1) {
        return u16(rtype).u16(rclass).u32(ttl).u16(rdlength);
    }
    Wire& opt(unsigned udp_size, bool dnssec_ok = false) {
        return u8(0).u16(41).u16(udp_size).u32(dnssec_ok ? 0x8000 : 0).u16(0);
    }
    std::size_t size() const { return bytes_.size(); }
    const std::vector<std::byte>& bytes() const { return bytes_; }
    operator std::vector<std::byte>() const { return bytes_; }

private:
    std::vector<std::byte> bytes_;
};

}  // namespace greenfinch::test
