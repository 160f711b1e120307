/* gen_trace.c - reproducible synthetic pcap traces for the pathobs benchmark (libc only).
 *
 *   gen_trace mix   OUT.pcap [--flows 100000] [--packets 900000] [options]
 *   gen_trace flood OUT.pcap [--flows 1000000] [options]
 *
 * mix: many interleaved flows, as a PATHspider measurement host sees them.
 *   TCP (~60% of flows): SYN with options (MSS, SACK-permitted, timestamps,
 *   window scale in Linux or Windows order; some TFO cookie requests, some TFO
 *   data on SYN, some experimental-kind TFO), SYN+ACK, data exchanges whose
 *   segments follow MSS, FIN or RST or nothing at the end; some flows are
 *   refused (RST), go unanswered (SYN retransmissions), draw an ICMP error
 *   that quotes their SYN, pause past the idle timeout, or trickle for
 *   minutes. ECN negotiation with ECT(0)/ECT(1)/CE marks and ECE on some
 *   flows, DSCP marks on some.
 *   UDP (~28%): DNS-like query/response with real DNS wire format (some
 *   unanswered, retransmitted, refused with ICMP port unreachable quoting the
 *   query, or answered with a response fragmented in two), NTP-like exchanges,
 *   QUIC-like bursts on 443; a few zero UDP checksums.
 *   ICMP (~12%): echo request/reply series.
 *   ~10% of the flows are IPv6.  Flow starts are spread over --duration
 *   seconds (default 300), so with 30 s idle timeouts most flows end during
 *   the trace, not at its end.  The packet total is exactly --packets: what
 *   the fixed parts of the flows leave is spread over the data phases of the
 *   established TCP flows (heavy-tailed).
 *
 * flood: --flows SYN-only flows with distinct keys (client address and port
 *   vary, 256 servers on 80/443), evenly spread over --duration seconds
 *   (default 4): every flow is live at the end of the trace.  With --one-key
 *   every packet has the same key: the same number of packets in one flow,
 *   the baseline that leaves only the cost per flow.
 *
 * Options: --seed N (fixed default: the same arguments give the same bytes),
 * --duration SEC, --v6 PERCENT (mix 10, flood 0), --snaplen N (0: whole
 * frames), --start EPOCH (first timestamp, default 1700000000).
 *
 * Output: classic pcap, microseconds, Ethernet.  IPv4 header checksums are
 * right; TCP/UDP/ICMP checksums are arbitrary non-zero values (except the
 * deliberate zero UDP checksums).  Every IP and UDP length matches the bytes.
 * A summary line goes to standard error.
 *
 * Build: cc -O2 -o gen_trace gen_trace.c -lm
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ random */

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64 */
{
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint32_t below(uint32_t n) { return n ? (uint32_t)((rnd() >> 32) * n >> 32) : 0; }
static double unit(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static int chance(double p) { return unit() < p; }
static uint32_t range(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }
/* exponential with this mean, in microseconds */
static uint64_t expo_us(double mean_s) { return (uint64_t)(-log(1.0 - unit()) * mean_s * 1e6); }

static uint32_t mix32(uint32_t x)
{
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
  return x;
}

/* ------------------------------------------------------------------ output */

static FILE *out;
static const char *out_name;
static uint32_t snaplen;
static uint64_t start_epoch = 1700000000ull;
static uint64_t n_written, bytes_written;

static void die(const char *what)
{
  fprintf(stderr, "gen_trace: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void put32(uint32_t v) { if (fwrite(&v, 4, 1, out) != 1) die(out_name); }

static void pcap_open(const char *path)
{
  out_name = path;
  out = fopen(path, "wb");
  if (out == NULL) die(path);
  static char buf[1 << 22];
  setvbuf(out, buf, _IOFBF, sizeof buf);
  put32(0xa1b2c3d4u);                          /* native order, microseconds */
  uint16_t ver[2] = { 2, 4 };
  if (fwrite(ver, 2, 2, out) != 2) die(path);
  put32(0);                                    /* thiszone */
  put32(0);                                    /* sigfigs */
  put32(snaplen ? snaplen : 65535);
  put32(1);                                    /* LINKTYPE_ETHERNET */
}

static void pcap_put(uint64_t t_us, const uint8_t *frame, uint32_t len)
{
  uint32_t incl = snaplen && len > snaplen ? snaplen : len;
  put32((uint32_t)(start_epoch + t_us / 1000000));
  put32((uint32_t)(t_us % 1000000));
  put32(incl);
  put32(len);
  if (fwrite(frame, 1, incl, out) != incl) die(out_name);
  n_written++;
  bytes_written += 16 + incl;
}

static void pcap_close(void)
{
  if (fclose(out) != 0) die(out_name);
}

/* ------------------------------------------------------------------ bytes */

static void be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void be32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint16_t ip_checksum(const uint8_t *p, int n)
{
  uint32_t s = 0;
  for (int i = 0; i < n; i += 2) s += (uint32_t)p[i] << 8 | p[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static uint8_t filler[4096]; /* payload bytes */

typedef struct addr { uint8_t v6, b[16]; } addr;

/* clients 10.0.0.0/8 and 2001:db8:1::/48; servers 198.18.0.0/15 (RFC 2544)
 * and 2001:db8:5::/48; routers 203.0.113.0/24 and 2001:db8:ff::/48 */
static addr mkaddr(int v6, int role, uint32_t i)
{
  addr a;
  memset(&a, 0, sizeof a);
  a.v6 = (uint8_t)v6;
  if (!v6) {
    uint32_t base = role == 0 ? 0x0a000000u : role == 1 ? 0xc6120000u : 0xcb007100u;
    uint32_t mask = role == 0 ? 0xffffffu : role == 1 ? 0x1ffffu : 0xffu;
    uint32_t v = base | ((i + 1) & mask);
    be32(a.b, v);
  } else {
    be16(a.b, 0x2001); be16(a.b + 2, 0x0db8);
    be16(a.b + 4, role == 0 ? 1 : role == 1 ? 5 : 0xff);
    be32(a.b + 12, i + 1);
  }
  return a;
}

static const uint8_t mac_cli[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0, 0, 0xfe };

/* Ethernet + IP header at p; returns the IP header length. */
static int put_l2l3(uint8_t *p, const addr *src, const addr *dst, int from_cli, uint8_t proto,
                    uint8_t tos, uint8_t ttl, uint32_t l4len, uint16_t ipid, int df)
{
  memcpy(p, from_cli ? mac_gw : mac_cli, 6);
  memcpy(p + 6, from_cli ? mac_cli : mac_gw, 6);
  be16(p + 12, src->v6 ? 0x86dd : 0x0800);
  uint8_t *ip = p + 14;
  if (!src->v6) {
    ip[0] = 0x45; ip[1] = tos;
    be16(ip + 2, 20 + l4len);
    be16(ip + 4, ipid);
    be16(ip + 6, df ? 0x4000 : 0);
    ip[8] = ttl; ip[9] = proto;
    ip[10] = ip[11] = 0;
    memcpy(ip + 12, src->b, 4);
    memcpy(ip + 16, dst->b, 4);
    be16(ip + 10, ip_checksum(ip, 20));
    return 20;
  }
  be32(ip, 0x60000000u | (uint32_t)tos << 20 | (ipid & 0xfffff));
  be16(ip + 4, l4len);
  ip[6] = proto; ip[7] = ttl;
  memcpy(ip + 8, src->b, 16);
  memcpy(ip + 24, dst->b, 16);
  return 40;
}

/* Pad a frame to the Ethernet minimum (60 bytes without FCS). */
static uint32_t eth_pad(uint8_t *frame, uint32_t len)
{
  if (len < 60) { memset(frame + len, 0, 60 - len); len = 60; }
  return len;
}

/* ------------------------------------------------------------------ flows */

enum { K_TCP, K_UDP, K_ICMP };
/* TCP variants */
enum { TV_NORMAL, TV_NOANSWER, TV_REFUSED, TV_ICMPERR };
/* UDP variants */
enum { UV_DNS, UV_DNS_NOANSWER, UV_DNS_RETRY, UV_DNS_UNREACH, UV_DNS_FRAG, UV_NTP, UV_QUIC };
/* TCP options layouts on the SYN */
enum { OPT_LINUX, OPT_WINDOWS, OPT_MSSONLY, OPT_NONE };
/* TFO on the SYN */
enum { TFO_NONE, TFO_REQ, TFO_DATA, TFO_EXP_REQ, TFO_EXP_DATA };
/* close */
enum { CL_FIN3, CL_FIN4, CL_RST_C, CL_RST_S, CL_NONE };

typedef struct flow {
  uint32_t cli, srv;
  uint32_t isn_c, isn_s, nxt_c, nxt_s;
  uint32_t tsval_c, tsval_s;  /* TCP timestamp bases */
  uint32_t ndata;             /* TCP data-phase packets */
  uint64_t t0;                /* first packet, us */
  uint32_t rtt;               /* us */
  uint16_t sp, dp;
  uint16_t mss, syn_dlen;
  uint16_t icmp_id, icmp_seq, dns_id;
  uint8_t kind, variant, v6, opts, tfo, close, ecn, ect_mark;
  uint8_t dscp_c, dscp_s, ttl_s, zero_csum, pause, trickle, ece_pending, nsyn;
} flow;

enum {
  S_SYN, S_SYNACK, S_ACK_C, S_ACK_S, S_DATA_C, S_DATA_S, S_FIN_C, S_FIN_S, S_RST_C, S_RST_S,
  S_UDP_C, S_UDP_S, S_UDP_FRAG1, S_UDP_FRAG2, S_ECHO_C, S_ECHO_S, S_ICMP_ERR
};

typedef struct step {
  uint64_t t;      /* us since the start of the trace */
  uint32_t flow;
  uint16_t len;    /* payload length */
  uint8_t type;    /* S_* */
  uint8_t mark;    /* 1: CE on this packet */
} step;

static flow *F;
static uint32_t nflows;
static step *S;
static size_t nsteps, capsteps;

/* Append a step; a flow's steps come in order and never share a time. */
static void add(uint32_t f, uint64_t t, uint8_t type, uint16_t len, uint8_t mark)
{
  if (nsteps > 0 && S[nsteps - 1].flow == f && t <= S[nsteps - 1].t) t = S[nsteps - 1].t + 1;
  if (nsteps == capsteps) {
    capsteps = capsteps ? capsteps * 2 : 1 << 16;
    S = realloc(S, capsteps * sizeof *S);
    if (S == NULL) die("memory");
  }
  S[nsteps++] = (step){ t, f, len, type, mark };
}

static int cmp_step(const void *a, const void *b)
{
  const step *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  if (x->flow != y->flow) return x->flow < y->flow ? -1 : 1;
  return 0; /* steps of one flow never share a time */
}

/* Pick kind and variant; return the packets outside a TCP data phase. */
static uint32_t plan_flow(flow *f, uint32_t idx, double v6_share, double duration)
{
  memset(f, 0, sizeof *f);
  f->v6 = (uint8_t)chance(v6_share);
  f->cli = below(20000);
  { double u = unit(); f->srv = (uint32_t)(u * u * 3000); }
  f->sp = (uint16_t)range(32768, 60999);
  f->t0 = (uint64_t)(unit() * duration * 0.9 * 1e6);
  double r = unit();
  f->rtt = r < 0.3 ? range(500, 5000) : r < 0.8 ? range(10000, 60000) : range(80000, 300000);
  f->ttl_s = (uint8_t)(chance(0.7) ? 64 - range(5, 20) : 128 - range(5, 20));
  f->icmp_id = (uint16_t)mix32(idx * 2 + 1);
  f->dns_id = (uint16_t)mix32(idx * 2 + 2);
  double k = unit();
  if (k < 0.60) {
    f->kind = K_TCP;
    double u = unit();
    f->variant = u < 0.05 ? TV_NOANSWER : u < 0.10 ? TV_REFUSED : u < 0.13 ? TV_ICMPERR : TV_NORMAL;
    f->dp = chance(0.6) ? 443 : chance(0.85) ? 80 : chance(0.5) ? 8080 : 22;
    u = unit();
    f->opts = u < 0.80 ? OPT_LINUX : u < 0.93 ? OPT_WINDOWS : u < 0.98 ? OPT_MSSONLY : OPT_NONE;
    f->mss = f->v6 ? 1440 : 1460;
    if (chance(0.05)) f->mss = chance(0.5) ? 1380 : 536;
    u = unit();
    f->tfo = u < 0.03 ? TFO_REQ : u < 0.06 ? TFO_DATA : u < 0.07 ? TFO_EXP_REQ
             : u < 0.08 ? TFO_EXP_DATA : TFO_NONE;
    if (f->opts == OPT_NONE) f->tfo = TFO_NONE;
    if (f->tfo == TFO_DATA || f->tfo == TFO_EXP_DATA) f->syn_dlen = (uint16_t)range(50, 400);
    f->isn_c = (uint32_t)rnd();
    f->isn_s = (uint32_t)rnd();
    f->tsval_c = (uint32_t)rnd();
    f->tsval_s = (uint32_t)rnd();
    /* ECN: 1 negotiated (ECT(0) data), 2 negotiated with ECT(1), 3 asked but refused,
     * 4 ECT(0) on the SYN itself (a marking middlebox) */
    u = unit();
    f->ecn = u < 0.15 ? 1 : u < 0.17 ? 2 : u < 0.22 ? 3 : u < 0.23 ? 4 : 0;
    f->dscp_c = chance(0.10) ? (uint8_t)(u < 0.5 ? 10 : u < 0.8 ? 18 : 46) : 0;
    f->dscp_s = chance(0.05) ? 8 : f->dscp_c && chance(0.5) ? f->dscp_c : 0;
    u = unit();
    f->close = u < 0.55 ? CL_FIN3 : u < 0.70 ? CL_FIN4 : u < 0.78 ? CL_RST_C
               : u < 0.85 ? CL_RST_S : CL_NONE;
    f->pause = (uint8_t)chance(0.08);
    f->trickle = (uint8_t)(!f->pause && chance(0.03));
    switch (f->variant) {
    case TV_NOANSWER: f->nsyn = (uint8_t)range(1, 3); return f->nsyn;
    case TV_REFUSED: return 2;
    case TV_ICMPERR: f->nsyn = (uint8_t)range(1, 2); return f->nsyn + 1;
    default:
      return 3 + (f->close == CL_FIN3 ? 3 : f->close == CL_FIN4 ? 4 : f->close == CL_NONE ? 0 : 1);
    }
  }
  if (k < 0.88) {
    f->kind = K_UDP;
    double u = unit();
    f->variant = u < 0.55 ? UV_DNS : u < 0.60 ? UV_DNS_NOANSWER : u < 0.65 ? UV_DNS_RETRY
                 : u < 0.68 ? UV_DNS_UNREACH : u < 0.70 ? UV_DNS_FRAG : u < 0.77 ? UV_NTP : UV_QUIC;
    if (f->v6 && f->variant == UV_DNS_FRAG) f->variant = UV_DNS; /* v4 fragments only */
    f->dp = f->variant == UV_NTP ? 123 : f->variant == UV_QUIC ? 443 : 53;
    if (f->variant == UV_NTP) f->sp = 123;
    f->zero_csum = (uint8_t)(!f->v6 && chance(0.03));
    f->ecn = (uint8_t)(f->variant == UV_QUIC && chance(0.3));
    f->dscp_c = chance(0.05) ? 46 : 0;
    switch (f->variant) {
    case UV_DNS_NOANSWER: return 1;
    case UV_DNS_RETRY: return 3;
    case UV_DNS_FRAG: return 3;
    case UV_QUIC: f->ndata = range(4, 24); return f->ndata;
    default: return 2;
    }
  }
  f->kind = K_ICMP;
  f->ndata = range(1, 4);                 /* echo requests */
  f->variant = (uint8_t)chance(0.1);      /* 1: no replies */
  return f->variant ? f->ndata : 2 * f->ndata;
}

static uint16_t req_len(void) { return (uint16_t)range(60, 700); }

/* The steps of a flow, from its plan. */
static void script_flow(uint32_t i)
{
  flow *f = &F[i];
  uint64_t t = f->t0, rtt = f->rtt;
  if (f->kind == K_ICMP) {
    for (uint32_t k = 0; k < f->ndata; k++) {
      add(i, t, S_ECHO_C, 56, 0);
      if (!f->variant) add(i, t + rtt, S_ECHO_S, 56, 0);
      t += 1000000 + below(2000);
    }
    return;
  }
  if (f->kind == K_UDP) {
    uint16_t q = 0; /* payload lengths are fixed by the builder for DNS */
    switch (f->variant) {
    case UV_DNS: add(i, t, S_UDP_C, q, 0); add(i, t + rtt + below(20000), S_UDP_S, q, 0); break;
    case UV_DNS_NOANSWER: add(i, t, S_UDP_C, q, 0); break;
    case UV_DNS_RETRY:
      add(i, t, S_UDP_C, q, 0);
      add(i, t + 1000000, S_UDP_C, q, 0);
      add(i, t + 1000000 + rtt, S_UDP_S, q, 0);
      break;
    case UV_DNS_UNREACH: add(i, t, S_UDP_C, q, 0); add(i, t + rtt, S_ICMP_ERR, 0, 0); break;
    case UV_DNS_FRAG:
      add(i, t, S_UDP_C, q, 0);
      add(i, t + rtt, S_UDP_FRAG1, 0, 0);
      add(i, t + rtt + 10, S_UDP_FRAG2, 0, 0);
      break;
    case UV_NTP: add(i, t, S_UDP_C, 48, 0); add(i, t + rtt, S_UDP_S, 48, 0); break;
    case UV_QUIC: {
      add(i, t, S_UDP_C, 1200, 0);
      uint32_t left = f->ndata - 1;
      t += rtt;
      while (left > 0) {
        uint32_t burst = range(1, 4);
        for (uint32_t b = 0; b < burst && left > 0; b++, left--) {
          add(i, t, S_UDP_S, (uint16_t)range(100, 1350), (uint8_t)(f->ecn && chance(0.02)));
          t += range(20, 400);
        }
        if (left > 0) { add(i, t + 100, S_UDP_C, (uint16_t)range(40, 120), 0); left--; }
        t += rtt + expo_us(0.2);
      }
      break;
    }
    }
    return;
  }
  /* TCP */
  switch (f->variant) {
  case TV_NOANSWER:
    for (uint32_t k = 0; k < f->nsyn; k++) add(i, t + (1000000ull << k) - 1000000, S_SYN, 0, 0);
    return;
  case TV_REFUSED:
    add(i, t, S_SYN, 0, 0);
    add(i, t + rtt, S_RST_S, 0, 0);
    return;
  case TV_ICMPERR:
    add(i, t, S_SYN, 0, 0);
    add(i, t + rtt / 2, S_ICMP_ERR, 0, 0);
    if (f->nsyn > 1) add(i, t + 1000000, S_SYN, 0, 0);
    return;
  }
  add(i, t, S_SYN, 0, 0);
  add(i, t + rtt, S_SYNACK, 0, 0);
  t += rtt + range(30, 300);
  add(i, t, S_ACK_C, 0, 0);
  uint16_t seg = (uint16_t)(f->mss - (f->opts == OPT_LINUX ? 12 : 0));
  uint32_t left = f->ndata;
  int first = 1, paused = 0;
  while (left > 0) {
    if (f->pause && !paused && (left < f->ndata / 2 || left <= 2)) {
      t += range(31000000, 120000000);  /* past the idle timeout: a new record after */
      paused = 1;
    } else if (f->trickle && t - f->t0 < 150000000) {
      t += range(3000000, 25000000);    /* keep-alive pace, under the idle timeout */
    } else {
      t += first ? range(50, 500) : expo_us(0.3);
    }
    first = 0;
    add(i, t, S_DATA_C, req_len(), 0);
    left--;
    t += rtt + range(100, 20000);
    uint32_t n = 1;
    while (n < 40 && chance(0.7)) n++;
    int ce = 0;
    for (uint32_t b = 0; b < n && left > 0; b++, left--) {
      uint8_t mark = (uint8_t)(f->ecn == 1 && chance(0.03));
      ce |= mark;
      uint16_t len = b + 1 == n || left == 1 ? (uint16_t)range(100, seg) : seg;
      add(i, t, S_DATA_S, len, mark);
      t += range(10, 300);
    }
    if (left > 0) { add(i, t + (chance(0.3) ? 40000 : 100), S_ACK_C, 0, (uint8_t)ce); left--; }
    t += 40000;
  }
  t += expo_us(0.5) + 1000;
  switch (f->close) {
  case CL_FIN3:
    add(i, t, S_FIN_C, 0, 0);
    add(i, t + rtt, S_FIN_S, 0, 0);
    add(i, t + rtt + 100, S_ACK_C, 0, 0);
    break;
  case CL_FIN4:
    add(i, t, S_FIN_S, 0, 0);
    add(i, t + rtt / 2 + 100, S_ACK_C, 0, 0);
    add(i, t + rtt / 2 + 5000, S_FIN_C, 0, 0);
    add(i, t + rtt + 5000, S_ACK_S, 0, 0);
    break;
  case CL_RST_C: add(i, t, S_RST_C, 0, 0); break;
  case CL_RST_S: add(i, t, S_RST_S, 0, 0); break;
  }
}

/* ------------------------------------------------------------------ packets */

/* TCP options for a segment; returns their length (a multiple of 4). */
static int tcp_options(uint8_t *o, const flow *f, int dir, uint8_t flags, uint64_t t)
{
  int n = 0;
  uint32_t ms = (uint32_t)(t / 1000);
  uint32_t tsv = (dir ? f->tsval_s : f->tsval_c) + ms;
  uint32_t tse = dir ? f->tsval_c + ms - f->rtt / 1000 : f->tsval_s + ms;
  if (flags & 0x02) { /* SYN or SYN+ACK */
    switch (f->opts) {
    case OPT_LINUX:
      o[n++] = 2; o[n++] = 4; be16(o + n, f->mss); n += 2;
      o[n++] = 4; o[n++] = 2;
      o[n++] = 8; o[n++] = 10; be32(o + n, tsv); be32(o + n + 4, (flags & 0x10) ? tse : 0); n += 8;
      o[n++] = 1; o[n++] = 3; o[n++] = 3; o[n++] = 7;
      break;
    case OPT_WINDOWS:
      o[n++] = 2; o[n++] = 4; be16(o + n, f->mss); n += 2;
      o[n++] = 1; o[n++] = 3; o[n++] = 3; o[n++] = 8;
      o[n++] = 1; o[n++] = 1; o[n++] = 4; o[n++] = 2;
      break;
    case OPT_MSSONLY:
      o[n++] = 2; o[n++] = 4; be16(o + n, f->mss); n += 2;
      break;
    default: break;
    }
    int syn = !(flags & 0x10);
    switch (f->tfo) {
    case TFO_REQ:
      if (syn) { o[n++] = 34; o[n++] = 2; }
      else { o[n++] = 34; o[n++] = 10; for (int k = 0; k < 8; k++) o[n++] = (uint8_t)(f->isn_s >> k); }
      break;
    case TFO_DATA:
      o[n++] = 34; o[n++] = 10;
      for (int k = 0; k < 8; k++) o[n++] = (uint8_t)(f->isn_c >> k);
      break;
    case TFO_EXP_REQ:
    case TFO_EXP_DATA:
      if (syn) {
        int clen = f->tfo == TFO_EXP_DATA ? 8 : 0;
        o[n++] = 254; o[n++] = (uint8_t)(4 + clen); o[n++] = 0xf9; o[n++] = 0x89;
        for (int k = 0; k < clen; k++) o[n++] = (uint8_t)(f->isn_c >> k);
      }
      break;
    }
  } else if (f->opts == OPT_LINUX && !(flags & 0x04)) {
    o[n++] = 1; o[n++] = 1;
    o[n++] = 8; o[n++] = 10; be32(o + n, tsv); be32(o + n + 4, tse); n += 8;
  }
  while (n & 3) o[n++] = 1; /* NOP up to a multiple of 4 (before, in real stacks; fine) */
  return n;
}

/* Traffic class: the flow's DSCP; ECT only on TCP segments with data once
 * ECN is negotiated (not on SYNs or pure ACKs, as Linux does), except the
 * "marking middlebox" flows whose SYN carries ECT(0). */
static uint8_t tos_of(const flow *f, int dir, int syn, int data, int mark)
{
  uint8_t dscp = dir ? f->dscp_s : f->dscp_c;
  uint8_t ecn = 0;
  if (f->ecn == 4 && syn && !dir) ecn = 2;
  if (!syn && data && (f->ecn == 1 || f->ecn == 2)) ecn = f->ecn == 1 ? 2 : 1;
  if (f->kind == K_UDP && f->ecn) ecn = 2;
  if (mark) ecn = 3;
  return (uint8_t)(dscp << 2 | ecn);
}

static void endpoints(const flow *f, int dir, addr *src, addr *dst)
{
  addr c = mkaddr(f->v6, 0, f->cli), s = mkaddr(f->v6, 1, f->srv);
  *src = dir ? s : c;
  *dst = dir ? c : s;
}

/* A TCP segment; returns the frame length. */
static uint32_t tcp_frame(uint8_t *fr, flow *f, int dir, uint8_t flags, uint16_t plen, uint64_t t,
                          int mark, int ipid_fixed)
{
  addr src, dst;
  endpoints(f, dir, &src, &dst);
  uint8_t opt[40];
  int olen = tcp_options(opt, f, dir, flags, t);
  uint32_t l4 = 20 + olen + plen;
  int syn = (flags & 0x02) != 0;
  /* IPv4 id (fixed on the SYN, so quotations match it); IPv6 flow label per flow */
  uint16_t ipid = ipid_fixed || f->v6 ? (uint16_t)(f->isn_c >> 16) : (uint16_t)rnd();
  int h = put_l2l3(fr, &src, &dst, !dir, 6, tos_of(f, dir, syn, plen > 0, mark),
                   dir ? f->ttl_s : 64, l4, ipid, 1);
  uint8_t *tp = fr + 14 + h;
  be16(tp, dir ? f->dp : f->sp);
  be16(tp + 2, dir ? f->sp : f->dp);
  be32(tp + 4, dir ? f->nxt_s : f->nxt_c);
  be32(tp + 8, (flags & 0x10) ? (dir ? f->nxt_c : f->nxt_s) : 0);
  tp[12] = (uint8_t)((20 + olen) / 4 << 4);
  tp[13] = flags;
  be16(tp + 14, dir ? 65160 : 64240);
  be16(tp + 16, (uint16_t)(mix32(f->isn_c ^ (uint32_t)t) | 1));
  be16(tp + 18, 0);
  memcpy(tp + 20, opt, (size_t)olen);
  memcpy(tp + 20 + olen, filler + (f->isn_c & 1023), plen);
  return eth_pad(fr, 14 + (uint32_t)h + l4);
}

/* The client's SYN exactly as first sent (for the packet and for quotations). */
static uint32_t syn_frame(uint8_t *fr, flow *f)
{
  uint32_t save = f->nxt_c;
  f->nxt_c = f->isn_c;
  uint8_t flags = f->ecn && f->ecn != 4 ? 0x02 | 0x40 | 0x80 : 0x02; /* ECE+CWR asks for ECN */
  uint32_t n = tcp_frame(fr, f, 0, flags, f->syn_dlen, f->t0, 0, 1);
  f->nxt_c = save;
  return n;
}

/* DNS name for a flow: <label>.<zone>. */
static int dns_name(uint8_t *p, uint32_t idx)
{
  static const char *const zones[] = { "example", "test", "invalid", "measurement", "pathobs" };
  static const char *const tlds[] = { "com", "net", "org", "arpa" };
  char label[16];
  uint32_t h = mix32(idx);
  int ln = 3 + (int)(h % 12);
  for (int k = 0; k < ln; k++) label[k] = (char)('a' + (mix32(h + (uint32_t)k) % 26));
  int n = 0;
  p[n++] = (uint8_t)ln; memcpy(p + n, label, (size_t)ln); n += ln;
  const char *z = zones[(h >> 8) % 5], *t = tlds[(h >> 12) % 4];
  p[n++] = (uint8_t)strlen(z); memcpy(p + n, z, strlen(z)); n += (int)strlen(z);
  p[n++] = (uint8_t)strlen(t); memcpy(p + n, t, strlen(t)); n += (int)strlen(t);
  p[n++] = 0;
  return n;
}

/* UDP payload of a flow's step; returns its length. */
static uint32_t udp_payload(uint8_t *p, const flow *f, uint32_t idx, int dir, uint16_t len, int big)
{
  if (f->dp != 53) {
    memcpy(p, filler + (idx & 1023), len);
    if (f->dp == 123) { p[0] = dir ? 0x24 : 0x23; }
    return len;
  }
  int edns = (mix32(idx) & 3) == 0 || big;
  uint16_t qtype = f->v6 ? 28 : 1;
  be16(p, f->dns_id);
  be16(p + 2, dir ? 0x8180 : 0x0100);
  be16(p + 4, 1);
  be16(p + 6, dir ? (big ? 24 : 1) : 0);
  be16(p + 8, 0);
  be16(p + 10, edns ? 1 : 0);
  uint32_t n = 12;
  n += (uint32_t)dns_name(p + n, idx);
  be16(p + n, qtype); be16(p + n + 2, 1); n += 4;
  if (dir) {
    int nans = big ? 24 : 1;
    for (int a = 0; a < nans; a++) {
      be16(p + n, 0xc00c); be16(p + n + 2, big ? 16 : qtype); be16(p + n + 4, 1);
      be32(p + n + 6, 300); n += 10;
      uint16_t rdlen = big ? 60 : qtype == 1 ? 4 : 16;
      be16(p + n, rdlen); n += 2;
      if (big) { p[n] = (uint8_t)(rdlen - 1); memset(p + n + 1, 'v', rdlen - 1u); }
      else { memset(p + n, 0, rdlen); be32(p + n, mix32(idx) | 1); }
      n += rdlen;
    }
  }
  if (edns) { /* OPT RR */
    p[n] = 0; be16(p + n + 1, 41); be16(p + n + 3, 1232); be32(p + n + 5, 0); be16(p + n + 9, 0);
    n += 11;
  }
  return n;
}

static uint32_t udp_frame(uint8_t *fr, flow *f, uint32_t idx, int dir, uint16_t len, uint64_t t,
                          int mark, int first)
{
  addr src, dst;
  endpoints(f, dir, &src, &dst);
  uint8_t pay[2048];
  uint32_t plen = udp_payload(pay, f, idx, dir, len, 0);
  uint32_t l4 = 8 + plen;
  uint16_t ipid = first ? (uint16_t)f->dns_id : (uint16_t)rnd();
  int h = put_l2l3(fr, &src, &dst, !dir, 17, tos_of(f, dir, 0, 1, mark), dir ? f->ttl_s : 64, l4,
                   ipid, 0);
  uint8_t *up = fr + 14 + h;
  be16(up, dir ? f->dp : f->sp);
  be16(up + 2, dir ? f->sp : f->dp);
  be16(up + 4, l4);
  be16(up + 6, !dir && f->zero_csum ? 0 : (uint16_t)(mix32(idx ^ (uint32_t)t) | 1));
  memcpy(up + 8, pay, plen);
  return eth_pad(fr, 14 + (uint32_t)h + l4);
}

/* A large DNS response in two IPv4 fragments: part 1 or 2. */
static uint32_t udp_frag_frame(uint8_t *fr, flow *f, uint32_t idx, int part)
{
  addr src, dst;
  endpoints(f, 1, &src, &dst);
  uint8_t pay[4096];
  uint8_t dgram[4200];
  uint32_t plen = udp_payload(pay, f, idx, 1, 0, 1);
  uint32_t l4 = 8 + plen;
  be16(dgram, f->dp); be16(dgram + 2, f->sp); be16(dgram + 4, l4);
  be16(dgram + 6, (uint16_t)(mix32(idx) | 1));
  memcpy(dgram + 8, pay, plen);
  uint32_t first = 1480 - 1480 % 8; /* fragment payload bytes, a multiple of 8 */
  if (first > l4) first = l4 - l4 % 8;
  uint32_t off = part == 1 ? 0 : first, n = part == 1 ? first : l4 - first;
  uint16_t ipid = (uint16_t)(f->dns_id ^ 0x5555);
  int h = put_l2l3(fr, &src, &dst, 0, 17, tos_of(f, 1, 0, 1, 0), f->ttl_s, n, ipid, 0);
  uint8_t *ip = fr + 14;
  be16(ip + 6, (part == 1 ? 0x2000 : 0) | (off / 8));
  ip[10] = ip[11] = 0;
  be16(ip + 10, ip_checksum(ip, 20));
  memcpy(fr + 14 + h, dgram + off, n);
  return eth_pad(fr, 14 + (uint32_t)h + n);
}

static uint32_t echo_frame(uint8_t *fr, flow *f, int dir, uint64_t t)
{
  addr src, dst;
  endpoints(f, dir, &src, &dst);
  uint32_t l4 = 8 + 56;
  int h = put_l2l3(fr, &src, &dst, !dir, f->v6 ? 58 : 1, 0, dir ? f->ttl_s : 64, l4,
                   (uint16_t)rnd(), 0);
  uint8_t *ic = fr + 14 + h;
  ic[0] = f->v6 ? (dir ? 129 : 128) : (dir ? 0 : 8);
  ic[1] = 0;
  be16(ic + 2, (uint16_t)(mix32(f->icmp_id + f->icmp_seq) | 1));
  be16(ic + 4, f->icmp_id);
  be16(ic + 6, f->icmp_seq);
  be32(ic + 8, (uint32_t)(start_epoch + t / 1000000));
  be32(ic + 12, (uint32_t)(t % 1000000));
  for (int k = 16; k < 64; k++) ic[k] = (uint8_t)(k - 8);
  return eth_pad(fr, 14 + (uint32_t)h + l4);
}

/* An ICMP error back to the client quoting the flow's first client packet. */
static uint32_t icmp_err_frame(uint8_t *fr, flow *f, uint32_t idx)
{
  uint8_t orig[2048];
  uint32_t olen;
  int tcp = f->kind == K_TCP;
  if (tcp) olen = syn_frame(orig, f);
  else olen = udp_frame(orig, f, idx, 0, 0, f->t0, 0, 1);
  const uint8_t *oip = orig + 14;
  uint32_t oiplen = f->v6 ? 40u + (uint32_t)(oip[4] << 8 | oip[5]) : (uint32_t)(oip[2] << 8 | oip[3]);
  (void)olen;
  /* who answers: the server itself (port unreachable, admin prohibited) or a router */
  uint32_t h = mix32(idx * 7 + 3);
  int from_router = tcp && (h & 1);
  uint8_t type, code;
  if (!f->v6) {
    if (!tcp) { type = 3; code = 3; }
    else if (from_router) { type = (h & 2) ? 11 : 3; code = type == 3 ? 1 : 0; }
    else { type = 3; code = 13; }
  } else {
    if (!tcp) { type = 1; code = 4; }
    else if (from_router) { type = (h & 2) ? 3 : 1; code = type == 1 ? 3 : 0; }
    else { type = 1; code = 1; }
  }
  uint32_t qlen;
  if (f->v6) qlen = oiplen < 1232 ? oiplen : 1232;
  else qlen = (h & 4) ? 28 : (oiplen < 548 ? oiplen : 548); /* old routers quote 8 bytes */
  addr src, dst, cli = mkaddr(f->v6, 0, f->cli);
  src = from_router ? mkaddr(f->v6, 2, h & 0xff) : mkaddr(f->v6, 1, f->srv);
  dst = cli;
  uint32_t l4 = 8 + qlen;
  int hl = put_l2l3(fr, &src, &dst, 0, f->v6 ? 58 : 1, 0, from_router ? 250 : f->ttl_s, l4,
                    (uint16_t)rnd(), 0);
  uint8_t *ic = fr + 14 + hl;
  ic[0] = type; ic[1] = code;
  be16(ic + 2, (uint16_t)(h | 1));
  be32(ic + 4, 0);
  memcpy(ic + 8, oip, qlen);
  return eth_pad(fr, 14 + (uint32_t)hl + l4);
}

static void write_step(const step *s)
{
  flow *f = &F[s->flow];
  uint8_t fr[4096];
  uint32_t n = 0;
  switch (s->type) {
  case S_SYN:
    n = syn_frame(fr, f);
    f->nxt_c = f->isn_c + 1 + (f->tfo == TFO_DATA || f->tfo == TFO_EXP_DATA ? f->syn_dlen : 0);
    break;
  case S_SYNACK: {
    f->nxt_s = f->isn_s;
    uint8_t flags = 0x12 | (f->ecn == 1 || f->ecn == 2 ? 0x40 : 0);
    n = tcp_frame(fr, f, 1, flags, 0, s->t, 0, 0);
    f->nxt_s = f->isn_s + 1;
    break;
  }
  case S_ACK_C: case S_ACK_S: {
    int dir = s->type == S_ACK_S;
    uint8_t flags = 0x10;
    if (!dir && f->ece_pending) { flags |= 0x40; f->ece_pending = 0; }
    n = tcp_frame(fr, f, dir, flags, 0, s->t, 0, 0);
    break;
  }
  case S_DATA_C: case S_DATA_S: {
    int dir = s->type == S_DATA_S;
    uint8_t flags = 0x18;
    if (!dir && f->ece_pending) { flags |= 0x40; f->ece_pending = 0; }
    n = tcp_frame(fr, f, dir, flags, s->len, s->t, s->mark, 0);
    if (dir) f->nxt_s += s->len; else f->nxt_c += s->len;
    if (s->mark) f->ece_pending = 1;
    break;
  }
  case S_FIN_C: case S_FIN_S: {
    int dir = s->type == S_FIN_S;
    n = tcp_frame(fr, f, dir, 0x11, 0, s->t, 0, 0);
    if (dir) f->nxt_s++; else f->nxt_c++;
    break;
  }
  case S_RST_C: case S_RST_S: {
    int dir = s->type == S_RST_S;
    n = tcp_frame(fr, f, dir, 0x14, 0, s->t, 0, 0); /* refused: seq 0, acks the SYN */
    break;
  }
  case S_UDP_C: case S_UDP_S: {
    int dir = s->type == S_UDP_S;
    int first = !dir && s->t == f->t0;
    n = udp_frame(fr, f, s->flow, dir, s->len, s->t, s->mark, first);
    break;
  }
  case S_UDP_FRAG1: n = udp_frag_frame(fr, f, s->flow, 1); break;
  case S_UDP_FRAG2: n = udp_frag_frame(fr, f, s->flow, 2); break;
  case S_ECHO_C: f->icmp_seq++; n = echo_frame(fr, f, 0, s->t); break;
  case S_ECHO_S: n = echo_frame(fr, f, 1, s->t); break;
  case S_ICMP_ERR: n = icmp_err_frame(fr, f, s->flow); break;
  }
  pcap_put(s->t, fr, n);
}

/* ------------------------------------------------------------------ modes */

static void gen_mix(uint32_t flows, uint64_t packets, double v6_share, double duration)
{
  nflows = flows;
  F = calloc(flows ? flows : 1, sizeof *F);
  if (F == NULL) die("memory");
  uint64_t fixed = 0, eligible = 0;
  for (uint32_t i = 0; i < flows; i++) {
    fixed += plan_flow(&F[i], i, v6_share, duration);
    if (F[i].kind == K_TCP && F[i].variant == TV_NORMAL) eligible++;
  }
  /* spread what the fixed parts leave over the established TCP flows,
   * heavy-tailed: weight 1 + exponential(mean 6), a few flows much larger */
  uint64_t budget = packets > fixed ? packets - fixed : 0;
  if (budget > eligible * 60000) budget = eligible * 60000;
  if (budget > 0 && eligible > 0) {
    double *w = malloc(flows * sizeof *w), total = 0;
    if (w == NULL) die("memory");
    for (uint32_t i = 0; i < flows; i++) {
      w[i] = 0;
      if (F[i].kind != K_TCP || F[i].variant != TV_NORMAL) continue;
      w[i] = 1 + -log(1.0 - unit()) * 6;
      if (chance(0.01)) w[i] *= 20;
      total += w[i];
    }
    uint64_t given = 0;
    for (uint32_t i = 0; i < flows; i++) {
      if (w[i] == 0) continue;
      uint64_t d = (uint64_t)((double)budget * w[i] / total);
      if (d > 60000) d = 60000;
      F[i].ndata = (uint32_t)d;
      given += d;
    }
    for (uint32_t i = 0; given < budget; i = (i + 1) % flows) {
      if (w[i] == 0 || F[i].ndata >= 60000) continue;
      F[i].ndata++;
      given++;
    }
    free(w);
  }
  for (uint32_t i = 0; i < flows; i++) script_flow(i);
  qsort(S, nsteps, sizeof *S, cmp_step);
  for (size_t k = 0; k < nsteps; k++) write_step(&S[k]);
  uint64_t last = nsteps ? S[nsteps - 1].t : 0;
  uint32_t v6 = 0;
  for (uint32_t i = 0; i < flows; i++) v6 += F[i].v6;
  fprintf(stderr, "gen_trace: mix: %u flows (%u IPv6), %llu packets, %.1f MB, %.1f s\n", flows, v6,
          (unsigned long long)n_written, (double)bytes_written / 1e6, (double)last / 1e6);
}

static void gen_flood(uint32_t flows, double v6_share, double duration, int one_key)
{
  flow f;
  uint8_t fr[256];
  uint64_t span = (uint64_t)(duration * 1e6);
  uint32_t v6 = 0;
  for (uint32_t i = 0; i < flows; i++) {
    memset(&f, 0, sizeof f);
    f.kind = K_TCP;
    f.v6 = (uint8_t)chance(v6_share);
    v6 += f.v6;
    /* distinct keys: 50000 clients, each from ports 33000 and up */
    f.cli = i % 50000;
    f.sp = (uint16_t)(33000 + i / 50000);
    f.srv = mix32(i) % 256;
    f.dp = (i >> 8) & 1 ? 443 : 80;
    if (one_key) { f.cli = 0; f.sp = 33000; f.srv = 0; f.dp = 80; f.v6 = 0; }
    f.opts = OPT_LINUX;
    f.mss = f.v6 ? 1440 : 1460;
    f.isn_c = (uint32_t)rnd();
    f.tsval_c = (uint32_t)rnd();
    f.t0 = flows > 1 ? span * i / (flows - 1) : 0;
    pcap_put(f.t0, fr, syn_frame(fr, &f));
  }
  fprintf(stderr, "gen_trace: flood: %u SYN-only %s (%u IPv6), %llu packets, %.1f MB, %.1f s\n",
          one_key ? 1 : flows, one_key ? "flow" : "flows", v6, (unsigned long long)n_written,
          (double)bytes_written / 1e6, duration);
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
  fprintf(stderr,
          "usage: gen_trace mix OUT.pcap [--flows N] [--packets N] [options]\n"
          "       gen_trace flood OUT.pcap [--flows N] [--one-key] [options]\n"
          "options: --seed N  --duration SEC  --v6 PERCENT  --snaplen N  --start EPOCH\n");
  exit(2);
}

static double num(const char *s)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || v < 0) usage();
  return v;
}

int main(int argc, char **argv)
{
  if (argc < 3) usage();
  const char *mode = argv[1], *path = argv[2];
  int mix = strcmp(mode, "mix") == 0;
  if (!mix && strcmp(mode, "flood") != 0) usage();
  double flows = mix ? 100000 : 1000000, packets = 900000, v6 = mix ? 10 : 0;
  double duration = mix ? 300 : 4, seed = 20240501;
  int one_key = 0;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--one-key") == 0) { one_key = 1; continue; }
    if (i + 1 >= argc) usage();
    const char *o = argv[i], *v = argv[++i];
    if (strcmp(o, "--flows") == 0) flows = num(v);
    else if (strcmp(o, "--packets") == 0) packets = num(v);
    else if (strcmp(o, "--seed") == 0) seed = num(v);
    else if (strcmp(o, "--duration") == 0) duration = num(v);
    else if (strcmp(o, "--v6") == 0) v6 = num(v);
    else if (strcmp(o, "--snaplen") == 0) snaplen = (uint32_t)num(v);
    else if (strcmp(o, "--start") == 0) start_epoch = (uint64_t)num(v);
    else usage();
  }
  if (flows > 16000000 || v6 > 100 || (snaplen && snaplen < 64)) usage();
  rng_state = (uint64_t)seed;
  for (size_t k = 0; k < sizeof filler; k++) filler[k] = (uint8_t)(rnd() >> 56);
  pcap_open(path);
  if (mix) gen_mix((uint32_t)flows, (uint64_t)packets, v6 / 100, duration);
  else gen_flood((uint32_t)flows, v6 / 100, duration, one_key);
  pcap_close();
  return 0;
}
