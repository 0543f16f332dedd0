/* The forwarded-query floor: a bare UDP forwarder from 127.0.0.1:PORT to 127.0.0.1:UPSTREAM_PORT. One epoll loop,
   recvmmsg/sendmmsg batches, one connected upstream socket; each query's ID is replaced by a counter and the
   client's address and ID are kept in a table indexed by it, which is all a forwarder must do. No cache, no parsing,
   no retries: its miss_* figures are what the kernel and the client cost for a forwarded query. (It forwards its
   hit_* queries too, so those are not a floor.)

   usage: forward_floor PORT UPSTREAM_PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

enum { BATCH = 64, MAXMSG = 1500 };

static struct pending {
    struct sockaddr_in client;
    unsigned char id[2];
} pending[65536];

static int udp_socket(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0), buf = 4 << 20;
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    return fd;
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* Moves up to BATCH datagrams from one socket to the other; returns how many it read. */
static int relay(int from, int to, int towards_upstream) {
    static unsigned char msg[BATCH][MAXMSG];
    static struct sockaddr_in peer[BATCH];
    static uint16_t next_id;
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = msg[i], .iov_len = MAXMSG};
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &peer[i];
        m[i].msg_hdr.msg_namelen = sizeof peer[i];
    }
    int n = recvmmsg(from, m, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        unsigned char *p = msg[i];
        if (m[i].msg_len < 12) continue;
        struct msghdr h = {.msg_iov = &iov[k], .msg_iovlen = 1};
        if (towards_upstream) {
            struct pending *slot = &pending[next_id];
            slot->client = peer[i];
            memcpy(slot->id, p, 2);
            p[0] = next_id >> 8;
            p[1] = next_id & 0xff;
            next_id++;
        } else {
            struct pending *slot = &pending[p[0] << 8 | p[1]];
            memcpy(p, slot->id, 2);
            h.msg_name = &slot->client;
            h.msg_namelen = sizeof slot->client;
        }
        iov[k] = (struct iovec){.iov_base = p, .iov_len = m[i].msg_len};
        m[k].msg_hdr = h;
        k++;
    }
    if (k) sendmmsg(to, m, k, 0);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT UPSTREAM_PORT\n", argv[0]);
        return 2;
    }
    int clients = udp_socket(), upstream = udp_socket();
    struct sockaddr_in self = loopback(atoi(argv[1])), up = loopback(atoi(argv[2]));
    if (bind(clients, (struct sockaddr *)&self, sizeof self) != 0 ||
        connect(upstream, (struct sockaddr *)&up, sizeof up) != 0) {
        perror("bind/connect");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = clients};
    epoll_ctl(ep, EPOLL_CTL_ADD, clients, &e);
    e.data.fd = upstream;
    epoll_ctl(ep, EPOLL_CTL_ADD, upstream, &e);
    for (;;) {
        struct epoll_event ready[2];
        int n = epoll_wait(ep, ready, 2, -1);
        for (int i = 0; i < n; i++) {
            int from = ready[i].data.fd, to_up = from == clients;
            while (relay(from, to_up ? upstream : clients, to_up) == BATCH) {
            }
        }
    }
}
