/* test_flowkey.c - canonical keys: both directions, ICMP quotations, short headers. */
#include "po.h"
#include "check.h"
#include "pktbuild.h"

/* po_key_of on a packet; po_key_ahead (the reader thread's way) must agree. */
static int key_of(const uint8_t *b, size_t n, po_key *k, int *sw)
{
  po_hdr h[2];
  if (po_decode(b, (uint32_t)n, &h[0], &h[1]) != PO_OK) return -100;
  int rc = po_key_of(&h[0], &h[1], k, sw);
  po_fkey fk;
  memset(&fk, 0xa5, sizeof fk);
  po_key_ahead(h, &fk);
  CHECK_EQ(fk.rc, rc);
  if (rc == PO_OK) {
    CHECK(memcmp(&fk.key, k, sizeof *k) == 0);
    CHECK_EQ(fk.sw, *sw);
    CHECK_EQ(fk.hash, po_key_hash(k));
  }
  return rc;
}

static void both_directions_share_a_key(void)
{
  uint8_t a[64], b[64];
  po_key ka, kb;
  int swa, swb;
  CHECK_EQ(key_of(a, tcp4_packet(a, "10.0.0.1", 1234, "10.0.0.2", 80, 2), &ka, &swa), PO_OK);
  CHECK_EQ(key_of(b, tcp4_packet(b, "10.0.0.2", 80, "10.0.0.1", 1234, 0x12), &kb, &swb), PO_OK);
  CHECK(memcmp(&ka, &kb, sizeof ka) == 0);
  CHECK(swa != swb);
  CHECK_EQ(po_key_hash(&ka), po_key_hash(&kb));
  /* another port is another flow */
  CHECK_EQ(key_of(b, tcp4_packet(b, "10.0.0.2", 80, "10.0.0.1", 1235, 0x12), &kb, &swb), PO_OK);
  CHECK(memcmp(&ka, &kb, sizeof ka) != 0);
  char desc[128];
  po_key_format(&ka, swa, desc, sizeof desc);
  CHECK_STR(desc, "10.0.0.1:1234 -> 10.0.0.2:80 proto 6");
}

static void same_address_both_ends(void)
{
  uint8_t a[64], b[64];
  po_key ka, kb;
  int swa, swb;
  key_of(a, udp4_packet(a, "127.0.0.1", 5000, "127.0.0.1", 6000), &ka, &swa);
  key_of(b, udp4_packet(b, "127.0.0.1", 6000, "127.0.0.1", 5000), &kb, &swb);
  CHECK(memcmp(&ka, &kb, sizeof ka) == 0);
  CHECK(swa != swb);
}

static void portless_protocols_use_three_tuple(void)
{
  uint8_t a[64];
  size_t n = ip4(a, "10.0.0.1", "224.0.0.18", 112, 40);
  po_key k;
  int sw;
  CHECK_EQ(key_of(a, n + 20, &k, &sw), PO_OK);
  CHECK_EQ(k.pa, 0);
  CHECK_EQ(k.pb, 0);
  CHECK_EQ(k.proto, 112);
}

static void ports_cut_short(void)
{
  uint8_t a[64];
  size_t n = tcp4_packet(a, "10.0.0.1", 1, "10.0.0.2", 2, 0);
  po_key k;
  int sw;
  (void)n;
  for (size_t cap = 20; cap < 24; cap++) CHECK_EQ(key_of(a, cap, &k, &sw), PO_ESHORT);
  CHECK_EQ(key_of(a, 24, &k, &sw), PO_OK); /* ports only: keyed, no TCP object */
}

/* Link padding after the IP packet is not its transport header: a packet whose
 * total length leaves fewer than 4 transport bytes has no ports, whatever the
 * frame carries after it (an Ethernet frame is padded to 60 bytes). */
static void ports_never_read_from_padding(void)
{
  uint8_t a[64];
  po_key k;
  int sw;
  for (unsigned total = 20; total < 24; total++) {
    memset(a, 0xab, sizeof a);
    ip4(a, "10.0.0.1", "10.0.0.2", 6, total);
    CHECK_EQ(key_of(a, 46, &k, &sw), PO_ESHORT);
    a[9] = 17;
    CHECK_EQ(key_of(a, 46, &k, &sw), PO_ESHORT);
  }
  ip4(a, "10.0.0.1", "10.0.0.2", 6, 24);
  put16(a + 20, 1234);
  put16(a + 22, 80);
  CHECK_EQ(key_of(a, 46, &k, &sw), PO_OK); /* the ports inside the packet, padding after */
  CHECK_EQ(k.pa, 1234);
  CHECK_EQ(k.pb, 80);
  /* IPv6: the payload length bounds the packet the same way */
  memset(a, 0xab, sizeof a);
  ip6(a, 1, 2, 17, 2);
  CHECK_EQ(key_of(a, 60, &k, &sw), PO_ESHORT);
  /* a quotation whose quoted header claims no transport bytes has no ports:
   * the error is a plain ICMP packet */
  uint8_t q[40], err[128];
  tcp4_packet(q, "10.0.0.1", 1234, "192.0.2.9", 80, 0x02);
  put16(q + 2, 20);
  size_t n = icmp4_error(err, "192.0.2.9", "10.0.0.1", 3, 3, q, 28);
  CHECK_EQ(key_of(err, n, &k, &sw), PO_OK);
  CHECK_EQ(k.proto, 1);
}

static void icmp4_error_joins_quoted_flow_reversed(void)
{
  uint8_t syn[64], err[128];
  po_key kf, ke;
  int swf, swe;
  size_t n = tcp4_packet(syn, "10.0.0.1", 1234, "192.0.2.9", 80, 0x02);
  CHECK_EQ(key_of(syn, n, &kf, &swf), PO_OK);
  n = icmp4_error(err, "192.0.2.9", "10.0.0.1", 3, 3, syn, 28);
  CHECK_EQ(key_of(err, n, &ke, &swe), PO_OK);
  CHECK(memcmp(&kf, &ke, sizeof kf) == 0);
  CHECK(swf != swe); /* the error travels opposite to the SYN */
  /* from a router on the path: same flow, still reversed */
  n = icmp4_error(err, "198.51.100.7", "10.0.0.1", 11, 0, syn, 28);
  CHECK_EQ(key_of(err, n, &ke, &swe), PO_OK);
  CHECK(memcmp(&kf, &ke, sizeof kf) == 0);
  CHECK(swf != swe);
  /* quoting a SYN+ACK (reverse) puts the error in the forward direction */
  uint8_t sa[64];
  n = tcp4_packet(sa, "192.0.2.9", 80, "10.0.0.1", 1234, 0x12);
  n = icmp4_error(err, "10.0.0.1", "192.0.2.9", 3, 1, sa, 28);
  CHECK_EQ(key_of(err, n, &ke, &swe), PO_OK);
  CHECK(memcmp(&kf, &ke, sizeof kf) == 0);
  CHECK(swf == swe);
  /* too short a quotation (header only, no ports): a plain ICMP key */
  n = icmp4_error(err, "192.0.2.9", "10.0.0.1", 3, 3, syn, 20);
  CHECK_EQ(key_of(err, n, &ke, &swe), PO_OK);
  CHECK_EQ(ke.proto, 1);
  n = icmp4_error(err, "192.0.2.9", "10.0.0.1", 3, 3, syn, 19);
  CHECK_EQ(key_of(err, n, &ke, &swe), PO_OK);
  CHECK_EQ(ke.proto, 1);
}

static void icmp6_error_joins_quoted_flow(void)
{
  uint8_t pkt[64], err[200];
  size_t n = ip6(pkt, 1, 2, 17, 8);
  n += udp(pkt + n, 5353, 53, 8);
  po_key kf, ke;
  int swf, swe;
  CHECK_EQ(key_of(pkt, n, &kf, &swf), PO_OK);
  size_t e = ip6(err, 2, 1, 58, (unsigned)(8 + n));
  memset(err + e, 0, 8);
  err[e] = 1;
  memcpy(err + e + 8, pkt, n);
  CHECK_EQ(key_of(err, e + 8 + n, &ke, &swe), PO_OK);
  CHECK(memcmp(&kf, &ke, sizeof kf) == 0);
  CHECK(swf != swe);
  /* informational ICMPv6 (echo request 128) is keyed as ICMPv6 */
  err[e] = 128;
  CHECK_EQ(key_of(err, e + 8 + n, &ke, &swe), PO_OK);
  CHECK_EQ(ke.proto, 58);
}

static void fragment_without_ports(void)
{
  uint8_t a[64];
  size_t n = udp4_packet(a, "10.0.0.1", 53, "10.0.0.2", 53);
  put16(a + 6, 0x0010);
  po_key k;
  int sw;
  CHECK_EQ(key_of(a, n, &k, &sw), PO_EFRAG);
}

/* A later IPv6 fragment whose Fragment header names another extension header
 * (destination options, routing, ...) holds data where that header would be:
 * its protocol is its first fragment's, found through the fragment cache. */
static void ipv6_later_fragment_after_extension_header(void)
{
  static const uint8_t ext[] = { 0, 43, 44, 51, 60 };
  uint8_t a[64];
  po_key k;
  int sw;
  for (size_t i = 0; i < sizeof ext; i++) {
    size_t n = ip6(a, 1, 2, 44, 8 + 16);
    n += frag6(a + n, ext[i], 48, 0, 0x1234);
    memset(a + n, 0x44, 16);
    CHECK_EQ(key_of(a, n + 16, &k, &sw), PO_EFRAG);
  }
  /* naming a transport: UDP's ports are in the first fragment, and so is the
   * flow of any other protocol (an ICMPv6 error's is its quotation's) */
  size_t n = ip6(a, 1, 2, 44, 8 + 16);
  n += frag6(a + n, 17, 48, 0, 0x1234);
  memset(a + n, 0x44, 16);
  CHECK_EQ(key_of(a, n + 16, &k, &sw), PO_EFRAG);
  a[40] = 58;
  CHECK_EQ(key_of(a, n + 16, &k, &sw), PO_EFRAG);
  a[40] = 47;
  CHECK_EQ(key_of(a, n + 16, &k, &sw), PO_EFRAG);
}

/* The lower endpoint comes first, by the bytes of the address (memcmp order),
 * then by port; the same pair the other way round gives the same key. Pairs
 * that differ in one byte anywhere, both versions. */
static void lower_endpoint_first(void)
{
  uint32_t seed = 12345;
  int bad = 0;
  for (int n = 0; n < 20000; n++) {
    uint8_t version = n % 2 ? 6 : 4, src[16], dst[16];
    size_t alen = version == 4 ? 4 : 16;
    for (size_t i = 0; i < alen; i++) {
      seed = seed * 1103515245u + 12345u;
      src[i] = dst[i] = (uint8_t)(seed >> 16);
    }
    seed = seed * 1103515245u + 12345u;
    size_t at = (seed >> 8) % alen; /* one byte differs, or (1 in 8) none */
    if ((seed >> 20) % 8) dst[at] = (uint8_t)(dst[at] + 1 + (seed >> 24) % 255);
    uint16_t sp = (uint16_t)(seed >> 3), dp = (uint16_t)(seed >> 13);
    po_key k, r;
    int sw, rsw;
    po_key_make(&k, &sw, version, 17, src, dst, sp, dp);
    po_key_make(&r, &rsw, version, 17, dst, src, dp, sp);
    int c = memcmp(src, dst, alen);
    int want = c > 0 || (c == 0 && sp > dp);
    const uint8_t *lo = want ? dst : src, *hi = want ? src : dst;
    if (sw != want || memcmp(k.a, lo, alen) != 0 || memcmp(k.b, hi, alen) != 0 ||
        k.pa != (want ? dp : sp) || k.pb != (want ? sp : dp) || memcmp(&k, &r, sizeof k) != 0 ||
        (!(c == 0 && sp == dp) && rsw == sw))
      bad++;
    for (size_t i = alen; i < 16; i++)
      if (k.a[i] || k.b[i]) bad++;
  }
  CHECK_EQ(bad, 0);
}

int main(void)
{
  RUN(both_directions_share_a_key);
  RUN(same_address_both_ends);
  RUN(portless_protocols_use_three_tuple);
  RUN(ports_cut_short);
  RUN(ports_never_read_from_padding);
  RUN(icmp4_error_joins_quoted_flow_reversed);
  RUN(icmp6_error_joins_quoted_flow);
  RUN(fragment_without_ports);
  RUN(ipv6_later_fragment_after_extension_header);
  RUN(lower_endpoint_first);
  return check_report();
}
