/* test_decode.c - the decoder on good, truncated and lying IPv4/IPv6/transport headers. */
#include "po.h"
#include "check.h"
#include "pktbuild.h"

static void ipv4_tcp_complete(void)
{
  uint8_t b[64];
  size_t n = tcp4_packet(b, "10.0.0.1", 1234, "10.0.0.2", 80, 0x02);
  po_hdr h, q;
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.version, 4);
  CHECK_EQ(h.hdr_len, 20);
  CHECK_EQ(h.proto, 6);
  CHECK_EQ(h.l4, PO_L4_TCP);
  CHECK_EQ(h.pkt_len, 40);
  CHECK_EQ(h.cap, 40);
  CHECK(q.p == NULL);
}

/* Every cut of a TCP/IPv4 packet: never reads past cap; TCP only when complete. */
static void ipv4_truncated_everywhere(void)
{
  uint8_t b[64];
  size_t n = tcp4_packet(b, "10.0.0.1", 1234, "10.0.0.2", 80, 0x10);
  for (uint32_t cap = 0; cap <= n; cap++) {
    uint8_t *copy = malloc(cap ? cap : 1); /* exact size: ASan sees any overrun */
    memcpy(copy, b, cap);
    po_hdr h, q;
    int rc = po_decode(cap ? copy : NULL, cap, &h, &q);
    if (cap < 20) {
      CHECK(rc != PO_OK);
    } else {
      CHECK_EQ(rc, PO_OK);
      CHECK_EQ(h.l4, cap >= 40 ? PO_L4_TCP : PO_L4_NONE);
    }
    free(copy);
  }
}

static void ipv4_ihl_lies(void)
{
  uint8_t b[64];
  size_t n = tcp4_packet(b, "10.0.0.1", 1, "10.0.0.2", 2, 0);
  po_hdr h, q;
  for (int ihl = 0; ihl < 5; ihl++) {
    b[0] = (uint8_t)(0x40 | ihl);
    CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_EMALFORM);
  }
  b[0] = 0x4f; /* 60 bytes of header, 40 captured */
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_EMALFORM);
  b[0] = 0x46; /* 24 bytes: the header holds 4 bytes of "options"; TCP cut short */
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.hdr_len, 24);
  CHECK_EQ(h.l4, PO_L4_NONE);
}

static void ipv4_total_length(void)
{
  uint8_t b[80];
  memset(b, 0xee, sizeof b);
  size_t n = tcp4_packet(b, "10.0.0.1", 1, "10.0.0.2", 2, 0);
  po_hdr h, q;
  /* Ethernet padding after the packet: size includes it, the claimed length does not */
  CHECK_EQ(po_decode(b, (uint32_t)n + 6, &h, &q), PO_OK);
  CHECK_EQ(h.cap, n + 6);
  CHECK_EQ(h.pkt_len, 40);
  /* a total length that cuts the TCP header: what follows is padding, no TCP */
  put16(b + 2, 30);
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.l4, PO_L4_NONE);
  /* a total length shorter than the IP header itself is malformed */
  put16(b + 2, 10);
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_EMALFORM);
  /* zero (segmentation offload): the capture gives the length */
  put16(b + 2, 0);
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.pkt_len, n);
}

static void not_ip(void)
{
  uint8_t b[40] = { 0x20 };
  po_hdr h, q;
  CHECK_EQ(po_decode(b, sizeof b, &h, &q), PO_ENOTIP);
  CHECK_EQ(po_decode(b, 0, &h, &q), PO_EMALFORM);
}

static void ipv4_fragments(void)
{
  uint8_t b[64];
  size_t n = udp4_packet(b, "10.0.0.1", 53, "10.0.0.2", 53);
  po_hdr h, q;
  uint32_t id;
  int first;
  put16(b + 4, 0x1234);
  put16(b + 6, 0x2000); /* MF, offset 0: the first of several */
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.frag, 0);
  CHECK_EQ(h.l4, PO_L4_UDP);
  CHECK(po_frag_info(&h, &id, &first));
  CHECK_EQ(id, 0x1234);
  CHECK(first);
  put16(b + 6, 0x0003); /* offset 24 bytes, last fragment */
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.frag, 1);
  CHECK_EQ(h.l4, PO_L4_NONE);
  CHECK(po_frag_info(&h, &id, &first));
  CHECK(!first);
}

static void ipv6_extension_chain(void)
{
  uint8_t b[200];
  size_t n = ip6(b, 1, 2, 0, 8 + 16 + 8 + 20); /* hop-by-hop, dest opts (16), fragment, TCP */
  memset(b + n, 0, 8);
  b[n] = 60; b[n + 1] = 0; n += 8;            /* HBH -> DSTOPTS, 8 bytes */
  memset(b + n, 0, 16);
  b[n] = 44; b[n + 1] = 1; n += 16;           /* DSTOPTS -> FRAGMENT, 16 bytes */
  memset(b + n, 0, 8);
  b[n] = 6; b[n + 3] = 1;                      /* FRAGMENT -> TCP, offset 0, M */
  b[n + 7] = 0x42; n += 8;
  n += tcp(b + n, 443, 5555, 0x12);
  po_hdr h, q;
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.hdr_len, 40 + 8 + 16 + 8);
  CHECK_EQ(h.proto, 6);
  CHECK_EQ(h.l4, PO_L4_TCP);
  CHECK_EQ(h.fh_off, 40 + 8 + 16);
  uint32_t id;
  int first;
  CHECK(po_frag_info(&h, &id, &first));
  CHECK_EQ(id, 0x42);
  CHECK(first);
  /* every cut inside the extension headers is refused, never overrun */
  for (uint32_t cap = 40; cap < 40 + 8 + 16 + 8; cap++) {
    uint8_t *copy = malloc(cap);
    memcpy(copy, b, cap);
    put16(copy + 4, 0); /* payload length 0: the capture decides */
    CHECK_EQ(po_decode(copy, cap, &h, &q), PO_EMALFORM);
    free(copy);
  }
  /* a non-first fragment carries no transport header */
  b[40 + 8 + 16 + 2] = 0x01; /* offset 32 */
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.frag, 1);
  CHECK_EQ(h.proto, 6);
  CHECK_EQ(h.l4, PO_L4_NONE);
}

static void ipv6_endless_chain(void)
{
  uint8_t b[40 + 8 * 40];
  ip6(b, 1, 2, 60, 8 * 40);
  for (int i = 0; i < 40; i++) {
    memset(b + 40 + 8 * i, 0, 8);
    b[40 + 8 * i] = 60; /* destination options, again and again */
  }
  po_hdr h, q;
  CHECK_EQ(po_decode(b, sizeof b, &h, &q), PO_EMALFORM);
  /* a length that points past the packet */
  ip6(b, 1, 2, 0, 16);
  b[40] = 6;
  b[41] = 200;
  CHECK_EQ(po_decode(b, 56, &h, &q), PO_EMALFORM);
}

static void icmp4_quotation(void)
{
  uint8_t syn[64], b[128];
  size_t sn = tcp4_packet(syn, "10.0.0.1", 1234, "192.0.2.9", 80, 0x02);
  (void)sn;
  size_t n = icmp4_error(b, "198.51.100.1", "10.0.0.1", 3, 3, syn, 28);
  po_hdr h, q;
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK_EQ(h.l4, PO_L4_ICMP);
  CHECK(po_icmp_is_error(&h));
  CHECK(q.p == b + 28);
  CHECK_EQ(q.cap, 28);
  CHECK_EQ(q.proto, 6);
  CHECK_EQ(q.pkt_len, 40);
  CHECK_EQ(q.l4, PO_L4_NONE); /* only 8 TCP bytes quoted */
  /* a quotation shorter than a full IPv4 header is no quotation */
  for (size_t quote = 0; quote < 20; quote++) {
    n = icmp4_error(b, "198.51.100.1", "10.0.0.1", 3, 3, syn, quote);
    CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
    CHECK(q.p == NULL);
  }
  /* echo reply is not an error */
  n = icmp4_error(b, "198.51.100.1", "10.0.0.1", 0, 0, syn, 28);
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK(!po_icmp_is_error(&h));
  CHECK(q.p == NULL);
}

static void icmp6_quotation(void)
{
  uint8_t b[200];
  size_t n = ip6(b, 9, 1, 58, 8 + 48);
  memset(b + n, 0, 8);
  b[n] = 1; /* destination unreachable */
  n += 8;
  n += ip6(b + n, 1, 2, 17, 8);
  n += udp(b + n, 5353, 53, 8);
  po_hdr h, q;
  CHECK_EQ(po_decode(b, (uint32_t)n, &h, &q), PO_OK);
  CHECK(q.p != NULL);
  CHECK_EQ(q.version, 6);
  CHECK_EQ(q.proto, 17);
  CHECK_EQ(q.l4, PO_L4_UDP);
  /* cut inside the quoted IPv6 header: plain ICMPv6 */
  CHECK_EQ(po_decode(b, 40 + 8 + 39, &h, &q), PO_OK);
  CHECK(q.p == NULL);
}

/* BIG TCP and jumbograms (70000-byte packets): IPv4 total length 0 and IPv6
 * payload length 0 without a Jumbo Payload option take the captured length,
 * or the wire length the source gives for a cut frame; an IPv6 jumbogram's
 * length is its option's, however much was captured. */
static void big_tcp_and_jumbograms(void)
{
  enum { BIG = 70000 };
  uint8_t *b = calloc(1, BIG);
  po_hdr h, q;
  /* IPv4, total length 0, the whole frame captured */
  tcp4_packet(b, "10.0.0.1", 1, "10.0.0.2", 2, 0x10);
  put16(b + 2, 0);
  CHECK_EQ(po_decode(b, BIG, &h, &q), PO_OK);
  CHECK_EQ(h.pkt_len, BIG);
  CHECK_EQ(h.l4, PO_L4_TCP);
  po_decode_wire(&h, BIG); /* whole: nothing changes */
  CHECK_EQ(h.pkt_len, BIG);
  /* the same frame cut at 128 bytes: the capture, then the wire length */
  CHECK_EQ(po_decode(b, 128, &h, &q), PO_OK);
  CHECK_EQ(h.pkt_len, 128);
  po_decode_wire(&h, BIG);
  CHECK_EQ(h.pkt_len, BIG);
  CHECK_EQ(po_ip_end(&h), 128);
  /* a length the header states is never replaced */
  put16(b + 2, 40);
  CHECK_EQ(po_decode(b, 40, &h, &q), PO_OK);
  po_decode_wire(&h, 1500);
  CHECK_EQ(h.pkt_len, 40);

  /* IPv6 jumbogram: hop-by-hop header with a PadN and the Jumbo Payload option */
  memset(b, 0, 128);
  size_t n = ip6(b, 1, 2, 0, 0);
  b[n] = 6;                   /* HBH -> TCP, 16 bytes */
  b[n + 1] = 1;
  b[n + 2] = 1; b[n + 3] = 0; /* PadN of 0 bytes, then the option, then Pad1s */
  b[n + 4] = 0xc2; b[n + 5] = 4;
  b[n + 6] = (uint8_t)((BIG - 40) >> 24); b[n + 7] = (uint8_t)((BIG - 40) >> 16);
  b[n + 8] = (uint8_t)((BIG - 40) >> 8); b[n + 9] = (uint8_t)(BIG - 40);
  n += 16;
  n += tcp(b + n, 443, 5555, 0x10);
  CHECK_EQ(po_decode(b, BIG, &h, &q), PO_OK);
  CHECK_EQ(h.pkt_len, BIG);
  CHECK_EQ(h.hdr_len, 56);
  CHECK_EQ(h.l4, PO_L4_TCP);
  CHECK_EQ(po_decode(b, 128, &h, &q), PO_OK); /* cut: the option still says */
  CHECK_EQ(h.pkt_len, BIG);
  CHECK_EQ(h.l4, PO_L4_TCP);
  po_decode_wire(&h, 99999);
  CHECK_EQ(h.pkt_len, BIG);
  /* a jumbo length past what 32 bits hold with the fixed header: clamped */
  b[40 + 6] = 0xff; b[40 + 7] = 0xff; b[40 + 8] = 0xff; b[40 + 9] = 0xf0;
  CHECK_EQ(po_decode(b, 128, &h, &q), PO_OK);
  CHECK_EQ(h.pkt_len, UINT32_MAX);
  CHECK_EQ(po_ip_end(&h), 128);

  /* IPv6 payload length 0 without the option (BIG TCP as newer kernels send it) */
  memset(b, 0, 128);
  n = ip6(b, 1, 2, 6, 0);
  tcp(b + n, 443, 5555, 0x10);
  CHECK_EQ(po_decode(b, BIG, &h, &q), PO_OK);
  CHECK_EQ(h.pkt_len, BIG);
  CHECK_EQ(po_decode(b, 128, &h, &q), PO_OK);
  CHECK_EQ(h.pkt_len, 128);
  po_decode_wire(&h, BIG);
  CHECK_EQ(h.pkt_len, BIG);
  free(b);
}

int main(void)
{
  RUN(big_tcp_and_jumbograms);
  RUN(ipv4_tcp_complete);
  RUN(ipv4_truncated_everywhere);
  RUN(ipv4_ihl_lies);
  RUN(ipv4_total_length);
  RUN(not_ip);
  RUN(ipv4_fragments);
  RUN(ipv6_extension_chain);
  RUN(ipv6_endless_chain);
  RUN(icmp4_quotation);
  RUN(icmp6_quotation);
  return check_report();
}
