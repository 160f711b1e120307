/* udp_blast.c - send UDP datagrams of many flows to one port on lo, for bench_live.sh. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Usage: udp_blast PORT SECONDS [FLOWS [PPS [SIZE]]]
 * Sends SIZE-byte datagrams (default 64) from FLOWS sockets (default 256,
 * source ports chosen by the kernel) to 127.0.0.1:PORT for SECONDS, round
 * robin in bursts of 32 per flow (sendmmsg), as fast as it can (PPS 0, the
 * default) or at about PPS datagrams a second.  A socket bound to PORT that
 * never reads takes them (no ICMP errors; the kernel drops them after the
 * capture has seen them).  Prints "sent N cpu S" (S: its own CPU seconds). */

enum { BURST = 32 };

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: udp_blast PORT SECONDS [FLOWS [PPS [SIZE]]]\n");
    return 2;
  }
  int port = atoi(argv[1]), flows = argc > 3 ? atoi(argv[3]) : 256;
  double secs = atof(argv[2]), pps = argc > 4 ? atof(argv[4]) : 0;
  int size = argc > 5 ? atoi(argv[5]) : 64;
  if (flows < 1 || size < 1 || size > 1400 || port <= 0 || port > 65535) return 2;
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  int small = 4096;
  setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  if (bind(sink, (struct sockaddr *)&dst, sizeof dst) != 0) {
    perror("bind");
    return 1;
  }
  int *fd = calloc((size_t)flows, sizeof *fd);
  for (int i = 0; i < flows; i++)
    if ((fd[i] = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || connect(fd[i], (struct sockaddr *)&dst, sizeof dst) != 0) {
      perror("socket");
      return 1;
    }
  static char payload[1400];
  memset(payload, 'x', sizeof payload);
  struct iovec iov = { payload, (size_t)size };
  struct mmsghdr msg[BURST];
  memset(msg, 0, sizeof msg);
  for (int i = 0; i < BURST; i++) msg[i].msg_hdr.msg_iov = &iov, msg[i].msg_hdr.msg_iovlen = 1;
  unsigned long long sent = 0;
  double t0 = now(), end = t0 + secs;
  for (int f = 0;; f = (f + 1) % flows) {
    double t = now();
    if (t >= end) break;
    if (pps > 0 && sent > (t - t0) * pps) { /* ahead of the rate: wait a little */
      struct timespec nap = { 0, 200 * 1000 };
      nanosleep(&nap, NULL);
      continue;
    }
    int n = sendmmsg(fd[f], msg, BURST, 0);
    if (n > 0) sent += (unsigned)n;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("sent %llu cpu %.2f\n", sent,
         ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  return 0;
}
