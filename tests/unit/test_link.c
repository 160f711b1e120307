/* test_link.c - po_link_decode on frames of every supported link type, whole, cut short and odd. */
#include "po.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A frame built from hex strings ("aa bb cc"; spaces ignored). */
typedef struct fr {
  uint8_t b[1024];
  uint32_t n;
} fr;

static void hex(fr *f, const char *h)
{
  while (*h) {
    if (*h == ' ' || *h == '\n') { h++; continue; }
    unsigned v;
    if (sscanf(h, "%2x", &v) != 1) abort();
    f->b[f->n++] = (uint8_t)v;
    h += 2;
  }
}

static void zeros(fr *f, uint32_t n)
{
  memset(f->b + f->n, 0, n);
  f->n += n;
}

/* An IPv4 (20 bytes + 8 of UDP) and an IPv6 (40 + 8) packet; the link layer
 * only looks at the first nibble. */
#define IP4 "45000024 00010000 40110000 c0000201 c0000202  00350035 00100000"
#define IP6 "60000000 00081140 20010db8000000000000000000000001 " \
            "20010db8000000000000000000000002 00350035 00080000"
#define MACS "020000000002 020000000001" /* destination, source */

/* FUZZ_LINK_SEEDS=DIR: every frame a test decodes whole goes to DIR as a seed of
 * tests/fuzz/fuzz_link.c (link type, wire length delta, frame). */
static void seed(uint32_t lt, const uint8_t *b, uint32_t cap, uint32_t wire)
{
  const char *dir = getenv("FUZZ_LINK_SEEDS");
  if (dir == NULL || wire < cap || wire - cap > 127) return;
  uint32_t h = 2166136261u;
  uint8_t head[5] = { (uint8_t)(lt >> 24), (uint8_t)(lt >> 16), (uint8_t)(lt >> 8), (uint8_t)lt,
                      (uint8_t)(wire - cap) };
  for (int i = 0; i < 5; i++) h = (h ^ head[i]) * 16777619u;
  for (uint32_t i = 0; i < cap; i++) h = (h ^ b[i]) * 16777619u;
  char path[4096];
  snprintf(path, sizeof path, "%s/seed-%08x", dir, h);
  FILE *out = fopen(path, "wb");
  if (out == NULL) return;
  fwrite(head, 1, 5, out);
  fwrite(b, 1, cap, out);
  fclose(out);
}

static int decode(uint32_t lt, const uint8_t *b, uint32_t cap, uint32_t wire, po_link *l)
{
  /* an exact-size copy: a sanitizer build sees any read past cap */
  uint8_t *c = malloc(cap ? cap : 1);
  if (cap) memcpy(c, b, cap);
  int rc = po_link_decode(lt, cap ? c : NULL, cap, wire, l);
  free(c);
  return rc;
}

/* f decodes to the given fields; every shorter capture of it (wire length
 * unchanged) is not IP while the link header is cut, and keeps l3_off once
 * it is whole (the IP decoder then sees a short packet). */
static void expect_at(int line, uint32_t lt, const fr *f, uint32_t wire, uint32_t off,
                      uint32_t cap, uint16_t et, uint16_t vlan, int32_t mac)
{
  po_link l;
  seed(lt, f->b, f->n, wire);
  int rc = decode(lt, f->b, f->n, wire, &l);
  check_count++;
  if (rc != PO_OK || l.l3_off != off || l.l3_cap != cap || l.ethertype != et ||
      l.vlan != vlan || l.mac_off != mac) {
    check_failures++;
    fprintf(stderr, "line %d: link type %#x: rc %d off %u cap %u et %#x vlan %#x mac %d,"
            " expected 0 %u %u %#x %#x %d\n", line, lt, rc, l.l3_off, l.l3_cap, l.ethertype,
            l.vlan, l.mac_off, off, cap, et, vlan, mac);
    return;
  }
  for (uint32_t c = 0; c < f->n; c++) {
    po_link k;
    rc = decode(lt, f->b, c, wire, &k);
    check_count++;
    int ok = c < off ? rc == PO_ENOTIP
                     : (rc == PO_ENOTIP && c == off) ||
                       (rc == PO_OK && k.l3_off == off && k.l3_cap <= c - off && k.ethertype == et);
    if (!ok) {
      check_failures++;
      fprintf(stderr, "line %d: link type %#x cut at %u: rc %d off %u cap %u\n", line, lt, c,
              rc, k.l3_off, k.l3_cap);
      return;
    }
  }
}
#define EXPECT(lt, f, off, cap, et, vlan, mac) \
  expect_at(__LINE__, lt, f, (f)->n, off, cap, et, vlan, mac)
#define EXPECT_WIRE(lt, f, wire, off, cap, et, vlan, mac) \
  expect_at(__LINE__, lt, f, wire, off, cap, et, vlan, mac)

static void expect_not_ip(int line, uint32_t lt, const fr *f)
{
  po_link l;
  check_count++;
  seed(lt, f->b, f->n, f->n);
  int rc = decode(lt, f->b, f->n, f->n, &l);
  if (rc != PO_ENOTIP || l.vlan != 0xFFFF || l.mac_off != -1) {
    check_failures++;
    fprintf(stderr, "line %d: link type %#x: rc %d, expected not IP\n", line, lt, rc);
  }
}
#define NOT_IP(lt, f) expect_not_ip(__LINE__, lt, f)

enum { V4 = 0x0800, V6 = 0x86DD, NOV = 0xFFFF };

static void ethernet(void)
{
  fr f = {0};
  hex(&f, MACS "0800" IP4);
  EXPECT(1, &f, 14, 28, V4, NOV, 0);
  f.n = 0;
  hex(&f, MACS "86dd" IP6);
  EXPECT(1, &f, 14, 48, V6, NOV, 0);
  /* padding to 60 bytes stays in l3_cap: the IP length tells the packet's end */
  f.n = 0;
  hex(&f, MACS "0800" IP4);
  zeros(&f, 60 - f.n);
  EXPECT(1, &f, 14, 46, V4, NOV, 0);
  /* ARP, IPX-style 802.3, unknown ethertypes */
  f.n = 0;
  hex(&f, MACS "0806 0001080006040001");
  NOT_IP(1, &f);
  f.n = 0;
  hex(&f, MACS "0020 ffff0000");
  NOT_IP(1, &f);
  f.n = 0;
  hex(&f, MACS "05ff" IP4);
  NOT_IP(1, &f);
  /* 802.3 length + LLC/SNAP with an ethertype */
  f.n = 0;
  hex(&f, MACS "0024 aaaa03 000000 0800" IP4);
  EXPECT(1, &f, 22, 28, V4, NOV, 0);
  f.n = 0;
  hex(&f, MACS "0024 aaaa03 0000f8 86dd" IP6);
  EXPECT(1, &f, 22, 48, V6, NOV, 0);
  f.n = 0;
  hex(&f, MACS "0024 aaaa03 00000c 0800" IP4); /* Cisco OUI: not an ethertype */
  NOT_IP(1, &f);
  f.n = 0;
  hex(&f, MACS "0024 424203 0000"); /* STP */
  NOT_IP(1, &f);
}

static void vlans(void)
{
  fr f = {0};
  hex(&f, MACS "8100 2064 0800" IP4);
  EXPECT(1, &f, 18, 28, V4, 100, 0);
  f.n = 0;
  hex(&f, MACS "88a8 0fff 8100 0005 86dd" IP6); /* QinQ: the outer id */
  EXPECT(1, &f, 22, 48, V6, 0xFFF, 0);
  f.n = 0;
  hex(&f, MACS "9100 0007 9100 0008 8100 0009 0800" IP4);
  EXPECT(1, &f, 26, 28, V4, 7, 0);
  f.n = 0;
  hex(&f, MACS "8100 0000 0806 0001");
  NOT_IP(1, &f);
  /* a tag then an 802.3 length and SNAP */
  f.n = 0;
  hex(&f, MACS "8100 0003 0024 aaaa03000000 0800" IP4);
  EXPECT(1, &f, 26, 28, V4, 3, 0);
}

static void mpls(void)
{
  fr f = {0};
  hex(&f, MACS "8847 00010140" IP4); /* one label, bottom of stack */
  EXPECT(1, &f, 18, 28, V4, NOV, 0);
  f.n = 0;
  hex(&f, MACS "8847 00010040 00020040 00003140" IP6); /* three labels */
  EXPECT(1, &f, 26, 48, V6, NOV, 0);
  f.n = 0;
  hex(&f, MACS "8848 00010140" IP4);
  EXPECT(1, &f, 18, 28, V4, NOV, 0);
  f.n = 0;
  hex(&f, MACS "8100 000a 8847 00010140" IP4);
  EXPECT(1, &f, 22, 28, V4, 10, 0);
  /* after the stack: neither 4 nor 6 (a pseudowire control word) */
  f.n = 0;
  hex(&f, MACS "8847 00010140 00000000" MACS "0800" IP4);
  NOT_IP(1, &f);
  /* a stack without bottom */
  f.n = 0;
  hex(&f, MACS "8847 00010040 00010040");
  NOT_IP(1, &f);
  /* link type MPLS */
  f.n = 0;
  hex(&f, "00010140" IP6);
  EXPECT(219, &f, 4, 48, V6, NOV, -1);
}

static void pppoe(void)
{
  fr f = {0};
  hex(&f, MACS "8864 1100 1234 001e 0021" IP4);
  EXPECT(1, &f, 22, 28, V4, NOV, 0);
  f.n = 0;
  hex(&f, MACS "8864 1100 1234 0032 0057" IP6);
  EXPECT(1, &f, 22, 48, V6, NOV, 0);
  f.n = 0;
  hex(&f, MACS "8100 0064 8864 1100 1234 0032 0057" IP6);
  EXPECT(1, &f, 26, 48, V6, 100, 0);
  f.n = 0;
  hex(&f, MACS "8864 1100 1234 0010 c021 0101000e"); /* LCP */
  NOT_IP(1, &f);
  f.n = 0;
  hex(&f, MACS "8863 1109 0000 0000"); /* discovery */
  NOT_IP(1, &f);
  f.n = 0;
  hex(&f, MACS "8864 1200 1234 001e 0021" IP4); /* wrong version */
  NOT_IP(1, &f);
  /* MPLS in PPP */
  f.n = 0;
  hex(&f, MACS "8864 1100 1234 0022 0281 00010140" IP4);
  EXPECT(1, &f, 26, 28, V4, NOV, 0);
  /* link type PPP_ETHER: the PPPoE header alone */
  f.n = 0;
  hex(&f, "1100 1234 0032 0057" IP6);
  EXPECT(51, &f, 8, 48, V6, NOV, -1);
}

static void macsec(void)
{
  fr f = {0};
  /* SecTAG without SCI (TCI 0x00), integrity only; 16-byte ICV at the end */
  hex(&f, MACS "88e5 00 00 00000001 0800" IP4 "00112233445566778899aabbccddeeff");
  EXPECT(1, &f, 22, 28, V4, NOV, 0);
  /* with SCI (SC bit 0x20) */
  f.n = 0;
  hex(&f, MACS "88e5 20 00 00000001 0200000000010001 86dd" IP6
          "00112233445566778899aabbccddeeff");
  EXPECT(1, &f, 30, 48, V6, NOV, 0);
  /* short length: the secure data (ethertype + packet) is 30 bytes, padding follows */
  f.n = 0;
  hex(&f, MACS "88e5 00 1e 00000001 0800" IP4 "0000 00112233445566778899aabbccddeeff");
  EXPECT(1, &f, 22, 28, V4, NOV, 0);
  /* encrypted (E and C bits): not IP */
  f.n = 0;
  hex(&f, MACS "88e5 0c 00 00000001 0800" IP4 "00112233445566778899aabbccddeeff");
  NOT_IP(1, &f);
  /* VLAN outside MACsec */
  f.n = 0;
  hex(&f, MACS "8100 0009 88e5 00 00 00000001 0800" IP4 "00112233445566778899aabbccddeeff");
  EXPECT(1, &f, 26, 28, V4, 9, 0);
  /* captured without its ICV (snap length): nothing removed */
  f.n = 0;
  hex(&f, MACS "88e5 00 00 00000001 0800" IP4);
  EXPECT_WIRE(1, &f, f.n + 16, 22, 28, V4, NOV, 0);
}

static void fcs(void)
{
  fr f = {0};
  hex(&f, MACS "0800" IP4 "deadbeef");
  /* FCS bits: 2 words = 4 bytes, present because cap == wire */
  EXPECT(0x20000001, &f, 14, 28, V4, NOV, 0);
  fr s = {0};
  hex(&s, MACS "0800" IP4 "deadbeef0102"); /* 3 words: 6 bytes */
  EXPECT(0x30000001, &s, 14, 28, V4, NOV, 0);
  /* without the bits, the 4 bytes are part of the payload (after the IP length) */
  EXPECT(1, &f, 14, 32, V4, NOV, 0);
  /* cut by a snap length before the FCS: nothing to remove */
  f.n = 14 + 20;
  EXPECT_WIRE(0x20000001, &f, 14 + 28 + 4, 14, 20, V4, NOV, 0);
  /* cut inside the FCS: only the packet's bytes */
  fr g = {0};
  hex(&g, MACS "0800" IP4 "dead");
  EXPECT_WIRE(0x20000001, &g, g.n + 2, 14, 28, V4, NOV, 0);
  /* a frame shorter than its FCS */
  fr h = {0};
  hex(&h, "0102");
  NOT_IP(0x20000001, &h);
  /* raw IPv4 with FCS bits */
  fr r = {0};
  hex(&r, IP4 "00000000");
  EXPECT(0x20000000 | 228, &r, 0, 28, V4, NOV, -1);
}

static void raw_ip(void)
{
  fr f = {0};
  hex(&f, IP4);
  EXPECT(12, &f, 0, 28, V4, NOV, -1);
  EXPECT(14, &f, 0, 28, V4, NOV, -1);
  EXPECT(101, &f, 0, 28, V4, NOV, -1);
  EXPECT(228, &f, 0, 28, V4, NOV, -1);
  fr g = {0};
  hex(&g, IP6);
  EXPECT(101, &g, 0, 48, V6, NOV, -1);
  EXPECT(229, &g, 0, 48, V6, NOV, -1);
  fr z = {0};
  hex(&z, "00112233");
  NOT_IP(101, &z);
  /* empty frames */
  po_link l;
  CHECK_EQ(po_link_decode(101, NULL, 0, 0, &l), PO_ENOTIP);
  CHECK_EQ(po_link_decode(1, NULL, 0, 0, &l), PO_ENOTIP);
  CHECK_EQ(po_link_decode(228, NULL, 0, 0, &l), PO_OK); /* IPv4 by link type: short, not non-IP */
  CHECK_EQ(l.l3_cap, 0);
}

static void loopback(void)
{
  fr f = {0};
  hex(&f, "02000000" IP4); /* NULL, little-endian host */
  EXPECT(0, &f, 4, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "00000002" IP4); /* NULL, big-endian host */
  EXPECT(0, &f, 4, 28, V4, NOV, -1);
  static const char *v6[] = { "18000000", "1c000000", "1e000000", "0000001e", "0000001c" };
  for (unsigned i = 0; i < 5; i++) {
    f.n = 0;
    hex(&f, v6[i]);
    hex(&f, IP6);
    EXPECT(0, &f, 4, 48, V6, NOV, -1);
  }
  f.n = 0;
  hex(&f, "00000018" IP6); /* LOOP: network order */
  EXPECT(108, &f, 4, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "00000002" IP4);
  EXPECT(108, &f, 4, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "02000000" IP4); /* LOOP in little-endian: AF 0x02000000 */
  NOT_IP(108, &f);
  f.n = 0;
  hex(&f, "07000000" IP4); /* AF 7 */
  NOT_IP(0, &f);
}

static void sll(void)
{
  /* ARPHRD of Ethernet, rmnet (530), ipgre (778), sit (776), none (65534),
   * PPP (512), loopback (772): decoded by the protocol field alike */
  static const char *hatypes[] = { "0001", "0212", "030a", "0308", "fffe", "0200", "0304",
                                   "0020" };
  for (unsigned i = 0; i < sizeof hatypes / sizeof *hatypes; i++) {
    fr f = {0};
    hex(&f, "0000");
    hex(&f, hatypes[i]);
    hex(&f, "0000 0000000000000000 0800" IP4);
    EXPECT(113, &f, 16, 28, V4, NOV, -1);
    fr g = {0};
    hex(&g, "86dd 0000 00000002");
    hex(&g, hatypes[i]);
    hex(&g, "04 00 0000000000000000" IP6);
    EXPECT(276, &g, 20, 48, V6, NOV, -1);
  }
  fr f = {0};
  hex(&f, "0004 0001 0006 020000000001 0000 8100 0064 0800" IP4); /* VLAN tag kept */
  EXPECT(113, &f, 20, 28, V4, 100, -1);
  f.n = 0;
  hex(&f, "0000 0001 0006 020000000001 0000 0004 aaaa03000000 86dd" IP6); /* 802.2 */
  EXPECT(113, &f, 24, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "0000 0001 0006 020000000001 0000 6558" MACS "0800" IP4); /* Ethernet follows */
  EXPECT(113, &f, 30, 28, V4, NOV, 16);
  f.n = 0;
  hex(&f, "6558 0000 00000002 0001 00 06 020000000001 0000" MACS "86dd" IP6);
  EXPECT(276, &f, 34, 48, V6, NOV, 20);
  f.n = 0;
  hex(&f, "0000 0001 0006 020000000001 0000 0806 00010800");
  NOT_IP(113, &f);
  f.n = 0;
  hex(&f, "0000 0118 0000 0000000000000000 000c 00000000"); /* CAN */
  NOT_IP(113, &f);
  f.n = 0;
  hex(&f, "0000 0338 0000 0000000000000000 0000 1400000010000000"); /* netlink */
  NOT_IP(113, &f);
}

static void ppp(void)
{
  fr f = {0};
  hex(&f, "ff03 0021" IP4);
  EXPECT(9, &f, 4, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "ff03 0057" IP6);
  EXPECT(9, &f, 4, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "0021" IP4);
  EXPECT(9, &f, 2, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "21" IP4); /* protocol field compressed */
  EXPECT(9, &f, 1, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "ff03 57" IP6);
  EXPECT(9, &f, 3, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "ff03 c021 01010004");
  NOT_IP(9, &f);
  f.n = 0;
  hex(&f, "ff03 002d 0000"); /* Van Jacobson compressed TCP */
  NOT_IP(9, &f);
  /* PPP_HDLC (50) and PPP_PPPD (166): PPP, or Cisco HDLC */
  f.n = 0;
  hex(&f, "ff03 0057" IP6);
  EXPECT(50, &f, 4, 48, V6, NOV, -1);
  EXPECT(166, &f, 4, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "0f00 0800" IP4);
  EXPECT(50, &f, 4, 28, V4, NOV, -1);
  /* C_HDLC (104) */
  f.n = 0;
  hex(&f, "0f00 0800" IP4);
  EXPECT(104, &f, 4, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "8f00 86dd" IP6);
  EXPECT(104, &f, 4, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "8f00 8035 0000"); /* SLARP */
  NOT_IP(104, &f);
  /* PPP_WITH_DIR (204), C_HDLC_WITH_DIR (205) */
  f.n = 0;
  hex(&f, "01 ff03 0021" IP4);
  EXPECT(204, &f, 5, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "00 0f00 86dd" IP6);
  EXPECT(205, &f, 5, 48, V6, NOV, -1);
}

/* 802.11 data frame headers: frame control, duration, addresses, sequence */
#define A1 "020000000002"
#define A2 "020000000001"
#define A3 "0200000000bb"
#define SNAP4 "aaaa03000000 0800" IP4
#define SNAP6 "aaaa03000000 86dd" IP6

static void wifi(void)
{
  fr f = {0};
  hex(&f, "0800 0000" A1 A2 A3 "1000" SNAP4); /* data, no DS bits: A1 DA, A2 SA */
  EXPECT(105, &f, 32, 28, V4, NOV, 4);
  f.n = 0;
  hex(&f, "8801 0000" A1 A2 A3 "1000 0000" SNAP6); /* QoS data to the AP */
  EXPECT(105, &f, 34, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "8802 0000" A1 A2 A3 "1000 0700" SNAP4); /* QoS data from the AP */
  EXPECT(105, &f, 34, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "8803 0000" A1 A2 A3 "1000" A2 "0000" SNAP4); /* four addresses */
  EXPECT(105, &f, 40, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "0803 0000" A1 A2 A3 "1000" A2 SNAP4); /* four addresses, no QoS */
  EXPECT(105, &f, 38, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "8882 0000" A1 A2 A3 "1000 0000 00000000" SNAP4); /* + HT control */
  EXPECT(105, &f, 38, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "0800 0000" A1 A2 A3 "1000 aaaa0300 00f8 86dd" IP6); /* bridge tunnel OUI */
  EXPECT(105, &f, 32, 48, V6, NOV, 4);
  /* protected, null, QoS null, management, a later fragment, A-MSDU, not SNAP */
  static const char *no[] = {
    "0841 0000" A1 A2 A3 "1000" SNAP4,
    "4801 0000" A1 A2 A3 "1000",
    "c801 0000" A1 A2 A3 "1000 0000",
    "8000 0000" A1 A2 A3 "1000" SNAP4,
    "0800 0000" A1 A2 A3 "1100" SNAP4,
    "8801 0000" A1 A2 A3 "1000 8000" SNAP4,
    "0800 0000" A1 A2 A3 "1000 424203000000",
    "0900 0000" A1 A2 A3 "1000" SNAP4, /* version 1 */
  };
  for (unsigned i = 0; i < sizeof no / sizeof *no; i++) {
    f.n = 0;
    hex(&f, no[i]);
    NOT_IP(105, &f);
  }
}

static void radiotap(void)
{
  fr f = {0};
  hex(&f, "00 00 0800 00000000" "0800 0000" A1 A2 A3 "1000" SNAP4);
  EXPECT(127, &f, 40, 28, V4, NOV, 12);
  /* TSFT, Flags (FCS at the end), Rate: the FCS is left out */
  f.n = 0;
  hex(&f, "00 00 1200 07000000 0102030405060708 10 02" "8801 0000" A1 A2 A3 "1000 0000"
          SNAP4 "deadbeef");
  EXPECT(127, &f, 18 + 34, 28, V4, NOV, -1);
  /* the same cut before the FCS (wire length says it was there) */
  f.n -= 4;
  EXPECT_WIRE(127, &f, f.n + 4, 18 + 34, 28, V4, NOV, -1);
  /* two present words; Flags with data padding: the QoS header (26) padded to 28 */
  f.n = 0;
  hex(&f, "00 00 0d00 02000080 00000000 20" "8801 0000" A1 A2 A3 "1000 0000 0000" SNAP6);
  EXPECT(127, &f, 13 + 28 + 8, 48, V6, NOV, -1);
  /* TSFT after two present words: aligned to 8 (16), flags at 24 */
  f.n = 0;
  hex(&f, "00 00 1900 03000080 00000000 00000000 0102030405060708 10"
          "0800 0000" A1 A2 A3 "1000" SNAP4 "deadbeef");
  EXPECT(127, &f, 25 + 32, 28, V4, NOV, 25 + 4);
  /* radiotap length past the capture, a bad version, a non-data frame */
  f.n = 0;
  hex(&f, "00 00 ff00 00000000" "0800 0000" A1 A2 A3 "1000" SNAP4);
  NOT_IP(127, &f);
  f.n = 0;
  hex(&f, "01 00 0800 00000000" "0800 0000" A1 A2 A3 "1000" SNAP4);
  NOT_IP(127, &f);
  f.n = 0;
  hex(&f, "00 00 0800 00000000" "d400 0000" A1);
  NOT_IP(127, &f);
  /* present words that never end */
  f.n = 0;
  hex(&f, "00 00 1000 ffffffff ffffffff ffffffff");
  NOT_IP(127, &f);
}

static void prism_avs(void)
{
  fr f = {0};
  hex(&f, "44000000 90000000");
  zeros(&f, 144 - 8);
  hex(&f, "0800 0000" A1 A2 A3 "1000" SNAP4);
  EXPECT(119, &f, 144 + 32, 28, V4, NOV, 148);
  f.n = 0;
  hex(&f, "80211001 00000040");
  zeros(&f, 64 - 8);
  hex(&f, "0800 0000" A1 A2 A3 "1000" SNAP6);
  EXPECT(163, &f, 64 + 32, 48, V6, NOV, 68);
  EXPECT(119, &f, 64 + 32, 48, V6, NOV, 68); /* Prism link type, AVS header */
  f.n = 0;
  hex(&f, "80211001 00001000");
  zeros(&f, 64 - 8);
  NOT_IP(163, &f);
}

static void ppi(void)
{
  fr f = {0};
  hex(&f, "00 00 0800 69000000" "0800 0000" A1 A2 A3 "1000" SNAP4);
  EXPECT(192, &f, 8 + 32, 28, V4, NOV, 12);
  /* an 802.11-Common field with the FCS flag */
  f.n = 0;
  hex(&f, "00 00 2000 69000000 0200 1400 0000000000000000 0100 0200 6c09 a000 0000 0000"
          "0800 0000" A1 A2 A3 "1000" SNAP6 "deadbeef");
  EXPECT(192, &f, 32 + 32, 48, V6, NOV, 36);
  /* Ethernet inside */
  f.n = 0;
  hex(&f, "00 00 0800 01000000" MACS "0800" IP4);
  EXPECT(192, &f, 22, 28, V4, NOV, 8);
  /* PPI inside PPI, unknown link types, a length past the capture */
  f.n = 0;
  hex(&f, "00 00 0800 c0000000 00 00 0800 01000000" MACS "0800" IP4);
  NOT_IP(192, &f);
  f.n = 0;
  hex(&f, "00 00 0800 93000000" MACS "0800" IP4);
  NOT_IP(192, &f);
  f.n = 0;
  hex(&f, "00 00 f000 01000000" MACS "0800" IP4);
  NOT_IP(192, &f);
}

static void nflog(void)
{
  fr f = {0};
  /* family, version, resource id; packet header TLV (8), prefix (5 -> 8), payload */
  hex(&f, "02 00 0001  0800 0100 08000300  0500 0a00 78000000  2000 0900" IP4);
  EXPECT(239, &f, 24, 28, V4, NOV, -1);
  /* the capturing host was big-endian */
  f.n = 0;
  hex(&f, "0a 00 0001  0008 0001 86dd0300  0005 000a 78000000  0034 0009" IP6);
  EXPECT(239, &f, 24, 48, V6, NOV, -1);
  /* the payload TLV's length ends the packet (padding after it) */
  f.n = 0;
  hex(&f, "02 00 0001  2000 0900" IP4 "00000000 0800 0b00 00000000");
  EXPECT(239, &f, 8, 28, V4, NOV, -1);
  /* no payload; bridge family; a TLV of length 0 (would never end) */
  f.n = 0;
  hex(&f, "02 00 0001  0800 0100 08000300");
  NOT_IP(239, &f);
  f.n = 0;
  hex(&f, "07 00 0001  2000 0900" IP4);
  NOT_IP(239, &f);
  f.n = 0;
  hex(&f, "02 00 0001  0000 0100 0000 0900" IP4);
  NOT_IP(239, &f);
}

static void others(void)
{
  fr f = {0};
  /* IPNET */
  hex(&f, "02 02 0000 0000001c 00000001 00000000 00000000 00000000" IP4);
  EXPECT(226, &f, 24, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "02 1a 0000 00000030 00000001 00000000 00000000 00000000" IP6);
  EXPECT(226, &f, 24, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "02 03 0000 00000030 00000001 00000000 00000000 00000000" IP6);
  NOT_IP(226, &f);
  /* IPoIB */
  f.n = 0;
  zeros(&f, 40);
  hex(&f, "0800 0000" IP4);
  EXPECT(242, &f, 44, 28, V4, NOV, -1);
  /* Frame Relay: NLPID IP, IPv6, padded, SNAP, Cisco, a 3-byte address */
  f.n = 0;
  hex(&f, "1841 03 cc" IP4);
  EXPECT(107, &f, 4, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "1841 03 8e" IP6);
  EXPECT(107, &f, 4, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "1841 03 00 cc" IP4);
  EXPECT(107, &f, 5, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "1841 03 00 80 000000 86dd" IP6);
  EXPECT(107, &f, 10, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "1841 0800" IP4);
  EXPECT(107, &f, 4, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "1840 01 03 cc" IP4);
  EXPECT(107, &f, 5, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "1841 03 08 0000"); /* Q.933 */
  NOT_IP(107, &f);
  f.n = 0;
  hex(&f, "18404040 03 cc" IP4); /* address without its last byte */
  NOT_IP(107, &f);
  /* ARCnet (BSD): RFC 1201, old IP, IPv6, first fragment, later fragment, exception */
  f.n = 0;
  hex(&f, "01 02 d4 00 0000" IP4);
  EXPECT(7, &f, 6, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "01 02 f0" IP4);
  EXPECT(7, &f, 3, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "01 02 c4 00 0000" IP6);
  EXPECT(7, &f, 6, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "01 02 d4 03 0001" IP4);
  EXPECT(7, &f, 6, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "01 02 d4 02 0001" IP4);
  NOT_IP(7, &f);
  f.n = 0;
  hex(&f, "01 02 d4 ff ffff d4 00 0000" IP4);
  EXPECT(7, &f, 10, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "01 02 d5 00 0000 00010800");
  NOT_IP(7, &f);
  /* ARCnet (Linux): offset field before the type */
  f.n = 0;
  hex(&f, "01 02 0000 d4 00 0000" IP4);
  EXPECT(129, &f, 8, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "01 02 0000 f0" IP4);
  EXPECT(129, &f, 5, 28, V4, NOV, -1);
  /* PKTAP: 108-byte header, then its DLT */
  f.n = 0;
  hex(&f, "6c000000 01000000 01000000");
  zeros(&f, 108 - 12);
  hex(&f, MACS "86dd" IP6);
  EXPECT(258, &f, 122, 48, V6, NOV, 108);
  f.n = 0;
  hex(&f, "6c000000 01000000 0c000000");
  zeros(&f, 108 - 12);
  hex(&f, IP4);
  EXPECT(258, &f, 108, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "6c000000 00000000 0c000000"); /* record type: no packet */
  zeros(&f, 108 - 12);
  hex(&f, IP4);
  NOT_IP(258, &f);
  f.n = 0;
  hex(&f, "10000000 01000000 0c000000 00000000" IP4); /* header too short */
  NOT_IP(258, &f);
  /* Juniper: Ethernet, with extensions, no layer 2, PPP, C-HDLC */
  f.n = 0;
  hex(&f, "4d474300" MACS "0800" IP4);
  EXPECT(178, &f, 18, 28, V4, NOV, 4);
  f.n = 0;
  hex(&f, "4d474381 0004 01020304" MACS "86dd" IP6);
  EXPECT(178, &f, 24, 48, V6, NOV, 10);
  f.n = 0;
  hex(&f, "4d474302 00000000" IP4);
  EXPECT(179, &f, 8, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "4d474300 ff03 0057" IP6);
  EXPECT(179, &f, 8, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "4d474300 0f00 0800" IP4);
  EXPECT(181, &f, 8, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "4d474300" MACS "8864 1100 1234 0032 0057" IP6); /* PPPoE service PIC */
  EXPECT(167, &f, 26, 48, V6, NOV, 4);
  f.n = 0;
  hex(&f, "4d474300 1841 03 cc" IP4);
  EXPECT(180, &f, 8, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "4d474300 0102 0800" IP4); /* a Juniper format not read */
  NOT_IP(136, &f);
  f.n = 0;
  hex(&f, "4d474400" MACS "0800" IP4); /* no magic */
  NOT_IP(178, &f);
  /* FDDI, token ring (with a routing field), ATM, IP over FC, IEEE 1394, SLIP */
  f.n = 0;
  hex(&f, "50" MACS "aaaa03000000 0800" IP4);
  EXPECT(10, &f, 21, 28, V4, NOV, 1);
  f.n = 0;
  hex(&f, "1040 020000000002 820000000001 0200 aaaa03000000 0800" IP4);
  EXPECT(6, &f, 24, 28, V4, NOV, 2);
  f.n = 0;
  hex(&f, "aaaa03000000 86dd" IP6);
  EXPECT(100, &f, 8, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "02 00 0020 aaaa03000000 0800" IP4);
  EXPECT(123, &f, 12, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "01 00 0020 aaaa03000000 0800" IP4); /* LANE */
  NOT_IP(123, &f);
  f.n = 0;
  zeros(&f, 16);
  hex(&f, "aaaa03000000 0800" IP4);
  EXPECT(122, &f, 24, 28, V4, NOV, -1);
  f.n = 0;
  zeros(&f, 16);
  hex(&f, "86dd" IP6);
  EXPECT(138, &f, 18, 48, V6, NOV, -1);
  f.n = 0;
  zeros(&f, 16);
  hex(&f, IP4);
  EXPECT(8, &f, 16, 28, V4, NOV, -1);
  /* netANALYZER: header, (preamble and SFD,) Ethernet and its FCS */
  f.n = 0;
  hex(&f, "00000000" MACS "0800" IP4 "deadbeef");
  EXPECT(240, &f, 18, 28, V4, NOV, 4);
  f.n = 0;
  hex(&f, "00000000 55555555555555d5" MACS "0800" IP4 "deadbeef");
  EXPECT(241, &f, 26, 28, V4, NOV, 12);
  /* ERF records: Ethernet (2 pad bytes, FCS, record padding after it), with an
   * extension header; PoS with PPP and with Cisco HDLC; raw IPv6 */
  f.n = 0;
  hex(&f, "0000000000000000 02 04 0050 0000 002e 0000" MACS "0800" IP4 "deadbeef 000000000000");
  EXPECT(197, &f, 32, 28, V4, NOV, 18);
  f.n = 0;
  hex(&f, "0000000000000000 82 04 0058 0000 002e 0000 0000000000000000" MACS "0800" IP4
          "deadbeef 000000000000");
  EXPECT(197, &f, 40, 28, V4, NOV, 26);
  f.n = 0;
  hex(&f, "0000000000000000 01 04 0048 0000 0034 ff03 0057" IP6 "0000000000000000");
  EXPECT(197, &f, 20, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "0000000000000000 01 04 0030 0000 0020 0f00 0800" IP4);
  EXPECT(197, &f, 20, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "0000000000000000 17 04 0040 0000 0030" IP6);
  EXPECT(197, &f, 16, 48, V6, NOV, -1);
  f.n = 0;
  hex(&f, "0000000000000000 03 04 0040 0000 0030 00000000"); /* ATM */
  NOT_IP(197, &f);
  /* DOCSIS packet PDU (without and with an extended header), a MAC message */
  f.n = 0;
  hex(&f, "00 00 0036 0000" MACS "0800" IP4 "deadbeef");
  EXPECT(143, &f, 20, 28, V4, NOV, 6);
  f.n = 0;
  hex(&f, "01 04 003a 01020304 0000" MACS "86dd" IP6 "deadbeef");
  EXPECT(143, &f, 24, 48, V6, NOV, 10);
  f.n = 0;
  hex(&f, "c2 00 0036 0000" MACS "0800" IP4 "deadbeef");
  NOT_IP(143, &f);
  /* OpenBSD enc, pflog */
  f.n = 0;
  hex(&f, "02000000 00001000 00000000" IP4);
  EXPECT(109, &f, 12, 28, V4, NOV, -1);
  f.n = 0;
  hex(&f, "3d 18");
  zeros(&f, 62);
  hex(&f, IP6);
  EXPECT(117, &f, 64, 48, V6, NOV, -1);
}

static void ether_more(void)
{
  fr f = {0};
  /* NSH: IPv4 next, Ethernet next */
  hex(&f, MACS "894f 0002 0201 000001ff" IP4);
  EXPECT(1, &f, 22, 28, V4, NOV, 0);
  f.n = 0;
  hex(&f, MACS "894f 0002 0203 000001ff" MACS "86dd" IP6);
  EXPECT(1, &f, 36, 48, V6, NOV, 0);
  f.n = 0;
  hex(&f, MACS "894f 4002 0201 000001ff" IP4); /* version 1 */
  NOT_IP(1, &f);
  f.n = 0;
  hex(&f, MACS "894f 0001 0201 000001ff" IP4); /* length below the base header */
  NOT_IP(1, &f);
  /* PBB: I-TAG, the customer's addresses and ethertype */
  f.n = 0;
  hex(&f, MACS "88e7 00000001" MACS "8100 0005 0800" IP4); /* the customer's tag */
  EXPECT(1, &f, 36, 28, V4, 5, 0);
  /* Arista timestamps, 64 and 48 bits */
  f.n = 0;
  hex(&f, MACS "d28b 0001 0010 0000000100000002 0800" IP4);
  EXPECT(1, &f, 28, 28, V4, NOV, 0);
  f.n = 0;
  hex(&f, MACS "d28b 0001 0120 000100000002 86dd" IP6);
  EXPECT(1, &f, 26, 48, V6, NOV, 0);
  f.n = 0;
  hex(&f, MACS "d28b 0002 0010 0000000100000002 0800" IP4);
  NOT_IP(1, &f);
  /* Ethernet in Ethernet (transparent bridging) keeps the outer addresses */
  f.n = 0;
  hex(&f, MACS "6558 020000000003 020000000004 0800" IP4);
  EXPECT(1, &f, 28, 28, V4, NOV, 0);
}

static void unknown(void)
{
  fr f = {0};
  hex(&f, MACS "0800" IP4);
  NOT_IP(147, &f);    /* USER0 */
  NOT_IP(0x3FFFFFF, &f);
  NOT_IP(189, &f);    /* USB */
  NOT_IP(0xFFFFFFFF, &f);
  po_link l;
  CHECK_EQ(po_link_decode(1, NULL, 0, 100, &l), PO_ENOTIP);
}

int main(void)
{
  RUN(ethernet);
  RUN(vlans);
  RUN(mpls);
  RUN(pppoe);
  RUN(macsec);
  RUN(fcs);
  RUN(raw_ip);
  RUN(loopback);
  RUN(sll);
  RUN(ppp);
  RUN(wifi);
  RUN(radiotap);
  RUN(prism_avs);
  RUN(ppi);
  RUN(nflog);
  RUN(others);
  RUN(ether_more);
  RUN(unknown);
  return check_report();
}
