/* Saturating client for sat_kqps_core: keeps WINDOW queries for one name in flight against 127.0.0.1:PORT for
   SECONDS, with sendmmsg/recvmmsg so that the client is rarely what limits the server, and prints
   "ANSWERS ELAPSED_SECONDS". Answers are counted, not checked: the harness checks the server answers first.
   A reply that is lost leaves its slot in the window empty; after 100 ms without a reply the whole window is
   taken as lost and refilled, so a server that drops does not stall the run.

   usage: blaster PORT WINDOW SECONDS NAME */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum { BATCH = 64, MAXQ = 300, MAXR = 512 };

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* A query for NAME, type A, class IN, recursion desired; returns its length, 0 if NAME does not fit. */
static size_t make_query(unsigned char *q, const char *name) {
    static const unsigned char header[12] = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t n = sizeof header;
    memcpy(q, header, n);
    while (*name) {
        size_t len = strcspn(name, ".");
        if (len == 0 || len > 63 || n + len + 6 > MAXQ) return 0;
        q[n++] = (unsigned char)len;
        memcpy(q + n, name, len);
        n += len;
        name += len;
        if (*name == '.') name++;
    }
    static const unsigned char tail[5] = {0, 0, 1, 0, 1}; /* root label, QTYPE A, QCLASS IN */
    memcpy(q + n, tail, sizeof tail);
    return n + sizeof tail;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT WINDOW SECONDS NAME\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), window = atoi(argv[2]);
    double duration = atof(argv[3]);
    static unsigned char query[MAXQ], replies[BATCH][MAXR];
    size_t qlen = make_query(query, argv[4]);
    if (!qlen) {
        fprintf(stderr, "bad name %s\n", argv[4]);
        return 2;
    }

    int fd = socket(AF_INET, SOCK_DGRAM, 0), buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(port)};
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
        perror("socket");
        return 1;
    }

    /* Every outgoing message points at the same query; every incoming one has its own buffer. */
    struct mmsghdr out[BATCH], in[BATCH];
    struct iovec out_iov = {.iov_base = query, .iov_len = qlen}, in_iov[BATCH];
    memset(out, 0, sizeof out);
    memset(in, 0, sizeof in);
    for (int i = 0; i < BATCH; i++) {
        out[i].msg_hdr.msg_iov = &out_iov;
        out[i].msg_hdr.msg_iovlen = 1;
        in_iov[i] = (struct iovec){.iov_base = replies[i], .iov_len = MAXR};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }

    long in_flight = 0, answers = 0;
    double start = seconds(), last_reply = start, now = start;
    while (now - start < duration) {
        while (in_flight < window) {
            int want = window - in_flight < BATCH ? (int)(window - in_flight) : BATCH;
            int sent = sendmmsg(fd, out, want, 0);
            if (sent <= 0) break;
            in_flight += sent;
        }
        int got = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
        now = seconds();
        if (got > 0) {
            answers += got;
            in_flight -= got;
            if (in_flight < 0) in_flight = 0;
            last_reply = now;
        } else if (now - last_reply > 0.1) {
            in_flight = 0;
            last_reply = now;
        }
    }
    printf("%ld %.3f\n", answers, seconds() - start);
    return 0;
}
