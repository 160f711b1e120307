/* source.c - packet input: pcap and pcapng through libpcap (files, streams, interfaces), the rest through libtrace. */
#include "po.h"

#include <errno.h>
#include <fcntl.h>
#include <libtrace.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/if_packet.h>
#endif

/* The largest frame libpcap reads from a file or takes from an interface. */
enum { SNAPLEN = 262144, PCAP_TIMEOUT_MS = 100, READ_BUF = 1 << 20 };

typedef struct slot {
  libtrace_packet_t *pkt; /* libtrace sources */
  uint8_t *copy;          /* the packet's bytes from its IP header on, ours until reused */
  size_t copy_cap;
} slot;

struct po_source {
  /* libtrace: ERF, compressed pcap, dag:, bpf:, dpdk:, any other URI */
  libtrace_t *trace;
  libtrace_filter_t *filter;
  int pcap;               /* libtrace frames typed by a pcap link type */
  /* libpcap: pcap and pcapng files and streams, Linux interfaces */
  pcap_t *pc;
  char *iobuf;            /* its FILE's buffer, freed after pcap_close */
  uint32_t linktype;      /* LINKTYPE_ value with its FCS bits (po_link_decode) */
  int pipe_fd;            /* a compressed stream's pipe, closed once libtrace has opened it */
  slot *ring;
  unsigned nring, next;
  int live;               /* an interface: read when libuv says its descriptor is readable */
  po_linkinfo link;       /* link layer of the packet returned last */
  uint32_t l3_wire;       /* its IP packet's length on the wire, 0 when unknown */
  /* one of a PACKET_FANOUT group (po_source_open_fanout) */
  int fanout_fd;          /* its AF_PACKET socket, -1 otherwise */
  struct timeval since;   /* when the group was complete: earlier packets are left out */
  uint64_t drops;         /* the kernel's drops read so far (PACKET_STATISTICS resets them) */
  char uri[4096];
};

static const char *const live_formats[] = { "int:", "ring:", "pcapint:", "dag:", "bpf:", "dpdk:" };

/* ---- what a source argument is ------------------------------------------- */

enum { FMT_PCAP, FMT_PCAPNG, FMT_COMPRESSED, FMT_ERF };

/* The format of a capture from its first n bytes (at least 16 of a file). */
static int sniff_bytes(const uint8_t *m, size_t n, int whole_file)
{
  uint32_t be = n >= 4 ? (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3] : 0;
  if (be == 0xa1b2c3d4 || be == 0xd4c3b2a1 || be == 0xa1b23c4d || be == 0x4d3cb2a1) return FMT_PCAP;
  if (be == 0x0a0d0d0a) return FMT_PCAPNG;
  if ((n >= 2 && m[0] == 0x1f && m[1] == 0x8b) || (n >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') ||
      (n >= 5 && m[0] == 0xfd && memcmp(m + 1, "7zXZ", 4) == 0))
    return FMT_COMPRESSED;
  /* ERF has no magic: accept a plausible first record header (type, rlen) */
  if (whole_file && n >= 16) {
    unsigned rlen = (unsigned)m[10] << 8 | m[11];
    if ((m[8] & 0x7f) >= 1 && (m[8] & 0x7f) <= 48 && rlen >= 16) return FMT_ERF;
  }
  return -1;
}

/* The pcap header's link-type field (offset 20, the file's byte order) with
 * its FCS bits, which pcap_datalink() leaves out. */
static uint32_t header_linktype(const uint8_t *m)
{
  uint32_t le = m[20] | (uint32_t)m[21] << 8 | (uint32_t)m[22] << 16 | (uint32_t)m[23] << 24;
  uint32_t be = (uint32_t)m[20] << 24 | (uint32_t)m[21] << 16 | (uint32_t)m[22] << 8 | m[23];
  return m[0] == 0xa1 ? be : le; /* magic a1b2... written big-endian */
}

static int read_head(const char *path, uint8_t *m, size_t len, size_t *n, char *err, size_t errlen)
{
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "is a folder, not a capture file");
    return PO_EOPEN;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errlen, "%s", strerror(errno));
    return PO_EOPEN;
  }
  *n = fread(m, 1, len, f);
  int bad = ferror(f), e = errno;
  fclose(f);
  if (bad) {
    snprintf(err, errlen, "%s", strerror(e));
    return PO_EOPEN;
  }
  if (*n == 0) {
    snprintf(err, errlen, "empty file");
    return PO_EOPEN;
  }
  return PO_OK;
}

static int is_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

int po_source_is_stream(const char *spec)
{
  struct stat st;
  if (strcmp(spec, "-") == 0) return 1;
  return stat(spec, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode));
}

static int is_interface(const char *name)
{
  return name[0] != 0 && strlen(name) < IF_NAMESIZE && (strcmp(name, "any") == 0 || if_nametoindex(name) != 0);
}

/* ---- libpcap: files ---------------------------------------------------------- */

/* Map a DLT_ value libpcap reports to the LINKTYPE_ value of the same link
 * layer where the two numberings differ (only for types without FCS bits:
 * pcapng and live captures). */
static uint32_t dlt_to_linktype(int dlt)
{
  switch (dlt) {
  case 12: case 14: return 101; /* DLT_RAW (14 on OpenBSD) -> LINKTYPE_RAW */
  case 11: return 100;          /* DLT_ATM_RFC1483 */
  case 15: return 102;          /* DLT_SLIP_BSDOS */
  case 16: return 103;          /* DLT_PPP_BSDOS */
  case 17: return 117;          /* DLT_PFLOG (OpenBSD's number) */
  case 18: return 246;          /* DLT_PFSYNC */
  default: return (uint32_t)dlt;
  }
}

/* A pcapng file's first interface: its if_fcslen option (13) as the FCS bits
 * of a pcap link-type field, 0 without one.  libpcap 1.10 reads the option
 * but does not pass it on.  Only the first interface counts: libpcap refuses
 * a file whose interfaces differ in link type. */
static uint32_t pcapng_fcs(const uint8_t *b, size_t n)
{
  if (n < 28) return 0;
  int le = b[8] == 0x4d && b[9] == 0x3c && b[10] == 0x2b && b[11] == 0x1a;
#define RD32(p) (le ? (uint32_t)(p)[0] | (uint32_t)(p)[1] << 8 | (uint32_t)(p)[2] << 16 | (uint32_t)(p)[3] << 24 \
                    : (uint32_t)(p)[0] << 24 | (uint32_t)(p)[1] << 16 | (uint32_t)(p)[2] << 8 | (uint32_t)(p)[3])
#define RD16(p) (le ? (uint32_t)(p)[0] | (uint32_t)(p)[1] << 8 : (uint32_t)(p)[0] << 8 | (uint32_t)(p)[1])
  size_t off = RD32(b + 4); /* past the section header block */
  while (off >= 28 && off + 20 <= n) {
    uint32_t type = RD32(b + off), len = RD32(b + off + 4);
    if (len < 12 || len > n - off) break;
    if (type == 1) { /* interface description: link type, reserved, snaplen, options */
      size_t o = off + 16, end = off + len - 4;
      while (o + 4 <= end) {
        uint32_t code = RD16(b + o), olen = RD16(b + o + 2);
        if (code == 0 || o + 4 + olen > end) break;
        if (code == 13 && olen >= 1) {
          uint32_t fcs = b[o + 4];
          return fcs > 0 && fcs <= 30 ? 0x04000000u | (fcs / 2) << 28 : 0;
        }
        o += 4 + ((olen + 3) & ~3u);
      }
      return 0;
    }
    off += len;
  }
#undef RD32
#undef RD16
  return 0;
}

static uint32_t pcapng_fcs_bits(const char *path)
{
  static __thread uint8_t b[65536];
  FILE *f = fopen(path, "rbe");
  if (f == NULL) return 0;
  size_t n = fread(b, 1, sizeof b, f);
  fclose(f);
  return pcapng_fcs(b, n);
}

static int open_pcap_file(po_source *s, const char *path, const uint8_t *head, size_t n, char *err,
                     size_t errlen)
{
  char ebuf[PCAP_ERRBUF_SIZE] = "";
  /* libpcap reads a record with two fread()s: through stdio's usual 4 KiB
   * buffer that is a read() every few packets; 1 MiB makes it one per 1 MiB */
  FILE *fp = fopen(path, "rbe");
  if (fp == NULL) {
    snprintf(err, errlen, "%s", strerror(errno));
    return PO_EOPEN;
  }
  s->iobuf = malloc(READ_BUF); /* glibc sizes its own buffer by st_blksize, whatever setvbuf says */
  if (s->iobuf != NULL) setvbuf(fp, s->iobuf, _IOFBF, READ_BUF);
  __fsetlocking(fp, FSETLOCKING_BYCALLER); /* one thread reads it: no lock per fread */
  s->pc = pcap_fopen_offline(fp, ebuf);
  if (s->pc == NULL) {
    fclose(fp);
    snprintf(err, errlen, "%s", ebuf[0] ? ebuf : "libpcap could not open it");
    return PO_EOPEN;
  }
  if (n >= 24 && sniff_bytes(head, n, 0) == FMT_PCAP) s->linktype = header_linktype(head);
  else s->linktype = dlt_to_linktype(pcap_datalink(s->pc)) | pcapng_fcs_bits(path);
  return PO_OK;
}

/* ---- streams: stdin, FIFOs, devices ------------------------------------------
 * The first bytes say the format, and a pipe cannot give them back: pcap and
 * pcapng go to libpcap through a FILE that hands them out again, compressed
 * pcap to libtrace (libwandio decompresses) through a pipe a thread fills. */

enum { HEAD_MAX = 65536 };

typedef struct replay {
  int fd;
  uint8_t head[HEAD_MAX];
  size_t n, off;
} replay;

static ssize_t replay_read(void *c, char *buf, size_t size)
{
  replay *r = c;
  if (r->off < r->n) {
    size_t k = r->n - r->off < size ? r->n - r->off : size;
    memcpy(buf, r->head + r->off, k);
    r->off += k;
    return (ssize_t)k;
  }
  for (;;) {
    ssize_t k = read(r->fd, buf, size);
    if (k < 0 && errno == EINTR) continue;
    return k;
  }
}

static int replay_close(void *c)
{
  replay *r = c;
  close(r->fd);
  free(r);
  return 0;
}

typedef struct feeder {
  int in, out;
  uint8_t head[24];
  size_t n;
} feeder;

static int write_all(int fd, const uint8_t *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void *feed_main(void *arg)
{
  feeder *f = arg;
  static __thread uint8_t buf[65536];
  if (write_all(f->out, f->head, f->n) == 0)
    for (;;) {
      ssize_t k = read(f->in, buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0 || write_all(f->out, buf, (size_t)k) != 0) break;
    }
  close(f->in);
  close(f->out);
  free(f);
  return NULL;
}

static int libtrace_open(po_source *s, char *err, size_t errlen);

static int open_pcap_stream(po_source *s, const char *path, char *err, size_t errlen)
{
  int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s", strerror(errno));
    return PO_EOPEN;
  }
  uint8_t head[24];
  size_t n = 0;
  while (n < sizeof head) {
    ssize_t k = read(fd, head + n, sizeof head - n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      snprintf(err, errlen, "%s", strerror(errno));
      close(fd);
      return PO_EOPEN;
    }
    if (k == 0) break;
    n += (size_t)k;
    if (n >= 4 && sniff_bytes(head, n, 0) != FMT_PCAP && sniff_bytes(head, n, 0) != FMT_PCAPNG) break;
  }
  if (n == 0) {
    snprintf(err, errlen, "no data: an empty stream");
    close(fd);
    return PO_EOPEN;
  }
  int fmt = sniff_bytes(head, n, 0);
  if (fmt == FMT_COMPRESSED) {
    int p[2];
    feeder *f = malloc(sizeof *f);
    if (f == NULL || pipe2(p, O_CLOEXEC) != 0) {
      free(f);
      close(fd);
      snprintf(err, errlen, "%s", strerror(errno));
      return PO_EOPEN;
    }
    f->in = fd;
    f->out = p[1];
    memcpy(f->head, head, n);
    f->n = n;
    pthread_t t;
    if (pthread_create(&t, NULL, feed_main, f) != 0) {
      close(fd), close(p[0]), close(p[1]), free(f);
      snprintf(err, errlen, "cannot start a thread");
      return PO_EOPEN;
    }
    pthread_detach(t);
    snprintf(s->uri, sizeof s->uri, "pcapfile:/dev/fd/%d", p[0]);
    s->pipe_fd = p[0]; /* closed once libtrace has opened its own descriptor of the pipe */
    return libtrace_open(s, err, errlen);
  }
  if (fmt != FMT_PCAP && fmt != FMT_PCAPNG) {
    close(fd);
    snprintf(err, errlen, "not a pcap, pcapng or compressed pcap stream");
    return PO_EOPEN;
  }
  replay *r = malloc(sizeof *r);
  if (r == NULL) {
    close(fd);
    return PO_ENOMEM;
  }
  r->fd = fd;
  memcpy(r->head, head, n);
  r->n = n;
  r->off = 0;
  uint32_t fcs = 0;
  if (fmt == FMT_PCAPNG) {
    /* the section header and the first interface's block, for its if_fcslen
     * (libpcap does not pass it on): read ahead as far as they go */
    int le = head[8] == 0x4d;
    uint32_t shb = le ? head[4] | head[5] << 8 | head[6] << 16 | (uint32_t)head[7] << 24
                      : (uint32_t)head[4] << 24 | head[5] << 16 | head[6] << 8 | head[7];
    size_t want = shb + 8;
    while (want <= HEAD_MAX && r->n < want) {
      ssize_t k = read(fd, r->head + r->n, want - r->n);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;
      r->n += (size_t)k;
      if (r->n == shb + 8 && want == shb + 8) { /* the next block's length */
        const uint8_t *q = r->head + shb + 4;
        uint32_t len = le ? q[0] | q[1] << 8 | q[2] << 16 | (uint32_t)q[3] << 24
                          : (uint32_t)q[0] << 24 | q[1] << 16 | q[2] << 8 | q[3];
        if (len >= 12 && len <= HEAD_MAX - shb) want = shb + len;
      }
    }
    fcs = pcapng_fcs(r->head, r->n);
  }
  cookie_io_functions_t io = { .read = replay_read, .close = replay_close };
  FILE *fp = fopencookie(r, "r", io);
  if (fp == NULL) {
    replay_close(r);
    return PO_ENOMEM;
  }
  s->iobuf = malloc(1 << 16); /* a pipe gives at most 64 KiB a read */
  if (s->iobuf != NULL) setvbuf(fp, s->iobuf, _IOFBF, 1 << 16);
  char ebuf[PCAP_ERRBUF_SIZE] = "";
  s->pc = pcap_fopen_offline(fp, ebuf);
  if (s->pc == NULL) {
    fclose(fp);
    snprintf(err, errlen, "%s", ebuf[0] ? ebuf : "libpcap could not read it");
    return PO_EOPEN;
  }
  s->linktype = fmt == FMT_PCAP && n >= 24 ? header_linktype(head) : dlt_to_linktype(pcap_datalink(s->pc)) | fcs;
  return PO_OK;
}

/* ---- libpcap: interfaces ----------------------------------------------------- */

static int open_pcap_live(po_source *s, const char *dev, unsigned buffer_kib, char *err, size_t errlen)
{
  char ebuf[PCAP_ERRBUF_SIZE] = "";
  s->live = 1;
  s->pc = pcap_create(dev, ebuf);
  if (s->pc == NULL) {
    snprintf(err, errlen, "%s", ebuf);
    return PO_EOPEN;
  }
  pcap_set_snaplen(s->pc, SNAPLEN);
  pcap_set_promisc(s->pc, 1);
  pcap_set_timeout(s->pc, PCAP_TIMEOUT_MS);
  if (buffer_kib > 0) pcap_set_buffer_size(s->pc, (int)(buffer_kib > INT32_MAX / 1024 ? INT32_MAX : buffer_kib * 1024));
  int rc = pcap_activate(s->pc);
  if (rc < 0) {
    const char *why = pcap_geterr(s->pc);
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) snprintf(err, errlen, "no such interface (%s)", why);
    else if (rc == PCAP_ERROR_PERM_DENIED)
      snprintf(err, errlen, "%s (capturing needs root or CAP_NET_RAW)", why[0] ? why : "permission denied");
    else if (rc == PCAP_ERROR_IFACE_NOT_UP) snprintf(err, errlen, "the interface is down");
    else snprintf(err, errlen, "%s", why[0] ? why : pcap_statustostr(rc));
    return PO_EOPEN;
  }
  /* the any device: Linux cooked v2 names the interface and its ARPHRD type */
  if (strcmp(dev, "any") == 0) pcap_set_datalink(s->pc, 276);
  if (pcap_setnonblock(s->pc, 1, ebuf) != 0) {
    snprintf(err, errlen, "%s", ebuf);
    return PO_EOPEN;
  }
  s->linktype = dlt_to_linktype(pcap_datalink(s->pc));
  return PO_OK;
}

static int pcap_filter(po_source *s, const char *filter, char *err, size_t errlen)
{
  struct bpf_program prog;
  if (pcap_compile(s->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    snprintf(err, errlen, "cannot apply filter '%s': %s", filter, pcap_geterr(s->pc));
    return PO_EFILTER;
  }
  /* live: in the kernel; a file: libpcap's pcap_offline_filter on every record read */
  int rc = pcap_setfilter(s->pc, &prog);
  pcap_freecode(&prog);
  if (rc != 0) {
    snprintf(err, errlen, "cannot apply filter '%s': %s", filter, pcap_geterr(s->pc));
    return PO_EFILTER;
  }
  return PO_OK;
}

/* ---- libtrace ------------------------------------------------------------------ */

/* libtrace's reason, without the line break some of its messages end in
 * ("Error while reading pcap file header\n"): a message is one line. */
static libtrace_err_t get_error(libtrace_t *t, char *err, size_t errlen, const char *fallback)
{
  libtrace_err_t e = trace_get_err(t);
  snprintf(err, errlen, "%s", e.problem[0] ? e.problem : fallback);
  size_t n = strlen(err);
  while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == '\r' || err[n - 1] == ' ')) err[--n] = 0;
  return e;
}

static int set_error(libtrace_t *t, char *err, size_t errlen)
{
  get_error(t, err, errlen, "libtrace could not open it");
  return PO_EOPEN;
}

static int libtrace_open(po_source *s, char *err, size_t errlen)
{
  s->pcap = strncmp(s->uri, "pcapfile:", 9) == 0 || strncmp(s->uri, "pcap:", 5) == 0;
  for (size_t i = 0; i < sizeof live_formats / sizeof live_formats[0]; i++)
    if (strncmp(s->uri, live_formats[i], strlen(live_formats[i])) == 0) s->live = 1;
  /* A file is read by the loop's reader thread (reader.c): libwandio's own
   * read-ahead thread would only add a hand-off, page faults for its fresh
   * buffers (about 55 MiB of them) and a third thread on a two-core machine.
   * LIBTRACEIO is libwandio's switch for it; a value the user set is kept. */
  if (!s->live) setenv("LIBTRACEIO", "nothreads", 0);
  s->trace = trace_create(s->uri);
  if (s->trace == NULL || trace_is_err(s->trace)) return s->trace ? set_error(s->trace, err, errlen) : PO_EOPEN;
  return PO_OK;
}

/* ---- opening ---------------------------------------------------------------- */

/* Open spec: a path (sniffed), "-", a FIFO or device, an interface, or a URI. */
static int open_any(po_source *s, const char *spec, unsigned buffer_kib, char *err, size_t errlen)
{
  const char *path = spec;
  int explicit_pcap = 0;
  if (strncmp(spec, "pcapfile:", 9) == 0) path = spec + 9, explicit_pcap = 1;
  else if (strncmp(spec, "pcap:", 5) == 0) path = spec + 5, explicit_pcap = 1;
  snprintf(s->uri, sizeof s->uri, "%s", spec);

  if (po_source_is_stream(path)) return open_pcap_stream(s, path, err, errlen);
  if (is_file(path) || (strchr(spec, ':') == NULL && !is_interface(spec)) ||
      (explicit_pcap && !is_interface(path))) {
    uint8_t head[24];
    size_t n = 0;
    int rc = read_head(path, head, sizeof head, &n, err, errlen);
    if (rc != PO_OK) return rc;
    int fmt = sniff_bytes(head, n, 1);
    if (fmt == FMT_PCAP || fmt == FMT_PCAPNG) return open_pcap_file(s, path, head, n, err, errlen);
    if (fmt == FMT_COMPRESSED || (fmt < 0 && explicit_pcap)) {
      snprintf(s->uri, sizeof s->uri, "pcapfile:%s", path); /* libwandio decompresses */
      return libtrace_open(s, err, errlen);
    }
    if (fmt == FMT_ERF && !explicit_pcap) {
      snprintf(s->uri, sizeof s->uri, "erf:%s", path);
      return libtrace_open(s, err, errlen);
    }
    snprintf(err, errlen, "not a capture file pathobs can read (pcap, pcapng, ERF, or compressed pcap)");
    return PO_EOPEN;
  }
  /* Linux interfaces: libpcap, whatever the spelling (a bare name, -i, int:,
   * ring:, pcapint:, pcap:): frames up to 256 KiB, its memory-mapped ring
   * (TPACKET_V3) with a buffer of buffer_kib, the any device, loopback's
   * outgoing copies left out, and a kernel filter that loses nothing. */
  const char *dev = NULL;
  if (strchr(spec, ':') == NULL) dev = spec;
  else if (explicit_pcap) dev = path;
  else if (strncmp(spec, "int:", 4) == 0) dev = spec + 4;
  else if (strncmp(spec, "ring:", 5) == 0) dev = spec + 5;
  else if (strncmp(spec, "pcapint:", 8) == 0) dev = spec + 8;
  if (dev != NULL) return open_pcap_live(s, dev, buffer_kib, err, errlen);
  return libtrace_open(s, err, errlen);
}

/* The LINKTYPE_ of a libtrace frame, for po_link_decode where libtrace finds
 * no layer 3; 0 when there is none to give. */
static int libtrace_linktype(const libtrace_packet_t *p, uint32_t *lt)
{
  unsigned t = (unsigned)p->type;
  if (t >= TRACE_RT_DATA_DLT && t < TRACE_RT_DATA_DLT_END) {
    *lt = t - TRACE_RT_DATA_DLT;
    return 1;
  }
  switch (trace_get_link_type(p)) {
  case TRACE_TYPE_ETH: *lt = 1; return 1;
  case TRACE_TYPE_NONE: *lt = 101; return 1;
  case TRACE_TYPE_LINUX_SLL: *lt = 113; return 1;
  case TRACE_TYPE_PFLOG: *lt = 117; return 1;
  case TRACE_TYPE_80211: *lt = 105; return 1;
  case TRACE_TYPE_80211_RADIO: *lt = 127; return 1;
  case TRACE_TYPE_80211_PRISM: *lt = 119; return 1;
  case TRACE_TYPE_PPP: *lt = 9; return 1;
  case TRACE_TYPE_POS: *lt = 50; return 1;
  case TRACE_TYPE_HDLC_POS: *lt = 104; return 1;
  default: return 0;
  }
}

/* threaded: a reader thread reads the source, a live one too (read_ahead more packets kept).
 * want_pcap_live: only a libpcap interface will do (PO_EUSAGE for anything else). */
static int open_one(po_source **out, const char *spec, const char *filter, unsigned ring,
                    unsigned read_ahead, unsigned buffer_kib, int threaded, int want_pcap_live,
                    char *err, size_t errlen)
{
  *out = NULL;
  po_source *s = calloc(1, sizeof *s);
  if (s == NULL) return PO_ENOMEM;
  s->link.vlan = 0xFFFF;
  s->pipe_fd = -1;
  s->fanout_fd = -1;
  int rc = open_any(s, spec, buffer_kib, err, errlen);
  if (rc == PO_OK && want_pcap_live && (s->pc == NULL || !s->live)) {
    snprintf(err, errlen, "%s is not a Linux interface captured through libpcap (a file, a stream or "
             "a libtrace URI is read by one reader)", spec);
    rc = PO_EUSAGE;
  }
  if (rc != PO_OK) {
    po_source_close(s);
    return rc;
  }
  if (s->pc != NULL) {
    if (filter != NULL && (rc = pcap_filter(s, filter, err, errlen)) != PO_OK) {
      po_source_close(s);
      return rc;
    }
  } else {
    if (filter != NULL) {
      /* A live source filters in the kernel or libpcap.  Packets of a file are
       * filtered by po_source_next, after the checks that keep libtrace from
       * aborting: libtrace's own filter looks at the frame inside
       * trace_read_packet, before pathobs sees it. */
      s->filter = trace_create_filter(filter);
      if (s->filter == NULL ||
          (s->live && trace_config(s->trace, TRACE_OPTION_FILTER, s->filter) != 0)) {
        snprintf(err, errlen, "cannot apply filter '%s'", filter);
        po_source_close(s);
        return PO_EFILTER;
      }
    }
    if (trace_start(s->trace) != 0) {
      rc = set_error(s->trace, err, errlen);
      po_source_close(s);
      return rc;
    }
    if (s->pipe_fd >= 0) close(s->pipe_fd);
    s->pipe_fd = -1;
  }
  /* a live source is read by the loop, which hands the batch to Lua before it
   * waits again: no reader thread holds packets ahead (and a slot may hold a
   * 256 KiB frame) */
  if (!s->live || threaded) ring += read_ahead;
  s->nring = ring < 2 ? 2 : ring;
  s->ring = calloc(s->nring, sizeof *s->ring);
  if (s->ring == NULL) { po_source_close(s); return PO_ENOMEM; }
  if (s->trace != NULL)
    for (unsigned i = 0; i < s->nring; i++) {
      s->ring[i].pkt = trace_create_packet();
      if (s->ring[i].pkt == NULL) { po_source_close(s); return PO_ENOMEM; }
      /* libtrace 3.0.22's pcapfile reader puts a record (16-byte header + caplen bytes)
       * into a LIBTRACE_PACKET_BUFSIZE buffer but refuses only caplen >= that size: a
       * caplen of 65521..65535 writes up to 15 bytes past its malloc().  Give it a
       * buffer with room to spare; it keeps using a buffer it owns (TRACE_CTRL_PACKET). */
      s->ring[i].pkt->buffer = malloc(LIBTRACE_PACKET_BUFSIZE + 64);
      if (s->ring[i].pkt->buffer == NULL) { po_source_close(s); return PO_ENOMEM; }
      s->ring[i].pkt->buf_control = TRACE_CTRL_PACKET;
    }
  *out = s;
  return PO_OK;
}

int po_source_open(po_source **out, const char *spec, const char *filter, unsigned ring,
                   unsigned read_ahead, unsigned buffer_kib, char *err, size_t errlen)
{
  return open_one(out, spec, filter, ring, read_ahead, buffer_kib, 0, 0, err, errlen);
}

#ifndef PACKET_FANOUT_FLAG_UNIQUEID
#define PACKET_FANOUT_FLAG_UNIQUEID 0x2000 /* Linux 4.4 */
#endif
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING 0x4000 /* recent kernels */
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

typedef struct fanout_group {
  int id;    /* -1 until the first socket made the group */
  int flags; /* the group's PACKET_FANOUT_FLAG_ bits: every member gives the same */
} fanout_group;

/* Join s's socket to the group g (the first socket makes it).  The group's
 * own hook replaces the socket's, so the socket's PACKET_IGNORE_OUTGOING
 * (libpcap sets it on lo: every loopback packet once) becomes the group's
 * flag where the kernel has it; a kernel without it hands the outgoing
 * copies over and libpcap leaves them out (tests/unit/test_fanout.c passes
 * either way). */
static int join_fanout(po_source *s, fanout_group *g, char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
  int fd = pcap_get_selectable_fd(s->pc);
  if (g->id < 0) {
    int ign = 0;
    socklen_t len = sizeof ign;
    if (getsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &ign, &len) != 0) ign = 0;
    g->flags = ign ? PACKET_FANOUT_FLAG_IGNORE_OUTGOING : 0;
    /* a group id no other socket of the machine uses (another pathobs's group
     * on the same interface would otherwise share our packets); before Linux
     * 4.4, one from the process id */
    for (int tries = 0; tries < 2; tries++) {
      int arg = (PACKET_FANOUT_HASH | g->flags | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
      if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) == 0) {
        len = sizeof arg;
        if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0) goto refused;
        g->id = arg & 0xffff;
        s->fanout_fd = fd;
        return PO_OK;
      }
      if (errno != EINVAL || g->flags == 0) break;
      g->flags = 0; /* a kernel without the flag may refuse it */
    }
    g->id = (int)(getpid() & 0xffff);
  }
  int arg = g->id | (PACKET_FANOUT_HASH | g->flags) << 16;
  if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) == 0) {
    s->fanout_fd = fd;
    return PO_OK;
  }
refused:
  snprintf(err, errlen, "the kernel refuses a PACKET_FANOUT group (%s)", strerror(errno));
  return PO_EOPEN;
#else
  (void)s, (void)g;
  snprintf(err, errlen, "several readers need Linux's PACKET_FANOUT, which this system lacks");
  return PO_EUSAGE;
#endif
}

int po_source_open_fanout(po_source **out, unsigned k, const char *spec, const char *filter, unsigned ring,
                          unsigned read_ahead, unsigned buffer_kib, char *err, size_t errlen)
{
  fanout_group g = { -1, 0 };
  int rc = PO_OK;
  for (unsigned i = 0; i < k; i++) out[i] = NULL;
  for (unsigned i = 0; i < k && rc == PO_OK; i++) {
    rc = open_one(&out[i], spec, filter, ring, read_ahead, buffer_kib, 1, 1, err, errlen);
    if (rc == PO_OK) rc = join_fanout(out[i], &g, err, errlen);
  }
  if (rc != PO_OK) {
    for (unsigned i = 0; i < k; i++) po_source_close(out[i]), out[i] = NULL;
    return rc;
  }
  /* Until the last socket joined, the first ones' packets were spread over
   * fewer sockets and the others saw every packet: the capture starts now
   * (the kernel stamps a packet before the group hands it to a socket). */
  struct timeval now;
  gettimeofday(&now, NULL);
  for (unsigned i = 0; i < k; i++) out[i]->since = now;
  return PO_OK;
}

void po_source_close(po_source *s)
{
  if (s == NULL) return;
  if (s->ring)
    for (unsigned i = 0; i < s->nring; i++) {
      if (s->ring[i].pkt) trace_destroy_packet(s->ring[i].pkt);
      free(s->ring[i].copy);
    }
  free(s->ring);
  if (s->trace) trace_destroy(s->trace);
  if (s->filter) trace_destroy_filter(s->filter);
  if (s->pc) pcap_close(s->pc);
  free(s->iobuf);
  if (s->pipe_fd >= 0) close(s->pipe_fd);
  free(s);
}

/* ---- reading ------------------------------------------------------------------ */

/* Copy n bytes at l into the slot (the batch keeps them after the next read). */
static const uint8_t *keep(slot *sl, const uint8_t *l, uint32_t n, char *err, size_t errlen)
{
  if (sl->copy_cap < n || sl->copy == NULL) {
    size_t want = n < 2048 ? 2048 : n;
    uint8_t *c = realloc(sl->copy, want);
    if (c == NULL) {
      snprintf(err, errlen, "%s", po_strerror(PO_ENOMEM));
      return NULL;
    }
    sl->copy = c;
    sl->copy_cap = want;
  }
  memcpy(sl->copy, l, n);
  return sl->copy;
}

/* The link layer of frame into s->link and the IP header's place. */
static void link_of(po_source *s, uint32_t lt, const uint8_t *frame, uint32_t caplen, uint32_t wire,
                    uint16_t *et, const uint8_t **l3, uint32_t *cap)
{
  po_link lk;
  s->link.vlan = 0xFFFF;
  s->link.has_mac = 0;
  s->l3_wire = 0;
  *et = 0;
  *l3 = NULL;
  *cap = 0;
  if (po_link_decode(lt, frame, caplen, wire, &lk) != PO_OK) return;
  s->link.vlan = lk.vlan;
  if (lk.mac_off >= 0 && (uint32_t)lk.mac_off + 12 <= caplen) {
    memcpy(s->link.dst, frame + lk.mac_off, 6);
    memcpy(s->link.src, frame + lk.mac_off + 6, 6);
    s->link.has_mac = 1;
  }
  if (lk.l3_off > caplen) return;
  uint32_t fcs = (lt >> 28) * 2; /* FCS bytes the link-type field announces, not IP */
  s->l3_wire = wire > lk.l3_off + fcs ? wire - lk.l3_off - fcs : 0;
  *et = lk.ethertype;
  *l3 = frame + lk.l3_off;
  *cap = lk.l3_cap <= caplen - lk.l3_off ? lk.l3_cap : caplen - lk.l3_off;
}

static int pcap_take(po_source *s, const struct pcap_pkthdr *h, const uint8_t *d, double *ts,
                     uint16_t *et, const uint8_t **l3, uint32_t *cap, char *err, size_t errlen)
{
  slot *sl = &s->ring[s->next];
  *ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
  link_of(s, s->linktype, d, h->caplen, h->len, et, l3, cap);
  if (*l3 != NULL) {
    *l3 = keep(sl, *l3, *cap, err, errlen);
    if (*l3 == NULL) return PO_ENOMEM;
  }
  s->next = (s->next + 1) % s->nring;
  return PO_SRC_PACKET;
}

static int pcap_error(po_source *s, char *err, size_t errlen)
{
  const char *why = pcap_geterr(s->pc);
  /* "truncated dump file; tried to read 16 header bytes, only got 5" */
  if (strstr(why, "truncated") != NULL && strstr(why, "header bytes") != NULL)
    snprintf(err, errlen, "Incomplete record header at the end of the capture (%s)", why);
  else if (strstr(why, "truncated") != NULL)
    snprintf(err, errlen, "Incomplete record body at the end of the capture (%s)", why);
  else
    snprintf(err, errlen, "%s", why);
  return PO_EREAD;
}

/* Tags libtrace 3.0 leaves in place (802.1ad, old QinQ): step over them. */
static const uint8_t *skip_tags(const uint8_t *p, uint16_t *et, uint32_t *cap)
{
  while (p != NULL && (*et == 0x88a8 || *et == 0x9100 || *et == 0x8100) && *cap >= 4) {
    *et = (uint16_t)(p[2] << 8 | p[3]);
    p += 4;
    *cap -= 4;
  }
  return p;
}

/* libtrace 3.0.22 types a frame of a pcap file as TRACE_RT_DATA_DLT + its link
 * type, and maps that back to a link type only below TRACE_RT_DATA_DLT_END; a
 * link type past it fails an assertion (abort).  PO_EREAD for such a frame. */
static int check_type(const po_source *s, const libtrace_packet_t *p, char *err, size_t errlen)
{
  unsigned t = (unsigned)p->type;
  if (s->pcap) {
    unsigned lt = t - TRACE_RT_DATA_DLT; /* wraps back for a link type of 2^32 - 2000 or more */
    if (lt < TRACE_RT_DATA_DLT_END - TRACE_RT_DATA_DLT) return PO_OK;
    snprintf(err, errlen, "unsupported link type %u", lt);
    return PO_EREAD;
  }
  if (t != TRACE_RT_DATA_DLT_END && t < TRACE_RT_DATA_BPF_END) return PO_OK;
  snprintf(err, errlen, "unsupported libtrace packet type %u", t);
  return PO_EREAD;
}

/* PO_SRC_MALFORMED for the record just read into sl: its time, no frame
 * (libtrace 3.0.22 makes an ERF record of rlen 16 or 17 a negative length). */
static int no_frame(po_source *s, slot *sl, double *ts, uint16_t *ethertype, const uint8_t **l3,
                    uint32_t *cap)
{
  struct timeval tv = trace_get_timeval(sl->pkt);
  *ts = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  *ethertype = 0;
  *l3 = NULL;
  *cap = 0;
  s->link.vlan = 0xFFFF;
  s->link.has_mac = 0;
  return PO_SRC_MALFORMED;
}

/* Timestamp and IP header of the libtrace packet just read into sl. */
static int fill(po_source *s, slot *sl, size_t caplen, double *ts, uint16_t *ethertype,
                const uint8_t **l3, uint32_t *cap, char *err, size_t errlen)
{
  libtrace_packet_t *p = sl->pkt;
  struct timeval tv = trace_get_timeval(p);
  *ts = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  uint32_t remaining = 0;
  uint16_t et = 0;
  /* libtrace 3.0.22 aborts (assertion wire_length < LIBTRACE_PACKET_BUFSIZE, reached
   * from trace_get_layer3) when a record says the frame was 64 KiB or more on the
   * wire: fill libtrace's cache with the capture length so that it is never computed. */
  p->wire_length = (int)caplen;
  /* It also crashes looking for layer 3 in an empty frame: an empty frame holds no IP header. */
  const uint8_t *l = NULL;
  s->link.vlan = 0xFFFF;
  s->link.has_mac = 0;
  uint32_t lt;
  libtrace_linktype_t ltt;
  uint32_t frem = 0;
  const uint8_t *frame = NULL;
  if (caplen > 0 && libtrace_linktype(p, &lt)) frame = trace_get_packet_buffer(p, &ltt, &frem);
  if (frame != NULL) {
    /* A link type po_link_decode knows: it decodes the frame, not libtrace,
     * which gives up on Linux cooked captures of most ARPHRD types, FCS bits,
     * raw IP 228/229, BSD loopback, ... and prints a line per packet doing so. */
    link_of(s, lt, frame, frem, (uint32_t)caplen, &et, &l, &remaining);
  } else if (caplen > 0) {
    s->l3_wire = 0; /* libtrace's wire length is the captured one (above) */
    l = trace_get_layer3(p, &et, &remaining);
    if (l == NULL) remaining = 0, et = 0;
    l = skip_tags(l, &et, &remaining);
  }
  if (l != NULL) {
    /* the batch keeps its packets until Lua has seen them; the next reads reuse the buffer */
    l = keep(sl, l, remaining, err, errlen);
    if (l == NULL) return PO_ENOMEM;
  }
  *l3 = l;
  *ethertype = et;
  *cap = remaining;
  return 1;
}

static int read_error(po_source *s, char *err, size_t errlen)
{
  libtrace_err_t e = get_error(s->trace, err, errlen, "read error");
  /* libtrace compiles the filter when the first packet arrives */
  return e.err_num == TRACE_ERR_BAD_FILTER ? PO_EFILTER : PO_EREAD;
}

int po_source_next(po_source *s, double *ts, uint16_t *ethertype, const uint8_t **l3,
                   uint32_t *cap, char *err, size_t errlen)
{
  if (s->pc != NULL) {
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(s->pc, &h, &d);
    if (rc == 1) return pcap_take(s, h, d, ts, ethertype, l3, cap, err, errlen);
    if (rc == PCAP_ERROR_BREAK) return 0;
    return pcap_error(s, err, errlen);
  }
  slot *sl = &s->ring[s->next];
  int caplen;
  for (;;) {
    /* libtrace 3.0.22 reports a short read of an unthreaded file with errno as
     * the error code and asserts that it is not 0: make it say EIO. */
    errno = EIO;
    int rc = trace_read_packet(s->trace, sl->pkt);
    if (rc == 0) return 0;
    if (rc < 0) return read_error(s, err, errlen);
    rc = check_type(s, sl->pkt, err, errlen);
    if (rc != PO_OK) return rc;
    caplen = (int)trace_get_capture_length(sl->pkt);
    if (caplen < 0) return no_frame(s, sl, ts, ethertype, l3, cap); /* no filter can see it */
    if (s->filter == NULL) break;
    rc = trace_apply_filter(s->filter, sl->pkt);
    if (rc < 0) return read_error(s, err, errlen); /* compiled with the first packet */
    if (rc > 0) break;
  }
  s->next = (s->next + 1) % s->nring;
  return fill(s, sl, (size_t)caplen, ts, ethertype, l3, cap, err, errlen);
}

int po_source_poll(po_source *s, double *ts, uint16_t *ethertype, const uint8_t **l3,
                   uint32_t *cap, int *fd, char *err, size_t errlen)
{
  if (s->pc != NULL) {
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(s->pc, &h, &d);
    if (rc == 1) {
      if (timercmp(&h->ts, &s->since, <)) return PO_SRC_SKIP; /* before a fanout group was complete */
      return pcap_take(s, h, d, ts, ethertype, l3, cap, err, errlen);
    }
    if (rc == 0) {
      *fd = pcap_get_selectable_fd(s->pc);
      return PO_SRC_WAIT;
    }
    if (rc == PCAP_ERROR_BREAK) return PO_SRC_END;
    return pcap_error(s, err, errlen);
  }
  slot *sl = &s->ring[s->next];
  libtrace_eventobj_t ev = trace_event(s->trace, sl->pkt);
  switch (ev.type) {
  case TRACE_EVENT_IOWAIT:
    *fd = ev.fd;
    return PO_SRC_WAIT;
  case TRACE_EVENT_SLEEP:
    *fd = -1;
    return PO_SRC_WAIT;
  case TRACE_EVENT_PACKET: {
    if (ev.size < 0) return read_error(s, err, errlen);
    if (check_type(s, sl->pkt, err, errlen) != PO_OK) return PO_EREAD;
    int caplen = (int)trace_get_capture_length(sl->pkt);
    if (caplen < 0) return no_frame(s, sl, ts, ethertype, l3, cap);
    s->next = (s->next + 1) % s->nring;
    return fill(s, sl, (size_t)caplen, ts, ethertype, l3, cap, err, errlen);
  }
  case TRACE_EVENT_TERMINATE:
    if (trace_is_err(s->trace)) return read_error(s, err, errlen);
    return PO_SRC_END;
  }
  return PO_SRC_END;
}

const po_linkinfo *po_source_link(const po_source *s) { return &s->link; }

uint32_t po_source_l3_wire(const po_source *s) { return s->l3_wire; }

int po_source_live(const po_source *s) { return s->live; }

uint64_t po_source_dropped(po_source *s)
{
#ifdef PACKET_STATISTICS
  if (s->fanout_fd >= 0) {
    /* read by the loop while a reader thread reads the handle: the socket's
     * counters (the same as pcap_stats's ps_drop), not libpcap's state */
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(s->fanout_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) s->drops += st.tp_drops;
    return s->drops;
  }
#endif
  if (s->pc != NULL) {
    struct pcap_stat st;
    if (!s->live || pcap_stats(s->pc, &st) != 0) return 0;
    return st.ps_drop;
  }
  uint64_t d = trace_get_dropped_packets(s->trace);
  return d == UINT64_MAX ? 0 : d;
}

const char *po_source_uri(const po_source *s) { return s->uri; }

void po_source_describe_link(const po_source *s, char *buf, size_t len)
{
  if (s->pc != NULL) {
    const char *name = pcap_datalink_val_to_name(pcap_datalink(s->pc));
    unsigned lt = (unsigned)(s->linktype & 0x03FFFFFF);
    if (name != NULL) snprintf(buf, len, "%u, %s", lt, name);
    else snprintf(buf, len, "%u", lt);
  } else {
    snprintf(buf, len, "as libtrace reads %s", s->uri);
  }
}
