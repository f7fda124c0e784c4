/* Short TCP connections per second, for bench/throughput.sh.
 *
 *   connrate serve ADDR PORT               accept and close, until killed
 *   connrate connect SRC DST PORT SECONDS THREADS
 *       open connections from SRC to DST:PORT for SECONDS with THREADS
 *       threads; each is closed with a reset (SO_LINGER 0) as soon as the
 *       handshake is done, so no TIME_WAIT piles up. Prints
 *       "CONNECTIONS SECONDS FAILURES".
 *   connrate flood SRC DST PORT SECONDS
 *       send TCP SYNs from SRC to DST:PORT as fast as one thread can for
 *       SECONDS, each from a new source port (every one a new flow and a new
 *       key) and never answered; prints "PACKETS SECONDS".
 *
 * Every connection's SYN is a new flow for the gateway's connection
 * tracking, so it walks the gateway's ruleset; the rest of the connection is
 * accepted as established. IPv4 only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in src_addr, dst_addr;
static double deadline;
static atomic_long done, failed;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *client(void *arg) {
    (void)arg;
    struct linger reset = {1, 0};
    long n = 0, bad = 0;
    while (now() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            perror("socket");
            exit(1);
        }
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src_addr, sizeof src_addr) != 0) {
            perror("bind");
            exit(1);
        }
        if (connect(fd, (struct sockaddr *)&dst_addr, sizeof dst_addr) == 0)
            n++;
        else
            bad++;
        close(fd);
        if (bad > 1000 && n == 0) {
            fprintf(stderr, "connrate: no connection succeeds: %s\n", strerror(errno));
            exit(1);
        }
    }
    atomic_fetch_add(&done, n);
    atomic_fetch_add(&failed, bad);
    return NULL;
}

static void *server(void *arg) {
    int lfd = *(int *)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

/* A flood of SYNs: non-blocking connects, each closed at once (a socket in
 * SYN-SENT sends nothing more), so the kernel writes every packet. */
static long flood(double seconds, double *elapsed) {
    long sent = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        for (int burst = 0; burst < 64; burst++) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fd < 0) {
                perror("connrate: socket");
                exit(1);
            }
            int one = 1;
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            if (bind(fd, (struct sockaddr *)&src_addr, sizeof src_addr) != 0) {
                perror("connrate: bind");
                exit(1);
            }
            if (connect(fd, (struct sockaddr *)&dst_addr, sizeof dst_addr) != 0 &&
                errno == EINPROGRESS)
                sent++;
            close(fd);
        }
    }
    *elapsed = now() - start;
    return sent;
}

static void parse(struct sockaddr_in *sa, const char *addr, int port) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
        fprintf(stderr, "connrate: bad IPv4 address %s\n", addr);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "serve") == 0) {
        struct sockaddr_in sa;
        parse(&sa, argv[2], atoi(argv[3]));
        int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 4096) != 0) {
            perror("connrate: listen");
            return 1;
        }
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, server, &lfd);
        pthread_join(t[0], NULL);
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "connect") == 0) {
        parse(&src_addr, argv[2], 0);
        parse(&dst_addr, argv[3], atoi(argv[4]));
        double seconds = atof(argv[5]);
        int threads = atoi(argv[6]);
        if (threads < 1 || threads > 64 || seconds <= 0) {
            fprintf(stderr, "connrate: need 1-64 threads and a positive duration\n");
            return 2;
        }
        pthread_t t[64];
        double start = now();
        deadline = start + seconds;
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, client, NULL);
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
        printf("%ld %.3f %ld\n", atomic_load(&done), now() - start, atomic_load(&failed));
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "flood") == 0) {
        parse(&src_addr, argv[2], 0);
        parse(&dst_addr, argv[3], atoi(argv[4]));
        double elapsed;
        long sent = flood(atof(argv[5]), &elapsed);
        printf("%ld %.3f\n", sent, elapsed);
        return 0;
    }
    fprintf(stderr,
            "usage: connrate serve ADDR PORT\n"
            "       connrate connect SRC DST PORT SECONDS THREADS\n"
            "       connrate flood SRC DST PORT SECONDS\n");
    return 2;
}
