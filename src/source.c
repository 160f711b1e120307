/* source.c - packet input through libtrace: URIs, sniffed plain files, pcap streams (stdin, FIFOs, devices). */
#include "po.h"

#include <errno.h>
#include <libtrace.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct slot {
  libtrace_packet_t *pkt;
  uint8_t *copy;         /* our copy when libtrace lends a buffer it will reuse */
  size_t copy_cap;
} slot;

struct po_source {
  libtrace_t *trace;
  libtrace_filter_t *filter;
  slot *ring;
  unsigned nring, next;
  int live;               /* an interface: read with trace_event() when libuv says so */
  int skip_outgoing;      /* Linux loopback via AF_PACKET shows every packet twice */
  int pcap;               /* frames typed by a pcap link type (pcapfile:, pcap:, pcapint:) */
  char uri[4096];
};

static const char *const live_formats[] = { "int:", "ring:", "pcapint:", "dag:", "bpf:", "dpdk:" };

/* The libtrace format for a plain file, from its first bytes. */
static const char *sniff(const char *path, char *err, size_t errlen)
{
  unsigned char m[16] = { 0 };
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "is a folder, not a capture file");
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errlen, "%s", strerror(errno));
    return NULL;
  }
  size_t n = fread(m, 1, sizeof m, f);
  int bad = ferror(f), e = errno;
  fclose(f);
  if (bad) {
    snprintf(err, errlen, "%s", strerror(e));
    return NULL;
  }
  if (n == 0) {
    snprintf(err, errlen, "empty file");
    return NULL;
  }
  uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
  if (be == 0xa1b2c3d4 || be == 0xd4c3b2a1 || be == 0xa1b23c4d || be == 0x4d3cb2a1)
    return "pcapfile";
  if (be == 0x0a0d0d0a) return "pcap"; /* pcapng: libpcap reads it, libtrace's pcapfile cannot */
  if ((m[0] == 0x1f && m[1] == 0x8b) || (m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') ||
      (m[0] == 0xfd && memcmp(m + 1, "7zXZ", 4) == 0))
    return "pcapfile"; /* compressed pcap: libtrace decompresses it */
  /* ERF has no magic: accept a plausible first record header (type, rlen) */
  unsigned rlen = (unsigned)m[10] << 8 | m[11];
  if (n == sizeof m && (m[8] & 0x7f) >= 1 && (m[8] & 0x7f) <= 48 && rlen >= 16)
    return "erf";
  snprintf(err, errlen, "not a capture file libtrace can read (pcap, pcapng, ERF, or compressed pcap)");
  return NULL;
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
  return name[0] != 0 && strlen(name) < IF_NAMESIZE && if_nametoindex(name) != 0;
}

static int is_loopback(const char *ifname)
{
  struct ifreq ifr;
  int fd = socket(AF_INET, SOCK_DGRAM, 0), lo = 0;
  if (fd < 0) return 0;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) lo = (ifr.ifr_flags & IFF_LOOPBACK) != 0;
  close(fd);
  return lo;
}

/* Turn a source argument into a libtrace URI; marks live sources. */
static int make_uri(po_source *s, const char *spec, char *err, size_t errlen)
{
  if (po_source_is_stream(spec)) {
    /* what sniff() read would be gone when libtrace opens it: a pcap stream
     * (libwandio still recognises gzip, bzip2 and xz in it) */
    snprintf(s->uri, sizeof s->uri, "pcapfile:%s", spec);
  } else if (is_file(spec)) {
    const char *fmt = sniff(spec, err, errlen);
    if (fmt == NULL) return PO_EOPEN;
    snprintf(s->uri, sizeof s->uri, "%s:%s", fmt, spec);
  } else if (strncmp(spec, "pcap:", 5) == 0 && !is_file(spec + 5) && is_interface(spec + 5)) {
    snprintf(s->uri, sizeof s->uri, "pcapint:%s", spec + 5); /* pcap:IFACE means libpcap live */
  } else if (strchr(spec, ':') == NULL && is_interface(spec)) {
    snprintf(s->uri, sizeof s->uri, "int:%s", spec); /* a bare interface name */
  } else if (strchr(spec, ':') == NULL) {
    const char *fmt = sniff(spec, err, errlen); /* says why the path cannot be read */
    if (fmt == NULL) return PO_EOPEN;
    snprintf(s->uri, sizeof s->uri, "%s:%s", fmt, spec);
  } else {
    snprintf(s->uri, sizeof s->uri, "%s", spec);
  }
  s->pcap = strncmp(s->uri, "pcapfile:", 9) == 0 || strncmp(s->uri, "pcap:", 5) == 0 ||
            strncmp(s->uri, "pcapint:", 8) == 0;
  for (size_t i = 0; i < sizeof live_formats / sizeof live_formats[0]; i++) {
    size_t n = strlen(live_formats[i]);
    if (strncmp(s->uri, live_formats[i], n) == 0) {
      s->live = 1;
      if ((i == 0 || i == 1) && is_loopback(s->uri + n)) s->skip_outgoing = 1;
    }
  }
  return PO_OK;
}

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

int po_source_open(po_source **out, const char *spec, const char *filter, unsigned ring,
                   char *err, size_t errlen)
{
  *out = NULL;
  po_source *s = calloc(1, sizeof *s);
  if (s == NULL) return PO_ENOMEM;
  int rc = make_uri(s, spec, err, errlen);
  if (rc != PO_OK) {
    free(s);
    return rc;
  }
  /* A file is read by the loop's reader thread (reader.c): libwandio's own
   * read-ahead thread would only add a hand-off, page faults for its fresh
   * buffers (about 55 MiB of them) and a third thread on a two-core machine.
   * LIBTRACEIO is libwandio's switch for it; a value the user set is kept. */
  if (!s->live) setenv("LIBTRACEIO", "nothreads", 0);
  s->trace = trace_create(s->uri);
  if (s->trace == NULL || trace_is_err(s->trace)) {
    int rc = s->trace ? set_error(s->trace, err, errlen) : PO_EOPEN;
    po_source_close(s);
    return rc;
  }
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
    int rc = set_error(s->trace, err, errlen);
    po_source_close(s);
    return rc;
  }
  s->nring = ring < 2 ? 2 : ring;
  s->ring = calloc(s->nring, sizeof *s->ring);
  if (s->ring == NULL) { po_source_close(s); return PO_ENOMEM; }
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
  free(s);
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

/* libtrace 3.0.22 types a frame of a pcap or pcapng file (and of libpcap) as
 * TRACE_RT_DATA_DLT + its link type, and maps that back to a link type
 * (trace_get_link_type: for layer 3, for a filter) only below
 * TRACE_RT_DATA_DLT_END; above it lies the BPF numbering of bpf: sources.  A
 * link type of 1999 or more fails an assertion there (abort), and 999 to 1998
 * would be read as some other link type.  PO_EREAD when p's type is one
 * libtrace cannot map back: the link type is the file's (libpcap refuses a
 * pcapng file whose interfaces differ in it), so the read ends there. */
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

/* libtrace 3.0.22 works out an ERF record's capture length as rlen minus its
 * framing (16 bytes, 2 of padding for Ethernet types, extension headers), and
 * a record of rlen 16 or 17 with padding makes it negative: trace_get_layer3
 * (trace_get_packet_buffer) and a filter then fail an assertion on it.  The
 * record holds no frame (a negative length here); the file goes on after it. */
static int capture_length(const libtrace_packet_t *p)
{
  return (int)trace_get_capture_length(p);
}

/* PO_SRC_MALFORMED for the record just read into sl: its time, no frame. */
static int no_frame(slot *sl, double *ts, uint16_t *ethertype, const uint8_t **l3, uint32_t *cap)
{
  struct timeval tv = trace_get_timeval(sl->pkt);
  *ts = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  *ethertype = 0;
  *l3 = NULL;
  *cap = 0;
  return PO_SRC_MALFORMED;
}

/* BSD and macOS loopback captures (pcap link types NULL and LOOP): a 4-byte
 * address family, in the capturing host's byte order (NULL) or in network
 * order (LOOP), then the IP packet.  libtrace 3.0.22 finds no layer 3 in NULL
 * (and prints "Unable to determine linktype" for every packet); in LOOP it
 * counts the family's 4 bytes in the IP packet's captured length.  Its filter
 * fails on NULL, and on LOOP misses IPv6 of the BSDs' families (24, 28, 30). */
enum { DLT_LOOP_ = 108 };
static int is_loopback_frame(const libtrace_packet_t *p)
{
  return p->type == TRACE_RT_DLT_NULL || (unsigned)p->type == TRACE_RT_DATA_DLT + DLT_LOOP_;
}

static const uint8_t *loopback_l3(const libtrace_packet_t *p, size_t caplen, uint16_t *et,
                                  uint32_t *remaining)
{
  const uint8_t *b = p->payload;
  if (b == NULL || caplen <= 4) return NULL;
  uint32_t le = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  uint32_t be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  uint32_t family = le < 256 ? le : be;
  if (family == 2) {
    *et = 0x0800;
  } else if (family == 10 || family == 24 || family == 28 || family == 30) {
    *et = 0x86DD; /* AF_INET6 of Linux, NetBSD/OpenBSD, FreeBSD, macOS */
  } else {
    return NULL;
  }
  *remaining = (uint32_t)caplen - 4;
  return b + 4;
}

/* Timestamp and IP header of the packet just read into sl. */
static int fill(slot *sl, size_t caplen, double *ts, uint16_t *ethertype, const uint8_t **l3,
                uint32_t *cap, char *err, size_t errlen)
{
  libtrace_packet_t *p = sl->pkt;
  struct timeval tv = trace_get_timeval(p);
  *ts = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  uint32_t remaining = 0;
  uint16_t et = 0;
  /* libtrace 3.0.22 aborts (assertion wire_length < LIBTRACE_PACKET_BUFSIZE, reached
   * from trace_get_layer3) when a record says the frame was 64 KiB or more on the
   * wire: GRO/TSO super-frames captured on loopback with a snap length, or a corrupt
   * record.  pathobs never uses the wire length: fill libtrace's cache with the
   * capture length (below 64 KiB once read) so that it is never computed. */
  p->wire_length = (int)caplen;
  /* It also crashes looking for layer 3 in an empty frame (a NULL payload read for
   * raw IP, Linux cooked and loopback; an assertion for pflog and radiotap).  An empty
   * frame holds no IP header anyway. */
  const uint8_t *l = NULL;
  if (is_loopback_frame(p)) l = loopback_l3(p, caplen, &et, &remaining);
  else if (caplen > 0) l = trace_get_layer3(p, &et, &remaining);
  if (l == NULL) remaining = 0, et = 0;
  l = skip_tags(l, &et, &remaining);
  const uint8_t *own = p->buffer;
  if (l != NULL && (p->buf_control == TRACE_CTRL_EXTERNAL || own == NULL || l < own ||
                    l + remaining > own + LIBTRACE_PACKET_BUFSIZE)) {
    /* Bytes outside the packet's own buffer (libpcap, capture rings) are
     * reused by the next read, but a batch keeps its packets until Lua has
     * seen them: copy those. */
    if (sl->copy_cap < remaining) {
      uint8_t *c = realloc(sl->copy, remaining);
      if (c == NULL) {
        snprintf(err, errlen, "%s", po_strerror(PO_ENOMEM));
        return PO_ENOMEM;
      }
      sl->copy = c;
      sl->copy_cap = remaining;
    }
    memcpy(sl->copy, l, remaining);
    l = sl->copy;
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
    caplen = capture_length(sl->pkt);
    if (caplen < 0) return no_frame(sl, ts, ethertype, l3, cap); /* no filter can see it */
    if (s->filter == NULL) break;
    if (is_loopback_frame(sl->pkt)) {
      snprintf(err, errlen, "-f cannot filter a BSD/macOS loopback capture (link type NULL or "
                            "LOOP): libtrace 3 filters NULL not at all and LOOP only for Linux's "
                            "IPv6 family");
      return PO_EREAD;
    }
    rc = trace_apply_filter(s->filter, sl->pkt);
    if (rc < 0) return read_error(s, err, errlen); /* compiled with the first packet */
    if (rc > 0) break;
  }
  s->next = (s->next + 1) % s->nring;
  return fill(sl, (size_t)caplen, ts, ethertype, l3, cap, err, errlen);
}

int po_source_poll(po_source *s, double *ts, uint16_t *ethertype, const uint8_t **l3,
                   uint32_t *cap, int *fd, char *err, size_t errlen)
{
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
    int caplen = capture_length(sl->pkt);
    if (caplen < 0) return no_frame(sl, ts, ethertype, l3, cap);
    if (s->skip_outgoing && trace_get_direction(sl->pkt) == TRACE_DIR_OUTGOING)
      return PO_SRC_SKIP; /* the incoming copy follows */
    s->next = (s->next + 1) % s->nring;
    return fill(sl, (size_t)caplen, ts, ethertype, l3, cap, err, errlen);
  }
  case TRACE_EVENT_TERMINATE:
    if (trace_is_err(s->trace)) return read_error(s, err, errlen);
    return PO_SRC_END;
  }
  return PO_SRC_END;
}

int po_source_live(const po_source *s) { return s->live; }

uint64_t po_source_dropped(po_source *s)
{
  uint64_t d = trace_get_dropped_packets(s->trace);
  return d == UINT64_MAX ? 0 : d;
}

const char *po_source_uri(const po_source *s) { return s->uri; }
