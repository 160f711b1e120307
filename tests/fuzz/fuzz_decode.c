/* fuzz_decode.c - libFuzzer target: frames of any link type -> source -> decoder -> flow keys
 * -> observer (flow table, clock, eviction, ignore/complete, flush).
 *
 * Input (see tests/fuzz/make_corpus.py, which writes seeds in this form):
 *   byte 0   mode: bit 7 set = "source": the frames become a pcap file (link type
 *            LINKTYPES[b & 15]) read back through po_source_* (libtrace's link-layer
 *            decoders, tag stepping, buffer copies); clear = "direct": each frame goes
 *            straight to po_obs_packet with an ethertype chosen by its record.
 *   byte 1   max_flows = 1 + (b & 7), aggregate = b >> 3 & 1, batch_size = 1 + (b >> 4 & 7)
 *   byte 2   idle_timeout = b & 15, expiry_timeout = b >> 4
 *   records  ctl, len (2 bytes big-endian), then len frame bytes (clipped to the input)
 *            ctl bits 0-1: direct: ethertype 0x0800, 0x86dd, 0x0806, or the frame's first
 *                          two bytes; source: caplen == len, orig_len larger (cut by
 *                          the snap length), caplen field larger than the snap length,
 *                          orig_len 0
 *            ctl bits 2-3: clock step +0, +0.25 s, +1 s, or 4 more bytes: absolute
 *                          seconds (+ 0.5 s, so 0xffffffff reaches the end of uint32)
 *            ctl bit 4:    hand the batch to "Lua" right after this frame
 * With FUZZ_DECODE_DUMP=FILE, a source-mode input also leaves its capture in FILE, for
 * `pathobs FILE`.  Every frame is also given to po_decode + po_key_of on an exact-size copy, and the
 * decoder's promises that the Lua header objects rely on (they read packet bytes
 * through the FFI, which no sanitizer sees) are checked here.  The batch drain
 * stores complete / ignore verdicts pseudo-randomly, as chains would.
 */
#include "po.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "fuzz_decode: %s:%d: broken promise: %s\n", __FILE__, __LINE__, \
              #cond);                                                               \
      abort();                                                                      \
    }                                                                               \
  } while (0)

/* pcap link types offered in source mode (index: byte 0 & 15). */
static const uint32_t LINKTYPES[16] = {
  1,   /* Ethernet */
  101, /* raw IP */
  113, /* Linux cooked */
  0,   /* BSD loopback (null) */
  108, /* OpenBSD loopback */
  12,  /* raw IP (old value) */
  14,  /* raw IP (OpenBSD) */
  9,   /* PPP */
  50,  /* PPP in HDLC framing */
  104, /* Cisco HDLC */
  105, /* 802.11 */
  127, /* radiotap + 802.11 */
  117, /* pflog */
  119, /* 802.11 Prism */
  228, /* raw IPv4 */
  147, /* a user link type nobody decodes */
};

typedef struct rng { uint64_t s; } rng;
static uint32_t rnd(rng *r)
{
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return (uint32_t)(r->s >> 11);
}

typedef struct state {
  po_observer *o;
  po_config cfg;
  rng r;
  uint64_t emitted;        /* records handed to the writer outside batches */
  uint64_t emit_entries;   /* ... and inside batches (evictions) */
  uint64_t calls;          /* po_obs_packet calls */
  uint8_t **copies;        /* frames a batch may still point into */
  size_t ncopies, capcopies;
} state;

/* What the host does with the records the clock or a flush wrote. */
static void collect(state *s)
{
  unsigned n;
  const uint32_t *slots = po_obs_emitted(s->o, &n);
  for (unsigned i = 0; i < n; i++) {
    char d[160];
    FUZZ_CHECK(slots[i] >= 1);
    po_obs_describe(s->o, slots[i], d, sizeof d);
    s->emitted++;
  }
  po_obs_emitted_clear(s->o);
}

static void keep_copy(state *s, uint8_t *p)
{
  if (s->ncopies == s->capcopies) {
    size_t nc = s->capcopies ? s->capcopies * 2 : 16;
    uint8_t **n = realloc(s->copies, nc * sizeof *n);
    FUZZ_CHECK(n != NULL);
    s->copies = n;
    s->capcopies = nc;
  }
  s->copies[s->ncopies++] = p;
}

static void free_copies(state *s)
{
  for (size_t i = 0; i < s->ncopies; i++) free(s->copies[i]);
  s->ncopies = 0;
}

/* What the Lua dispatcher does with a batch, with chains that complete and ignore at random. */
static void drain(state *s)
{
  collect(s); /* before the batch, as the host does */
  unsigned n;
  po_pkt *b = po_obs_batch(s->o, &n);
  FUZZ_CHECK(n <= s->cfg.batch_size + 2);
  for (unsigned i = 0; i < n; i++) {
    FUZZ_CHECK(b[i].op == PO_OP_PKT || b[i].op == PO_OP_NEW || b[i].op == PO_OP_EMIT ||
               b[i].op == PO_OP_NEW_QUOTE || b[i].op == PO_OP_PKT_LATE);
    FUZZ_CHECK(b[i].slot >= 1);
    if (b[i].op == PO_OP_EMIT) {
      s->emit_entries++;
    } else {
      FUZZ_CHECK(b[i].h[0].p != NULL);
      FUZZ_CHECK(b[i].h[0].version == 4 || b[i].h[0].version == 6);
    }
    uint32_t x = rnd(&s->r);
    uint8_t *v = po_obs_verdicts(s->o);
    if ((b[i].op == PO_OP_NEW || b[i].op == PO_OP_NEW_QUOTE) && (x & 3) == 0)
      v[i] = PO_VERDICT_IGNORE;
    if ((x & 12) == 0) v[i] = PO_VERDICT_COMPLETE;
    if ((x & 0x70) == 0) v[i] = (uint8_t)(x >> 8); /* a code that is no verdict */
  }
  po_obs_apply_verdicts(s->o);
  po_obs_batch_reset(s->o);
  free_copies(s);
}

/* The decoder's promises: what the C key code and the Lua header objects may read. */
static void check_hdr(const po_hdr *h, const uint8_t *base, uint32_t cap)
{
  FUZZ_CHECK(h->p >= base && h->p < base + cap);
  FUZZ_CHECK(h->cap <= (uint32_t)(base + cap - h->p));
  FUZZ_CHECK(h->version == 4 || h->version == 6);
  FUZZ_CHECK(h->hdr_len >= (h->version == 4 ? 20 : 40));
  FUZZ_CHECK(h->hdr_len <= h->cap);
  uint32_t end = h->pkt_len >= h->hdr_len && h->pkt_len < h->cap ? h->pkt_len : h->cap;
  uint32_t need = h->l4 == PO_L4_TCP ? 20 : h->l4 != PO_L4_NONE ? 8 : 0;
  FUZZ_CHECK(h->l4 <= PO_L4_ICMP);
  FUZZ_CHECK((uint32_t)h->hdr_len + need <= end);
  FUZZ_CHECK(h->l4 == PO_L4_NONE || !h->frag);
  if (h->fh_off) FUZZ_CHECK(h->version == 6 && (uint32_t)h->fh_off + 8 <= h->hdr_len);
}

static void decode_direct(const uint8_t *l3, uint32_t cap)
{
  /* exact-size copy: AddressSanitizer sees a read one byte too far */
  uint8_t *c = malloc(cap ? cap : 1);
  FUZZ_CHECK(c != NULL);
  if (cap) memcpy(c, l3, cap);
  po_hdr h, q;
  int rc = po_decode(cap ? c : NULL, cap, &h, &q);
  FUZZ_CHECK(rc == PO_OK || rc == PO_ENOTIP || rc == PO_EMALFORM);
  if (rc == PO_OK) {
    check_hdr(&h, c, cap);
    if (q.p != NULL) {
      check_hdr(&q, c, cap);
      FUZZ_CHECK(q.p >= h.p + h.hdr_len + 8);
      FUZZ_CHECK(q.version == h.version);
      FUZZ_CHECK(po_icmp_is_error(&h));
    }
    po_key k;
    int sw = -1;
    rc = po_key_of(&h, &q, &k, &sw);
    FUZZ_CHECK(rc == PO_OK || rc == PO_ESHORT || rc == PO_EFRAG);
    if (rc == PO_OK) {
      FUZZ_CHECK(sw == 0 || sw == 1);
      FUZZ_CHECK(k.version == 4 || k.version == 6);
      char buf[160];
      po_key_format(&k, sw, buf, sizeof buf);
      (void)po_key_hash(&k);
      /* the key of the same packet is canonical: swapping again changes nothing */
      po_key k2;
      int sw2;
      po_key_make(&k2, &sw2, k.version, k.proto, k.b, k.a, k.pb, k.pa);
      FUZZ_CHECK(memcmp(&k, &k2, sizeof k) == 0 || (memcmp(k.a, k.b, 16) == 0 && k.pa == k.pb));
    }
    uint32_t id;
    int first;
    (void)po_frag_info(&h, &id, &first);
  }
  free(c);
}

/* One frame into the observer, the way run.c does it. */
static void feed(state *s, double ts, uint16_t et, const uint8_t *l3, uint32_t cap, int dispatch)
{
  if (po_obs_must_cut(s->o, ts)) drain(s);
  uint8_t *c = malloc(cap ? cap : 1);
  FUZZ_CHECK(c != NULL);
  if (cap) memcpy(c, l3, cap);
  keep_copy(s, c);
  s->calls++;
  po_obs_packet(s->o, ts, et, cap ? c : NULL, cap);
  FUZZ_CHECK(po_obs_live(s->o) <= s->cfg.max_flows);
  if (po_obs_batch_full(s->o) || dispatch) drain(s);
}

typedef struct rec {
  uint8_t ctl;
  double ts;
  const uint8_t *p;
  uint32_t len;
} rec;

/* Next record of the input; 0 at the end. */
static int next_rec(const uint8_t **d, size_t *n, double *clock, rec *r)
{
  if (*n < 3) return 0;
  r->ctl = (*d)[0];
  uint32_t len = (uint32_t)(*d)[1] << 8 | (*d)[2];
  *d += 3;
  *n -= 3;
  switch (r->ctl >> 2 & 3) {
  case 1: *clock += 0.25; break;
  case 2: *clock += 1; break;
  case 3:
    if (*n >= 4) {
      *clock = (double)((uint32_t)(*d)[0] << 24 | (uint32_t)(*d)[1] << 16 |
                        (uint32_t)(*d)[2] << 8 | (*d)[3]) + 0.5;
      *d += 4;
      *n -= 4;
    }
    break;
  }
  if (len > *n) len = (uint32_t)*n;
  r->ts = *clock;
  r->p = *d;
  r->len = len;
  *d += len;
  *n -= len;
  return 1;
}

static void run_direct(state *s, const uint8_t *d, size_t n)
{
  double clock = 1500000000.0;
  rec r;
  while (next_rec(&d, &n, &clock, &r)) {
    static const uint16_t ets[3] = { 0x0800, 0x86dd, 0x0806 };
    uint16_t et;
    const uint8_t *l3 = r.p;
    uint32_t cap = r.len;
    if ((r.ctl & 3) < 3) {
      et = ets[r.ctl & 3];
    } else if (cap >= 2) {
      et = (uint16_t)(l3[0] << 8 | l3[1]);
      l3 += 2;
      cap -= 2;
    } else {
      et = 0;
    }
    if (et == 0x0800 || et == 0x86dd) decode_direct(l3, cap);
    feed(s, r.ts, et, l3, cap, r.ctl & 0x10);
  }
}

static void put32le(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static int memfd = -1;
static char memfd_path[64];

static void run_source(state *s, uint32_t linktype, const uint8_t *d, size_t n)
{
  enum { SNAP = 256 };
  /* the pcap file: global header, then one record per frame */
  size_t cap_file = 24 + n * 6 + 64, len = 24; /* 16 header bytes per 3 input bytes at most */
  uint8_t *f = malloc(cap_file);
  FUZZ_CHECK(f != NULL);
  put32le(f, 0xa1b2c3d4);
  f[4] = 2; f[5] = 0; f[6] = 4; f[7] = 0;
  memset(f + 8, 0, 8);
  put32le(f + 16, SNAP);
  put32le(f + 20, linktype);
  double clock = 1500000000.0;
  rec r;
  while (next_rec(&d, &n, &clock, &r)) {
    uint32_t caplen = r.len, orig = r.len;
    switch (r.ctl & 3) {
    case 1: orig = r.len + 100; break;    /* cut by the snap length */
    case 2: caplen = SNAP + 1 + r.len; break; /* a record that claims more than the snap length */
    case 3: orig = 0; break;
    }
    if (len + 16 + r.len > cap_file) break;
    /* a pcap record holds 32-bit seconds: the generated clock may run past them */
    double ts = r.ts < 0 ? 0 : r.ts > 4294967295.0 ? 4294967295.0 : r.ts;
    uint32_t sec = (uint32_t)ts;
    put32le(f + len, sec);
    put32le(f + len + 4, (uint32_t)((ts - sec) * 1e6));
    put32le(f + len + 8, caplen);
    put32le(f + len + 12, orig);
    memcpy(f + len + 16, r.p, r.len);
    len += 16 + r.len;
  }
  FUZZ_CHECK(ftruncate(memfd, 0) == 0);
  FUZZ_CHECK(pwrite(memfd, f, len, 0) == (ssize_t)len);
  const char *dump = getenv("FUZZ_DECODE_DUMP"); /* keep the capture: a reproducer for pathobs */
  if (dump != NULL) {
    FILE *out = fopen(dump, "wb");
    if (out != NULL) {
      fwrite(f, 1, len, out);
      fclose(out);
    }
  }
  free(f);

  po_source *src;
  char err[512];
  if (po_source_open(&src, memfd_path, NULL, s->cfg.batch_size + 2, 0, 0, err, sizeof err) != PO_OK)
    return;
  for (int k = 0; k < 100000; k++) {
    double ts;
    uint16_t et;
    const uint8_t *l3;
    uint32_t cap;
    int rc = po_source_next(src, &ts, &et, &l3, &cap, err, sizeof err);
    if (rc <= 0) break;
    FUZZ_CHECK(cap <= 262144);
    if (l3 == NULL) FUZZ_CHECK(cap == 0);
    if (l3 != NULL && (et == 0x0800 || et == 0x86dd)) decode_direct(l3, cap);
    feed(s, ts, et, l3, cap, 0);
  }
  drain(s); /* the batch points into the source's packets: hand it over before closing */
  po_source_close(src);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  memfd = memfd_create("fuzz_decode.pcap", 0);
  if (memfd < 0) {
    perror("memfd_create");
    abort();
  }
  snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 3) return 0;
  state s;
  memset(&s, 0, sizeof s);
  po_config_defaults(&s.cfg);
  s.cfg.max_flows = 1 + (data[1] & 7);
  s.cfg.aggregate = data[1] >> 3 & 1;
  s.cfg.batch_size = 1 + (data[1] >> 4 & 7);
  s.cfg.idle_timeout = data[2] & 15;
  s.cfg.expiry_timeout = data[2] >> 4;
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < size; i++) seed = (seed ^ data[i]) * 0x100000001b3ULL;
  s.r.s = seed | 1;
  s.o = po_obs_new(&s.cfg);
  FUZZ_CHECK(s.o != NULL);

  if (data[0] & 0x80) run_source(&s, LINKTYPES[data[0] & 15], data + 3, size - 3);
  else run_direct(&s, data + 3, size - 3);

  drain(&s);
  po_obs_flush(s.o);
  collect(&s);
  po_stats *st = po_obs_stats(s.o);
  FUZZ_CHECK(po_obs_live(s.o) == 0);           /* a flush leaves no flow behind */
  FUZZ_CHECK(st->packets == s.calls);
  FUZZ_CHECK(st->records == s.emitted + s.emit_entries);
  FUZZ_CHECK(st->evicted <= st->records);
  FUZZ_CHECK(st->flows == st->records + st->ignored); /* every flow written or ignored */
  po_obs_free(s.o);
  free_copies(&s);
  free(s.copies);
  return 0;
}
