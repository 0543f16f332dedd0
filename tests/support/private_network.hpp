// PrivateNetwork: the calling thread in a network namespace of its own, with its loopback up, for tests that do to
// the network what must not touch the machine's: here, holding loopback traffic in a queue so that a UDP socket's
// send buffer fills (on a plain loopback it never does: a datagram is delivered within the send call).
//
// Needs root (unshare and setns) and iproute2's tc. Threads the calling thread starts afterwards share the namespace;
// the destructor moves the calling thread back, so join those first. Sockets stay in the namespace they were opened in.
#pragma once

namespace greenfinch::test {

class PrivateNetwork {
public:
    static bool available();  // the process may create one (it runs as root)

    PrivateNetwork();  // throws std::runtime_error when it cannot
    ~PrivateNetwork();
    PrivateNetwork(const PrivateNetwork&) = delete;
    PrivateNetwork& operator=(const PrivateNetwork&) = delete;

    // From now on every packet sent over loopback waits in a token bucket filled at 8 bit/s: sends pile up in their
    // sockets' send buffers until release_loopback().
    void hold_loopback();
    // Removes that queue, dropping what it holds, with one netlink request: quick and safe from any thread.
    void release_loopback();

private:
    int original_ = -1;  // the namespace to go back to
    int netlink_ = -1;   // rtnetlink, opened inside this namespace
};

}  // namespace greenfinch::test
