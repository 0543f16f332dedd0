/* The cached-answer floor: a UDP responder on 127.0.0.1:PORT that sends every datagram back with the QR bit set,
   in batches of recvmmsg/sendmmsg. It does no DNS work at all, so what it costs per query is what the kernel and
   the client cost: no forwarder can answer from its cache for less.

   usage: echo_floor PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { BATCH = 64, MAXMSG = 1500 };

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0), buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in self = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&self, sizeof self) != 0) {
        perror("bind");
        return 1;
    }

    static unsigned char msg[BATCH][MAXMSG];
    static struct sockaddr_in peer[BATCH];
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    for (;;) {
        /* recvmmsg overwrites the lengths, so the headers are set afresh before every batch. */
        memset(m, 0, sizeof m);
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = msg[i], .iov_len = MAXMSG};
            m[i].msg_hdr = (struct msghdr){.msg_name = &peer[i], .msg_namelen = sizeof peer[i],
                                           .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) continue;
        int k = 0; /* datagrams too short to be DNS are dropped; the rest are compacted to the front */
        for (int i = 0; i < n; i++) {
            if (m[i].msg_len < 12) continue;
            msg[i][2] |= 0x80;
            iov[i].iov_len = m[i].msg_len;
            if (k != i) {
                iov[k] = iov[i];
                m[k].msg_hdr = m[i].msg_hdr;
                m[k].msg_hdr.msg_iov = &iov[k];
            }
            k++;
        }
        if (k) sendmmsg(fd, m, k, 0);
    }
}
