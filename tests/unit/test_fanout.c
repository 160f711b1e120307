/* test_fanout.c - po_source_open_fanout on lo: K handles in one PACKET_FANOUT group, each flow in one, every packet once. */
#include "../../src/po.h"
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Usage: test_fanout CAPTURE_FILE.  Needs the right to capture on lo (root or
 * CAP_NET_RAW): without it, exit status 77 (skipped).  Sends its own UDP
 * datagrams on 127.0.0.1 and ::1 to ports of its own. */

enum { K = 3, FLOWS = 12, REQ = 3, REP = 2 };

static unsigned base_port;
static int seen[2][FLOWS][REQ + REP]; /* per family, flow, datagram: times read */
static int owner[2][FLOWS];           /* the handle that read the flow (-1 none yet, -2 several) */
static unsigned per_handle[K];

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Send every flow's datagrams: FLOWS clients per family to one server port,
 * REQ requests each, REP replies to the even ones. */
static int send_all(void)
{
  for (int fam = 0; fam < 2; fam++) {
    int af = fam ? AF_INET6 : AF_INET;
    struct sockaddr_storage sa[FLOWS + 1];
    socklen_t len = fam ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd[FLOWS + 1];
    for (int i = 0; i <= FLOWS; i++) {
      memset(&sa[i], 0, sizeof sa[i]);
      if (fam) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa[i];
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        s6->sin6_port = htons((uint16_t)(base_port + i));
      } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&sa[i];
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s4->sin_port = htons((uint16_t)(base_port + i));
      }
      fd[i] = socket(af, SOCK_DGRAM, 0);
      if (fd[i] < 0 || bind(fd[i], (struct sockaddr *)&sa[i], len) != 0) return -1;
    }
    for (int r = 0; r < REQ + REP; r++)
      for (int f = 0; f < FLOWS; f++) {
        if (r >= REQ && f % 2) continue;
        uint8_t msg[4] = { (uint8_t)fam, (uint8_t)f, (uint8_t)r, 0xAB };
        int from = r < REQ ? f + 1 : 0, to = r < REQ ? 0 : f + 1;
        if (sendto(fd[from], msg, sizeof msg, 0, (struct sockaddr *)&sa[to], len) != sizeof msg) return -1;
      }
    for (int i = 0; i <= FLOWS; i++) close(fd[i]);
  }
  return 0;
}

static unsigned expected(void) { return 2 * (FLOWS * REQ + FLOWS / 2 * REP); }

/* One datagram read by handle k: note it by the id in its payload. */
static void note(unsigned k, uint16_t et, const uint8_t *l3, uint32_t cap)
{
  uint32_t off = et == 0x86DD ? 40 + 8 : et == 0x0800 ? (uint32_t)(l3[0] & 15) * 4 + 8 : 0;
  CHECK(off != 0 && cap >= off + 4);
  if (off == 0 || cap < off + 4) return;
  const uint8_t *m = l3 + off;
  CHECK(m[3] == 0xAB && m[0] < 2 && m[1] < FLOWS && m[2] < REQ + REP);
  if (m[3] != 0xAB || m[0] >= 2 || m[1] >= FLOWS || m[2] >= REQ + REP) return;
  CHECK_EQ(m[0], et == 0x86DD);
  seen[m[0]][m[1]][m[2]]++;
  int *o = &owner[m[0]][m[1]];
  *o = *o == -1 || *o == (int)k ? (int)k : -2;
  per_handle[k]++;
}

static unsigned read_all(po_source **s, double until, unsigned want)
{
  unsigned got = 0;
  char err[256];
  while (now() < until && (want == 0 || got < want)) {
    int idle = 1;
    for (unsigned k = 0; k < K; k++)
      for (;;) {
        double ts;
        uint16_t et;
        const uint8_t *l3;
        uint32_t cap;
        int fd = -1;
        int rc = po_source_poll(s[k], &ts, &et, &l3, &cap, &fd, err, sizeof err);
        if (rc == PO_SRC_SKIP) continue;
        if (rc != PO_SRC_PACKET) {
          CHECK_EQ(rc, PO_SRC_WAIT);
          break;
        }
        note(k, et, l3, cap);
        got++;
        idle = 0;
      }
    if (idle) usleep(10000); /* a block is handed over when full or 100 ms old */
  }
  return got;
}

static po_source *s[K];

static void test_fanout_lo(void)
{
  memset(owner, -1, sizeof owner);
  CHECK_EQ(send_all(), 0);
  unsigned got = read_all(s, now() + 5, expected());
  got += read_all(s, now() + 0.3, 0); /* nothing more: no packet twice */
  CHECK_EQ(got, expected());
  int once = 1, one_owner = 1;
  for (int fam = 0; fam < 2; fam++)
    for (int f = 0; f < FLOWS; f++) {
      for (int r = 0; r < REQ + REP; r++) once &= seen[fam][f][r] == (r < REQ || f % 2 == 0);
      one_owner &= owner[fam][f] >= 0;
    }
  CHECK(once);      /* every datagram read once */
  CHECK(one_owner); /* both directions of a flow in one handle */
  unsigned used = 0;
  for (unsigned k = 0; k < K; k++) used += per_handle[k] > 0;
  CHECK(used >= 2); /* 24 flows over 3 handles: spread (all in one: 3^-23) */
  printf("datagrams per handle: %u %u %u\n", per_handle[0], per_handle[1], per_handle[2]);
  for (unsigned k = 0; k < K; k++) CHECK_EQ(po_source_dropped(s[k]), 0);
}

static const char *file;

static void test_file_refused(void)
{
  po_source *t[2];
  char err[512] = "";
  CHECK_EQ(po_source_open_fanout(t, 2, file, NULL, 10, 10, 0, err, sizeof err), PO_EUSAGE);
  CHECK(strstr(err, "not a Linux interface") != NULL);
  CHECK(t[0] == NULL && t[1] == NULL);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: test_fanout CAPTURE_FILE\n");
    return 2;
  }
  base_port = 31000 + (unsigned)getpid() % 1000 * 20;
  char filter[128], err[512];
  /* both ports: another process's ephemeral port may fall in the range */
  snprintf(filter, sizeof filter, "udp and src portrange %u-%u and dst portrange %u-%u", base_port,
           base_port + FLOWS, base_port, base_port + FLOWS);
  int rc = po_source_open_fanout(s, K, "lo", filter, 64, 64, 4096, err, sizeof err);
  if (rc != PO_OK && strstr(err, "permi") != NULL) {
    printf("skipped: cannot capture on lo (%s)\n", err);
    return 77;
  }
  CHECK_EQ(rc, PO_OK);
  if (rc != PO_OK) {
    fprintf(stderr, "%s\n", err);
    return check_report();
  }
  for (unsigned k = 0; k < K; k++) CHECK(po_source_live(s[k]));
  RUN(test_fanout_lo);
  for (unsigned k = 0; k < K; k++) po_source_close(s[k]);
  file = argv[1];
  RUN(test_file_refused);
  return check_report();
}
