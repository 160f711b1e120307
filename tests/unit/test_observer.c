/* test_observer.c - flow lifecycle on the packet clock: idle, expiry, ignore, eviction, flush. */
#include "po.h"
#include "check.h"
#include "pktbuild.h"

typedef struct log {
  char what[64][80]; /* "emit <flow description>" in order */
  double when[64];
  int n;
  po_observer *o;
  double now;
} log;

static log L;

/* What the host does with the records the clock wrote: log them, in order,
 * with the flows their slots still describe, then free the slots. */
static void collect(void)
{
  unsigned n;
  const uint32_t *slots = po_obs_emitted(L.o, &n);
  for (unsigned i = 0; i < n; i++) {
    char d[64];
    po_obs_describe(L.o, slots[i], d, sizeof d);
    if (L.n < 64) {
      snprintf(L.what[L.n], sizeof L.what[0], "%s", d);
      L.when[L.n++] = L.now;
    }
  }
  po_obs_emitted_clear(L.o);
}

/* What Lua would do with a batch: hand EMIT entries to the writer. */
static void drain(void)
{
  collect();
  unsigned n;
  po_pkt *b = po_obs_batch(L.o, &n);
  for (unsigned i = 0; i < n; i++)
    if (b[i].op == PO_OP_EMIT && L.n < 64) {
      snprintf(L.what[L.n], sizeof L.what[0], "evicted slot %u", b[i].slot);
      L.when[L.n++] = L.now;
    }
  po_obs_batch_reset(L.o);
}

static uint8_t pkts[64][64];
static int npk;

/* Feed one UDP packet; returns the index of its batch entry, or -1. */
static int feed(double ts, const char *src, unsigned sp, const char *dst, unsigned dp)
{
  L.now = ts;
  if (po_obs_must_cut(L.o, ts)) drain();
  uint8_t *b = pkts[npk++ % 64];
  size_t len = udp4_packet(b, src, sp, dst, dp);
  unsigned before, after;
  po_obs_batch(L.o, &before);
  po_obs_packet(L.o, ts, 0x0800, b, (uint32_t)len);
  collect();
  po_obs_batch(L.o, &after);
  return after > before ? (int)after - 1 : -1;
}

static po_pkt *entry(int i)
{
  unsigned n;
  return &po_obs_batch(L.o, &n)[i];
}

/* What a chain's verdict does: stored beside entry i, applied after the
 * batch (here at once: applying the verdicts again changes nothing). */
static void verdict(int i, uint8_t v)
{
  po_obs_verdicts(L.o)[i] = v;
  po_obs_apply_verdicts(L.o);
}

static void start(uint32_t max_flows)
{
  po_config cfg;
  po_config_defaults(&cfg);
  cfg.max_flows = max_flows;
  memset(&L, 0, sizeof L);
  L.o = po_obs_new(&cfg);
}

static void stop(void)
{
  drain();
  po_obs_free(L.o);
}

static void idle_flow_completes_then_is_written_after_expiry(void)
{
  start(100);
  feed(100.5, "10.0.0.1", 1, "10.0.0.2", 2);  /* A: clock 101, idle deadline 131 */
  for (int t = 101; t <= 140; t++) {
    feed(t + 0.25, "10.0.0.9", 9, "10.0.0.8", 8); /* B keeps the clock going */
    if (t + 1 < 135) CHECK_EQ(L.n, 0);
  }
  /* completed at 131 with emission deadline 130 + 5 = 135: written when the
   * packet with ceil(t) = 135 moved the clock */
  CHECK_EQ(L.n, 1);
  CHECK_STR(L.what[0], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  CHECK(L.when[0] == 134.25);
  stop();
}

static void expiring_flow_keeps_receiving_packets(void)
{
  start(100);
  int i = feed(10.0, "10.0.0.1", 1, "10.0.0.2", 2);
  CHECK_EQ(entry(i)->op, PO_OP_NEW);
  uint32_t slot = entry(i)->slot;
  verdict(i, PO_VERDICT_COMPLETE); /* a chain returned false; clock 10 -> due 15 */
  verdict(i, PO_VERDICT_COMPLETE); /* cannot complete twice */
  i = feed(12.5, "10.0.0.2", 2, "10.0.0.1", 1);
  CHECK_EQ(entry(i)->op, PO_OP_PKT);
  CHECK_EQ(entry(i)->slot, slot);
  CHECK_EQ(entry(i)->rev, 1);
  verdict(i, PO_VERDICT_COMPLETE); /* ignored: already expiring */
  i = feed(14.0, "10.0.0.1", 1, "10.0.0.2", 2);
  CHECK_EQ(entry(i)->op, PO_OP_PKT);
  CHECK_EQ(L.n, 0);
  i = feed(14.5, "10.0.0.1", 1, "10.0.0.2", 2); /* clock 15: written, then a new flow */
  CHECK_EQ(L.n, 1);
  CHECK_EQ(entry(i)->op, PO_OP_NEW);
  CHECK_EQ(entry(i)->rev, 0);
  stop();
}

static void late_emission_after_a_jump(void)
{
  start(100);
  feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);
  feed(1000.0, "10.0.0.3", 3, "10.0.0.4", 4); /* idle at 31, due 1 + 5 = 6: written now */
  CHECK_EQ(L.n, 1);
  CHECK_STR(L.what[0], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  stop();
}

static void ignored_key_is_dropped_until_idle(void)
{
  start(100);
  int i = feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);
  verdict(i, PO_VERDICT_IGNORE);
  CHECK_EQ(po_obs_stats(L.o)->ignored, 1);
  CHECK_EQ(feed(2.0, "10.0.0.2", 2, "10.0.0.1", 1), -1);
  CHECK_EQ(feed(20.0, "10.0.0.1", 1, "10.0.0.2", 2), -1); /* idle deadline moves to 50 */
  CHECK_EQ(feed(49.0, "10.0.0.1", 1, "10.0.0.2", 2), -1); /* ... and to 79 */
  i = feed(80.0, "10.0.0.1", 1, "10.0.0.2", 2);           /* forgotten: a new flow */
  CHECK(i >= 0);
  CHECK_EQ(entry(i)->op, PO_OP_NEW);
  CHECK_EQ(L.n, 0); /* ignored keys are never written */
  CHECK_EQ(po_obs_stats(L.o)->flows, 2);
  stop();
}

static void full_table_evicts_the_oldest(void)
{
  start(2);
  feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);
  feed(2.0, "10.0.0.3", 3, "10.0.0.4", 4);
  feed(3.0, "10.0.0.1", 1, "10.0.0.2", 2); /* A is now the most recent */
  int i = feed(3.0, "10.0.0.5", 5, "10.0.0.6", 6);
  CHECK_EQ(i, 2);
  CHECK_EQ(entry(1)->op, PO_OP_EMIT);  /* B goes, before C arrives */
  CHECK_EQ(entry(2)->op, PO_OP_NEW);
  CHECK_EQ(entry(2)->slot, entry(1)->slot);
  CHECK_EQ(po_obs_stats(L.o)->evicted, 1);
  CHECK_EQ(po_obs_live(L.o), 2);
  /* a late "complete" for the evicted flow's old entry must not touch C */
  verdict(1, PO_VERDICT_COMPLETE);
  stop();
}

static void flush_writes_expiring_then_active(void)
{
  start(100);
  feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);          /* A stays active */
  int i = feed(1.0, "10.0.0.3", 3, "10.0.0.4", 4);  /* B completes */
  verdict(i, PO_VERDICT_COMPLETE);
  drain();
  po_obs_flush(L.o);
  collect();
  CHECK_EQ(L.n, 2);
  CHECK_STR(L.what[0], "10.0.0.3:3 -> 10.0.0.4:4 proto 17");
  CHECK_STR(L.what[1], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  CHECK_EQ(po_obs_live(L.o), 0);
  CHECK_EQ(po_obs_stats(L.o)->records, 2);
  /* the table is empty afterwards: the same keys are new flows again, an
   * ignored flow is not written, and the next flush writes what came since */
  i = feed(2.0, "10.0.0.2", 2, "10.0.0.1", 1); /* A's key, the other way */
  CHECK(i >= 0);
  CHECK_EQ(entry(i)->op, PO_OP_NEW);
  CHECK_EQ(entry(i)->rev, 0);
  int c = feed(2.0, "10.0.0.5", 5, "10.0.0.6", 6);
  verdict(c, PO_VERDICT_IGNORE);
  CHECK_EQ(feed(2.5, "10.0.0.5", 5, "10.0.0.6", 6), -1); /* ignored: no entry */
  CHECK_EQ(entry(feed(2.5, "10.0.0.1", 1, "10.0.0.2", 2))->op, PO_OP_PKT);
  CHECK_EQ(po_obs_live(L.o), 2);
  drain();
  po_obs_flush(L.o);
  collect();
  CHECK_EQ(L.n, 3);
  CHECK_STR(L.what[2], "10.0.0.2:2 -> 10.0.0.1:1 proto 17");
  CHECK_EQ(po_obs_live(L.o), 0);
  CHECK_EQ(po_obs_stats(L.o)->records, 3);
  stop();
}

/* Flows due in one second complete in the order their idle deadlines were
 * last set, whatever order they came into that second's list in; a deadline
 * never moves back (a timestamp earlier than the one before leaves it). */
static double keeper_t;
static void keep_clock_until(double t)
{
  for (; keeper_t <= t; keeper_t += 1) feed(keeper_t, "10.0.9.9", 9, "10.0.9.8", 8);
}

static void flows_due_together_complete_in_the_order_their_deadlines_were_set(void)
{
  start(100);
  keeper_t = 1.25;
  feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);   /* A: deadline 31 */
  feed(1.0, "10.0.0.3", 3, "10.0.0.4", 4);   /* B: 31, never moves */
  feed(1.0, "10.0.0.5", 5, "10.0.0.6", 6);   /* C: 31 */
  keep_clock_until(2.0);
  feed(2.0, "10.0.0.7", 7, "10.0.0.8", 8);   /* D: 32 */
  feed(2.5, "10.0.0.5", 5, "10.0.0.6", 6);   /* C: 33 */
  feed(2.6, "10.0.0.1", 1, "10.0.0.2", 2);   /* A: 33, after C */
  keep_clock_until(3.0);
  feed(3.0, "10.0.0.7", 7, "10.0.0.8", 8);   /* D: 33, after A */
  feed(12.0, "10.0.1.1", 1, "10.0.1.2", 2);  /* G: 42 ... */
  feed(10.5, "10.0.1.1", 1, "10.0.1.2", 2);  /* ... stays 42 (an earlier timestamp) */
  keep_clock_until(50.0);
  CHECK_EQ(L.n, 5);
  /* B completes at 31, written at 30 + 5 = 35; C, A, D complete at 33 and are
   * written at 37 in that order (the order their deadlines were set, not the
   * order they came into the bin of 33); G completes at 42, written at 46 */
  CHECK_STR(L.what[0], "10.0.0.3:3 -> 10.0.0.4:4 proto 17");
  CHECK(L.when[0] == 34.25);
  CHECK_STR(L.what[1], "10.0.0.5:5 -> 10.0.0.6:6 proto 17");
  CHECK_STR(L.what[2], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  CHECK_STR(L.what[3], "10.0.0.7:7 -> 10.0.0.8:8 proto 17");
  CHECK(L.when[1] == 36.25 && L.when[3] == 36.25);
  CHECK_STR(L.what[4], "10.0.1.1:1 -> 10.0.1.2:2 proto 17");
  CHECK(L.when[4] == 45.25);
  stop();
}

/* The flush writes active flows in the order they would have completed. */
static void flush_writes_active_flows_in_deadline_order(void)
{
  start(100);
  feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);   /* A: 31 */
  feed(1.0, "10.0.0.3", 3, "10.0.0.4", 4);   /* B: 31 */
  feed(1.5, "10.0.0.5", 5, "10.0.0.6", 6);   /* C: 32 */
  feed(2.5, "10.0.0.5", 5, "10.0.0.6", 6);   /* C: 33 */
  feed(2.6, "10.0.0.1", 1, "10.0.0.2", 2);   /* A: 33, after C */
  drain();
  po_obs_flush(L.o);
  collect();
  CHECK_EQ(L.n, 3);
  CHECK_STR(L.what[0], "10.0.0.3:3 -> 10.0.0.4:4 proto 17");
  CHECK_STR(L.what[1], "10.0.0.5:5 -> 10.0.0.6:6 proto 17");
  CHECK_STR(L.what[2], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  stop();
}

/* Eviction takes the flow idle longest: the earliest deadline, set first. */
static void eviction_sees_moved_deadlines(void)
{
  start(3);
  feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);   /* A: 31 */
  feed(1.5, "10.0.0.3", 3, "10.0.0.4", 4);   /* B: 32 */
  feed(2.0, "10.0.0.5", 5, "10.0.0.6", 6);   /* C: 32 */
  feed(3.0, "10.0.0.1", 1, "10.0.0.2", 2);   /* A: 33 (still in the bin of 31) */
  int i = feed(3.0, "10.0.0.7", 7, "10.0.0.8", 8); /* a fourth flow: B goes */
  CHECK(i >= 1);
  CHECK_EQ(entry(i - 1)->op, PO_OP_EMIT);
  char d[64];
  po_obs_describe(L.o, entry(i)->slot, d, sizeof d);
  CHECK_STR(d, "10.0.0.7:7 -> 10.0.0.8:8 proto 17");
  drain();
  po_obs_flush(L.o); /* what stays: C (32), A (33), then the new one (33) */
  collect();
  CHECK_EQ(L.n, 4);
  CHECK_STR(L.what[1], "10.0.0.5:5 -> 10.0.0.6:6 proto 17");
  CHECK_STR(L.what[2], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  CHECK_STR(L.what[3], "10.0.0.7:7 -> 10.0.0.8:8 proto 17");
  stop();
}

static void batches_are_cut_where_the_clock_moves(void)
{
  start(100);
  feed(1.2, "10.0.0.1", 1, "10.0.0.2", 2);
  CHECK(!po_obs_must_cut(L.o, 1.9));
  CHECK(!po_obs_must_cut(L.o, 2.0));
  CHECK(po_obs_must_cut(L.o, 2.01));
  stop();
}

static void non_ip_and_short_are_counted(void)
{
  start(100);
  uint8_t b[64];
  size_t n = tcp4_packet(b, "10.0.0.1", 1, "10.0.0.2", 2, 0);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0806, b, (uint32_t)n), PO_ENOTIP);
  collect();
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, 22), PO_ESHORT);
  collect();
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, 10), PO_EMALFORM);
  collect();
  put16(b + 6, 0x0004); /* a non-first fragment nobody introduced */
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, (uint32_t)n), PO_EFRAG);
  collect();
  po_stats *s = po_obs_stats(L.o);
  CHECK_EQ(s->packets, 4);
  CHECK_EQ(s->non_ip, 1);
  CHECK_EQ(s->shorts, 2);
  CHECK_EQ(s->fragments, 1);
  CHECK_EQ(s->flows, 0);
  stop();
}

/* Two frames 10.0.0.1 -> 10.0.0.2 proto 6 with an IP total length of 20 (no
 * TCP bytes), padded to 60 bytes with different padding: both short, no flow;
 * a first fragment in that shape is not remembered with its padding as ports. */
static void padding_is_no_transport_header(void)
{
  start(100);
  uint8_t b[46];
  for (int i = 0; i < 2; i++) {
    memset(b, 0, sizeof b);
    ip4(b, "10.0.0.1", "10.0.0.2", 6, 20);
    b[20] = (uint8_t)(0x12 + i * 0x88);
    b[21] = 0x34;
    b[22] = (uint8_t)(0x56 + i);
    b[23] = 0x78;
    CHECK_EQ(po_obs_packet(L.o, 1.0 + i, 0x0800, b, sizeof b), PO_ESHORT);
    collect();
  }
  ip4(b, "10.0.0.1", "10.0.0.2", 17, 20);
  put16(b + 4, 99);
  put16(b + 6, 0x2000); /* a first fragment of more, with no UDP bytes */
  CHECK_EQ(po_obs_packet(L.o, 3.0, 0x0800, b, sizeof b), PO_ESHORT);
  collect();
  put16(b + 2, 28);
  put16(b + 6, 0x0001); /* its next fragment finds nothing to join */
  CHECK_EQ(po_obs_packet(L.o, 3.0, 0x0800, b, sizeof b), PO_EFRAG);
  collect();
  po_stats *s = po_obs_stats(L.o);
  CHECK_EQ(s->shorts, 3);
  CHECK_EQ(s->fragments, 1);
  CHECK_EQ(s->flows, 0);
  stop();
}

static void fragments_follow_their_first(void)
{
  start(100);
  uint8_t first[64], rest[64];
  size_t n = udp4_packet(first, "10.0.0.1", 53, "10.0.0.2", 5353);
  put16(first + 4, 77);
  put16(first + 6, 0x2000);
  po_obs_packet(L.o, 1.0, 0x0800, first, (uint32_t)n);
  collect();
  memcpy(rest, first, n);
  put16(rest + 6, 0x0002); /* offset 16, last: carries no ports */
  po_obs_packet(L.o, 1.0, 0x0800, rest, (uint32_t)n);
  collect();
  unsigned cnt;
  po_pkt *b = po_obs_batch(L.o, &cnt);
  CHECK_EQ(cnt, 2);
  CHECK_EQ(b[0].slot, b[1].slot);
  CHECK_EQ(b[1].op, PO_OP_PKT);
  CHECK_EQ(b[1].h[0].frag, 1);
  put16(rest + 4, 78); /* another id: unmatched */
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, rest, (uint32_t)n), PO_EFRAG);
  collect();
  stop();
}

/* An IPv6 datagram 2001:db8::1 -> ::2 fragmented with a Destination Options
 * header after the Fragment header (Fragment -> DestOpts -> payload): the
 * first fragment carries both headers, the later one only data. */
static size_t frag6_first(uint8_t *b, uint32_t id, uint8_t transport)
{
  size_t n = ip6(b, 1, 2, 44, 8 + 8 + 8 + 16);
  n += frag6(b + n, 60, 0, 1, id);
  memset(b + n, 0, 8);
  b[n] = transport; /* DestOpts, 8 bytes, then the transport */
  n += 8;
  if (transport == 17) {
    n += udp(b + n, 1234, 5678, 8 + 16 + 32);
  } else {
    memset(b + n, 0, 8);
    b[n] = 128; /* ICMPv6 echo request */
    n += 8;
  }
  memset(b + n, 0x44, 16);
  return n + 16;
}

static size_t frag6_later(uint8_t *b, uint32_t id, uint8_t nh)
{
  size_t n = ip6(b, 1, 2, 44, 8 + 32);
  n += frag6(b + n, nh, 32, 0, id);
  memset(b + n, 0x44, 32); /* data, nothing a header could be read from */
  return n + 32;
}

static void ipv6_fragments_after_destination_options(void)
{
  start(100);
  uint8_t first[128], later[128];
  size_t nf = frag6_first(first, 0x1234, 17), nl = frag6_later(later, 0x1234, 60);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, first, (uint32_t)nf), PO_OK);
  collect();
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, later, (uint32_t)nl), PO_OK);
  collect();
  unsigned cnt;
  po_pkt *b = po_obs_batch(L.o, &cnt);
  CHECK_EQ(cnt, 2);
  CHECK_EQ(b[0].op, PO_OP_NEW);
  CHECK_EQ(b[0].h[0].proto, 17);
  CHECK_EQ(b[1].op, PO_OP_PKT);
  CHECK_EQ(b[1].slot, b[0].slot);
  CHECK_EQ(b[1].rev, 0);
  CHECK_EQ(b[1].h[0].frag, 1);
  CHECK_EQ(b[1].h[0].proto, 17); /* the chains see its first fragment's protocol */
  char d[80];
  po_obs_describe(L.o, b[0].slot, d, sizeof d);
  CHECK_STR(d, "[2001:db8::1]:1234 -> [2001:db8::2]:5678 proto 17");
  /* the same id between other addresses, or another id: not that datagram */
  later[39] = 3;
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, later, (uint32_t)nl), PO_EFRAG);
  collect();
  frag6_later(later, 0x1235, 60);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, later, (uint32_t)nl), PO_EFRAG);
  collect();
  /* a first fragment of ICMPv6 (no ports) is remembered too */
  nf = frag6_first(first, 0x99, 58);
  CHECK_EQ(po_obs_packet(L.o, 2.0, 0x86dd, first, (uint32_t)nf), PO_OK);
  collect();
  frag6_later(later, 0x99, 60);
  CHECK_EQ(po_obs_packet(L.o, 2.0, 0x86dd, later, (uint32_t)nl), PO_OK);
  collect();
  b = po_obs_batch(L.o, &cnt);
  CHECK_EQ(b[cnt - 1].slot, b[cnt - 2].slot);
  CHECK_EQ(b[cnt - 1].h[0].proto, 58);
  po_stats *s = po_obs_stats(L.o);
  CHECK_EQ(s->flows, 2);
  CHECK_EQ(s->fragments, 2);
  stop();
}

/* A later fragment seen before its first one, or without it, is skipped and
 * counted: never a flow of its own. */
static void ipv6_later_fragment_before_its_first(void)
{
  start(100);
  uint8_t first[128], later[128];
  size_t nf = frag6_first(first, 0x1234, 17), nl = frag6_later(later, 0x1234, 60);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, later, (uint32_t)nl), PO_EFRAG);
  collect();
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, first, (uint32_t)nf), PO_OK);
  collect();
  unsigned cnt;
  po_pkt *b = po_obs_batch(L.o, &cnt);
  CHECK_EQ(cnt, 1);
  CHECK_EQ(b[0].op, PO_OP_NEW);
  CHECK_EQ(b[0].h[0].proto, 17);
  po_stats *s = po_obs_stats(L.o);
  CHECK_EQ(s->flows, 1);
  CHECK_EQ(s->fragments, 1);
  stop();
}

static void icmp_error_opening_a_flow_is_reverse(void)
{
  start(100);
  static uint8_t syn[64], err[128];
  size_t n = tcp4_packet(syn, "10.0.0.1", 1234, "192.0.2.9", 80, 0x02);
  size_t e = icmp4_error(err, "198.51.100.1", "10.0.0.1", 3, 1, syn, 28);
  po_obs_packet(L.o, 1.0, 0x0800, err, (uint32_t)e);
  collect();
  po_obs_packet(L.o, 1.0, 0x0800, syn, (uint32_t)n); /* the quoted SYN itself, seen later */
  collect();
  unsigned cnt;
  po_pkt *b = po_obs_batch(L.o, &cnt);
  CHECK_EQ(cnt, 2);
  CHECK_EQ(b[0].op, PO_OP_NEW_QUOTE);
  CHECK_EQ(b[0].rev, 1);
  CHECK_EQ(b[1].op, PO_OP_PKT);
  CHECK_EQ(b[1].slot, b[0].slot);
  CHECK_EQ(b[1].rev, 0); /* the quoted packet's direction is forward */
  char d[64];
  po_obs_describe(L.o, b[0].slot, d, sizeof d);
  CHECK_STR(d, "10.0.0.1:1234 -> 192.0.2.9:80 proto 6");
  stop();
}

/* Time passes whatever the frame: non-IP and malformed frames move the packet
 * clock and write what falls due, and a batch is cut before one that would. */
static void every_frame_moves_the_clock(void)
{
  start(100);
  uint8_t arp[28] = { 0 };
  feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);  /* A: idle deadline 31, written at 35 */
  for (double t = 3.0; t <= 40.0; t += 2.0) {
    L.now = t;
    if (po_obs_must_cut(L.o, t)) drain();
    CHECK_EQ(po_obs_packet(L.o, t, 0x0806, arp, sizeof arp), PO_ENOTIP);
    collect();
  }
  CHECK_EQ(L.n, 1);
  CHECK_STR(L.what[0], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  CHECK(L.when[0] == 35.0);
  /* a malformed record (only its time is its own) moves it too */
  feed(41.0, "10.0.0.3", 3, "10.0.0.4", 4);   /* B: idle deadline 71, written at 75 */
  CHECK(po_obs_must_cut(L.o, 41.5));           /* B's entry is in the batch */
  drain();
  L.now = 80.0;
  po_obs_decoded(L.o, 80.0, PO_EMALFORM, NULL, NULL);
  collect();
  CHECK_EQ(L.n, 2);
  CHECK_STR(L.what[1], "10.0.0.3:3 -> 10.0.0.4:4 proto 17");
  po_stats *s = po_obs_stats(L.o);
  CHECK_EQ(s->non_ip, 19);
  CHECK_EQ(s->shorts, 1);
  CHECK_EQ(s->reordered, 0);
  stop();
}

/* A frame older than one before it is counted as reordered; a packet older
 * than its flow's last one is marked PO_OP_PKT_LATE (pkt_last stays) and never
 * moves the flow's idle deadline earlier. */
static void older_packets_never_move_a_deadline_back(void)
{
  start(100);
  uint8_t arp[28] = { 0 };
  int i = feed(12.0, "10.0.0.1", 1, "10.0.0.2", 2); /* A: deadline 42 */
  CHECK_EQ(entry(i)->op, PO_OP_NEW);
  i = feed(10.5, "10.0.0.2", 2, "10.0.0.1", 1);     /* would be 41 */
  CHECK_EQ(entry(i)->op, PO_OP_PKT_LATE);
  CHECK_EQ(entry(i)->rev, 1);
  CHECK(entry(i)->ts == 10.5);
  i = feed(12.0, "10.0.0.1", 1, "10.0.0.2", 2);     /* the latest time again: not late */
  CHECK_EQ(entry(i)->op, PO_OP_PKT);
  i = feed(11.0, "10.0.0.5", 5, "10.0.0.6", 6);     /* a new flow from an old frame */
  CHECK_EQ(entry(i)->op, PO_OP_NEW);
  CHECK_EQ(po_obs_packet(L.o, 9.0, 0x0806, arp, sizeof arp), PO_ENOTIP);
  collect();
  CHECK_EQ(po_obs_stats(L.o)->reordered, 3);
  for (double t = 13.25; t <= 50.25; t += 1) feed(t, "10.0.9.9", 9, "10.0.9.8", 8);
  /* the new flow completes at 41 (written at 45), A at 42 (written at 46),
   * not at 41 as its older packet would have made it */
  CHECK_EQ(L.n, 2);
  CHECK_STR(L.what[0], "10.0.0.5:5 -> 10.0.0.6:6 proto 17");
  CHECK(L.when[0] == 44.25);
  CHECK_STR(L.what[1], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  CHECK(L.when[1] == 45.25);
  stop();
}

/* IPv4 packet of protocol proto, 20 + len bytes, with fragment field ff and id. */
static size_t frag4(uint8_t *b, const char *src, const char *dst, uint8_t proto, unsigned ff,
                    unsigned id, size_t len)
{
  size_t n = ip4(b, src, dst, proto, (unsigned)(20 + len));
  put16(b + 4, id);
  put16(b + 6, ff);
  memset(b + n, 0x5a, len);
  return n + len;
}

/* Later fragments of any protocol whose first fragment was never seen are
 * skipped and counted (never a flow, never joined to an unfragmented flow of
 * the same hosts); first fragments of any protocol bring their later ones. */
static void later_fragments_of_any_protocol(void)
{
  start(100);
  uint8_t b[128];
  /* a single GRE packet at offset 1480: no flow, one fragment */
  size_t n = frag4(b, "10.0.0.1", "10.0.0.2", 47, 1480 / 8, 1, 40);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, (uint32_t)n), PO_EFRAG);
  collect();
  CHECK_EQ(po_obs_stats(L.o)->flows, 0);
  CHECK_EQ(po_obs_stats(L.o)->fragments, 1);
  /* an unfragmented GRE flow of the same hosts does not take it either */
  n = frag4(b, "10.0.0.1", "10.0.0.2", 47, 0, 2, 40);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, (uint32_t)n), PO_OK);
  collect();
  n = frag4(b, "10.0.0.1", "10.0.0.2", 47, 1480 / 8, 1, 40);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, (uint32_t)n), PO_EFRAG);
  collect();
  /* ICMP echo, a later fragment alone: skipped too */
  n = frag4(b, "10.0.0.1", "10.0.0.2", 1, 1480 / 8, 3, 40);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, (uint32_t)n), PO_EFRAG);
  collect();
  /* GRE first fragment (MF) then its later fragment: one flow */
  n = frag4(b, "10.0.0.1", "10.0.0.2", 47, 0x2000, 4, 40);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, (uint32_t)n), PO_OK);
  collect();
  n = frag4(b, "10.0.0.1", "10.0.0.2", 47, 5, 4, 40);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x0800, b, (uint32_t)n), PO_OK);
  collect();
  unsigned cnt;
  po_pkt *e = po_obs_batch(L.o, &cnt);
  CHECK_EQ(cnt, 3);
  CHECK_EQ(e[1].slot, e[0].slot); /* the GRE flow: both fragments joined it */
  CHECK_EQ(e[2].slot, e[0].slot);
  CHECK_EQ(e[2].h[0].frag, 1);
  po_stats *s = po_obs_stats(L.o);
  CHECK_EQ(s->flows, 1);
  CHECK_EQ(s->fragments, 3);
  stop();
}

/* The later fragment of a fragmented ICMP error joins the flow its first
 * fragment joined: the quoted one, in the same direction. */
static void later_fragment_of_an_icmp_error_joins_the_quoted_flow(void)
{
  start(100);
  static uint8_t syn[64], err[128], rest[128];
  size_t n = tcp4_packet(syn, "10.0.0.1", 1234, "192.0.2.9", 80, 0x02);
  po_obs_packet(L.o, 1.0, 0x0800, syn, (uint32_t)n);
  collect();
  size_t e = icmp4_error(err, "198.51.100.1", "10.0.0.1", 3, 4, syn, 40);
  put16(err + 4, 0x77);
  put16(err + 6, 0x2000); /* first fragment of more */
  CHECK_EQ(po_obs_packet(L.o, 1.5, 0x0800, err, (uint32_t)e), PO_OK);
  collect();
  /* offset: where the first one ended */
  size_t r = frag4(rest, "198.51.100.1", "10.0.0.1", 1, (unsigned)((e - 20) / 8), 0x77, 24);
  CHECK_EQ(po_obs_packet(L.o, 1.5, 0x0800, rest, (uint32_t)r), PO_OK);
  collect();
  unsigned cnt;
  po_pkt *b = po_obs_batch(L.o, &cnt);
  CHECK_EQ(cnt, 3);
  CHECK_EQ(b[1].slot, b[0].slot);
  CHECK_EQ(b[2].slot, b[0].slot);
  CHECK_EQ(b[1].rev, 1);
  CHECK_EQ(b[2].rev, 1);
  CHECK_EQ(b[2].op, PO_OP_PKT);
  CHECK_EQ(b[2].h[0].frag, 1);
  CHECK_EQ(b[2].h[0].proto, 1);
  CHECK_EQ(po_obs_stats(L.o)->flows, 1);
  CHECK_EQ(po_obs_stats(L.o)->fragments, 0);
  stop();
}

/* The same on IPv6: an ICMPv6 unreachable in two fragments quoting a UDP
 * packet; both fragments join the quoted flow as reverse packets. */
static void later_fragment_of_an_icmp6_error_joins_the_quoted_flow(void)
{
  start(100);
  static uint8_t dg[128], first[160], later[128];
  size_t n = ip6(dg, 1, 2, 17, 8 + 16);
  n += udp(dg + n, 4000, 53, 8 + 16);
  memset(dg + n, 0x33, 16);
  n += 16;
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, dg, (uint32_t)n), PO_OK);
  collect();
  /* from 2001:db8::9 to ::1: Fragment header, ICMPv6 type 1, the quotation */
  size_t f = ip6(first, 9, 1, 44, (unsigned)(8 + 8 + n));
  f += frag6(first + f, 58, 0, 1, 0xabc);
  memset(first + f, 0, 8);
  first[f] = 1;
  f += 8;
  memcpy(first + f, dg, n);
  f += n;
  size_t l = ip6(later, 9, 1, 44, 8 + 24);
  l += frag6(later + l, 58, (unsigned)(8 + n), 0, 0xabc);
  memset(later + l, 0x44, 24);
  l += 24;
  CHECK_EQ(po_obs_packet(L.o, 1.5, 0x86dd, first, (uint32_t)f), PO_OK);
  collect();
  CHECK_EQ(po_obs_packet(L.o, 1.5, 0x86dd, later, (uint32_t)l), PO_OK);
  collect();
  unsigned cnt;
  po_pkt *b = po_obs_batch(L.o, &cnt);
  CHECK_EQ(cnt, 3);
  CHECK_EQ(b[1].slot, b[0].slot);
  CHECK_EQ(b[2].slot, b[0].slot);
  CHECK_EQ(b[1].rev, 1);
  CHECK_EQ(b[2].rev, 1);
  CHECK_EQ(b[2].h[0].proto, 58);
  CHECK_EQ(po_obs_stats(L.o)->flows, 1);
  CHECK_EQ(po_obs_stats(L.o)->fragments, 0);
  stop();
}

/* IPv6: a later ICMPv6 fragment whose first was never seen is skipped. */
static void ipv6_later_icmp6_fragment_alone(void)
{
  start(100);
  uint8_t later[128];
  size_t nl = frag6_later(later, 0x4242, 58);
  CHECK_EQ(po_obs_packet(L.o, 1.0, 0x86dd, later, (uint32_t)nl), PO_EFRAG);
  collect();
  CHECK_EQ(po_obs_stats(L.o)->flows, 0);
  CHECK_EQ(po_obs_stats(L.o)->fragments, 1);
  stop();
}

/* Verdicts are stored beside the batch while the chains run and applied after
 * it: nothing changes before po_obs_apply_verdicts, then each flow does what
 * its verdict says; entries made later start without one, and a verdict for a
 * slot that a new flow took since (eviction) leaves the new flow alone. */
static void verdicts_are_applied_after_the_batch(void)
{
  start(3);
  int a = feed(10.0, "10.0.0.1", 1, "10.0.0.2", 2);  /* A completes */
  int b = feed(10.0, "10.0.0.3", 3, "10.0.0.4", 4);  /* B is ignored */
  int c = feed(10.0, "10.0.0.5", 5, "10.0.0.6", 6);  /* C: no verdict */
  int a2 = feed(10.0, "10.0.0.2", 2, "10.0.0.1", 1); /* A again, after its verdict */
  CHECK(a == 0 && b == 1 && c == 2 && a2 == 3);
  uint8_t *v = po_obs_verdicts(L.o);
  for (int i = 0; i < 4; i++) CHECK_EQ(v[i], PO_VERDICT_NONE);
  v[a] = PO_VERDICT_COMPLETE;
  v[b] = PO_VERDICT_IGNORE;
  v[a2] = PO_VERDICT_COMPLETE; /* A is expiring by then: changes nothing */
  CHECK_EQ(po_obs_stats(L.o)->ignored, 0); /* not applied yet */
  po_obs_apply_verdicts(L.o);
  CHECK_EQ(po_obs_stats(L.o)->ignored, 1);
  po_obs_apply_verdicts(L.o); /* twice: the same */
  CHECK_EQ(po_obs_stats(L.o)->ignored, 1);
  drain();
  /* the next batch's entries start without a verdict */
  int b2 = feed(11.5, "10.0.0.3", 3, "10.0.0.4", 4);
  CHECK_EQ(b2, -1); /* B ignored: its packets are dropped */
  int c2 = feed(11.5, "10.0.0.5", 5, "10.0.0.6", 6);
  CHECK_EQ(c2, 0);
  CHECK_EQ(v[0], PO_VERDICT_NONE);
  CHECK_EQ(L.n, 0);
  /* A was completed at clock 10: due at 15, written when the clock gets there;
   * C stays (active, idle deadline 42), B is never written */
  for (double t = 12.0; t < 14.5; t += 0.5) feed(t, "10.0.0.5", 5, "10.0.0.6", 6);
  CHECK_EQ(L.n, 0);
  feed(14.5, "10.0.0.5", 5, "10.0.0.6", 6);
  CHECK_EQ(L.n, 1);
  CHECK_STR(L.what[0], "10.0.0.1:1 -> 10.0.0.2:2 proto 17");
  CHECK_EQ(po_obs_stats(L.o)->records, 1);
  drain();
  /* at the end of the input C is written, B (ignored) is not */
  po_obs_flush(L.o);
  collect();
  CHECK_EQ(L.n, 2);
  CHECK_STR(L.what[1], "10.0.0.5:5 -> 10.0.0.6:6 proto 17");
  CHECK_EQ(po_obs_stats(L.o)->ignored, 1);
  stop();
}

/* An eviction inside a batch reuses a slot: a verdict given to the old flow's
 * entry (made before the eviction) must not reach the flow that took the slot. */
static void verdict_of_an_evicted_flow_leaves_its_slot_alone(void)
{
  start(1);
  int a = feed(1.0, "10.0.0.1", 1, "10.0.0.2", 2);
  int b = feed(1.0, "10.0.0.3", 3, "10.0.0.4", 4); /* evicts A: EMIT, then B's NEW */
  CHECK_EQ(a, 0);
  CHECK_EQ(b, 2);
  CHECK_EQ(entry(1)->op, PO_OP_EMIT);
  CHECK_EQ(entry(b)->slot, entry(a)->slot);
  uint8_t *v = po_obs_verdicts(L.o);
  CHECK_EQ(v[1], PO_VERDICT_NONE);
  CHECK_EQ(v[2], PO_VERDICT_NONE);
  v[a] = PO_VERDICT_IGNORE; /* A's new_flow said no, too late: A is evicted */
  po_obs_apply_verdicts(L.o);
  CHECK_EQ(po_obs_stats(L.o)->ignored, 0);
  drain();
  CHECK(feed(1.5, "10.0.0.3", 3, "10.0.0.4", 4) >= 0); /* B is not ignored */
  stop();
}

int main(void)
{
  RUN(every_frame_moves_the_clock);
  RUN(older_packets_never_move_a_deadline_back);
  RUN(later_fragments_of_any_protocol);
  RUN(later_fragment_of_an_icmp_error_joins_the_quoted_flow);
  RUN(ipv6_later_icmp6_fragment_alone);
  RUN(later_fragment_of_an_icmp6_error_joins_the_quoted_flow);
  RUN(icmp_error_opening_a_flow_is_reverse);
  RUN(idle_flow_completes_then_is_written_after_expiry);
  RUN(expiring_flow_keeps_receiving_packets);
  RUN(late_emission_after_a_jump);
  RUN(ignored_key_is_dropped_until_idle);
  RUN(full_table_evicts_the_oldest);
  RUN(flush_writes_expiring_then_active);
  RUN(flows_due_together_complete_in_the_order_their_deadlines_were_set);
  RUN(flush_writes_active_flows_in_deadline_order);
  RUN(eviction_sees_moved_deadlines);
  RUN(batches_are_cut_where_the_clock_moves);
  RUN(non_ip_and_short_are_counted);
  RUN(padding_is_no_transport_header);
  RUN(fragments_follow_their_first);
  RUN(ipv6_fragments_after_destination_options);
  RUN(ipv6_later_fragment_before_its_first);
  RUN(verdicts_are_applied_after_the_batch);
  RUN(verdict_of_an_evicted_flow_leaves_its_slot_alone);
  return check_report();
}
