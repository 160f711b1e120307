/* decode.c - bounds-checked IPv4/IPv6/transport/ICMP-quotation parsing; no I/O. */
#include "po.h"

#include <string.h>

enum { IP6_HBH = 0, IP6_ROUTING = 43, IP6_FRAGMENT = 44, IP6_AH = 51,
       IP6_DSTOPTS = 60, IP6_MAX_EXT = 16 };

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t rd32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IPv6 with payload length 0 (RFC 2675): the Jumbo Payload option (type 0xC2,
 * 4 bytes) of the hop-by-hop header right after the fixed header gives the
 * packet's length without the fixed header.  1 and that length, or 0 when the
 * header or the option is not there (BIG TCP without it: length unknown). */
static int jumbo_len(const uint8_t *p, uint32_t cap, uint32_t *len)
{
  if (cap < 48 || p[6] != IP6_HBH) return 0;
  uint32_t end = 40 + ((uint32_t)p[41] + 1) * 8;
  if (end > cap) end = cap;
  for (uint32_t o = 42; o < end;) {
    uint8_t t = p[o];
    if (t == 0) { o++; continue; } /* Pad1 */
    if (o + 2 > end) return 0;
    uint32_t olen = p[o + 1];
    if (t == 0xc2 && olen == 4 && o + 6 <= end) {
      *len = rd32(p + o + 2);
      return 1;
    }
    o += 2 + olen;
  }
  return 0;
}

/* The length of a packet whose header says 0 (IPv4 total length; IPv6
 * payload length without a Jumbo Payload option, as BIG TCP sends them). */
static uint32_t unknown_len(uint32_t cap, uint32_t wire) { return wire > cap ? wire : cap; }

/* End of the IP packet inside the capture: the claimed length when it is
 * plausible and shorter than the capture (link padding excluded), else the
 * capture (a zero total length from segmentation offload, or a cut capture). */
uint32_t po_ip_end(const po_hdr *h)
{
  if (h->pkt_len >= h->hdr_len && h->pkt_len < h->cap) return h->pkt_len;
  return h->cap;
}

static void set_l4(po_hdr *h)
{
  uint32_t avail = po_ip_end(h) - h->hdr_len;
  h->l4 = PO_L4_NONE;
  if (h->frag) return;
  switch (h->proto) {
  case 6:  if (avail >= 20) h->l4 = PO_L4_TCP; break;
  case 17: if (avail >= 8) h->l4 = PO_L4_UDP; break;
  case 1:  if (h->version == 4 && avail >= 8) h->l4 = PO_L4_ICMP; break;
  case 58: if (h->version == 6 && avail >= 8) h->l4 = PO_L4_ICMP; break;
  }
}

static int decode_ip4(const uint8_t *p, uint32_t cap, po_hdr *h)
{
  if (cap < 20) return PO_EMALFORM;
  uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > cap) return PO_EMALFORM;
  h->hdr_len = (uint16_t)ihl;
  h->pkt_len = rd16(p + 2);
  if (h->pkt_len == 0) h->pkt_len = unknown_len(cap, 0); /* BIG TCP, offload: the capture */
  else if (h->pkt_len < ihl) return PO_EMALFORM;
  h->proto = p[9];
  h->frag = (rd16(p + 6) & 0x1fff) != 0;
  return PO_OK;
}

static int decode_ip6(const uint8_t *p, uint32_t cap, po_hdr *h)
{
  if (cap < 40) return PO_EMALFORM;
  uint32_t plen = rd16(p + 4), jumbo;
  if (plen != 0) h->pkt_len = 40 + plen;
  else if (jumbo_len(p, cap, &jumbo)) /* a jumbogram; clamped to what a uint32_t holds */
    h->pkt_len = jumbo > UINT32_MAX - 40 ? UINT32_MAX : 40 + jumbo;
  else h->pkt_len = unknown_len(cap, 0); /* BIG TCP, offload: the capture */
  uint32_t end = h->pkt_len < cap ? h->pkt_len : cap;
  uint8_t next = p[6];
  uint32_t off = 40;
  for (int n = 0; n < IP6_MAX_EXT; n++) {
    uint32_t len;
    if (next == IP6_FRAGMENT) {
      if (off + 8 > end) return PO_EMALFORM;
      h->fh_off = (uint16_t)off;
      len = 8;
      if ((rd16(p + off + 2) & 0xfff8) != 0) { /* offset > 0: no transport here */
        h->frag = 1;
        next = p[off];
        off += len;
        break;
      }
    } else if (next == IP6_HBH || next == IP6_ROUTING || next == IP6_DSTOPTS) {
      if (off + 2 > end) return PO_EMALFORM;
      len = ((uint32_t)p[off + 1] + 1) * 8;
    } else if (next == IP6_AH) {
      if (off + 2 > end) return PO_EMALFORM;
      len = ((uint32_t)p[off + 1] + 2) * 4;
    } else {
      break;
    }
    if (off + len > end) return PO_EMALFORM;
    next = p[off];
    off += len;
    if (n == IP6_MAX_EXT - 1) return PO_EMALFORM; /* a chain that never ends */
  }
  if (off > 0xffff) return PO_EMALFORM;
  h->hdr_len = (uint16_t)off;
  h->proto = next;
  return PO_OK;
}

static int decode_one(const uint8_t *l3, uint32_t cap, po_hdr *h)
{
  memset(h, 0, sizeof *h);
  if (l3 == NULL || cap < 1) return PO_EMALFORM;
  int v = l3[0] >> 4, rc;
  if (v == 4) rc = decode_ip4(l3, cap, h);
  else if (v == 6) rc = decode_ip6(l3, cap, h);
  else return PO_ENOTIP;
  if (rc != PO_OK) return rc;
  h->p = l3;
  h->cap = cap;
  h->version = (uint8_t)v;
  set_l4(h);
  return PO_OK;
}

int po_icmp_is_error(const po_hdr *h)
{
  if (h->l4 != PO_L4_ICMP) return 0;
  uint8_t type = h->p[h->hdr_len];
  if (h->version == 4)
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
  return type >= 1 && type <= 4;
}

int po_decode(const uint8_t *l3, uint32_t cap, po_hdr *h, po_hdr *q)
{
  memset(q, 0, sizeof *q);
  int rc = decode_one(l3, cap, h);
  if (rc != PO_OK) return rc;
  if (!po_icmp_is_error(h)) return PO_OK;
  uint32_t qoff = (uint32_t)h->hdr_len + 8, end = po_ip_end(h);
  if (qoff >= end) return PO_OK;
  const uint8_t *qp = h->p + qoff;
  /* The quotation must be of the same IP version and hold its full header. */
  if ((qp[0] >> 4) != h->version || decode_one(qp, end - qoff, q) != PO_OK)
    memset(q, 0, sizeof *q);
  return PO_OK;
}

void po_decode_wire(po_hdr *h, uint32_t wire)
{
  if (h->p == NULL || wire <= h->cap) return;
  const uint8_t *p = h->p;
  uint32_t jumbo;
  if (h->version == 4 ? rd16(p + 2) == 0 : rd16(p + 4) == 0 && !jumbo_len(p, h->cap, &jumbo))
    h->pkt_len = unknown_len(h->cap, wire);
}

int po_ip6_ext(uint8_t next)
{
  return next == IP6_HBH || next == IP6_ROUTING || next == IP6_FRAGMENT || next == IP6_AH ||
         next == IP6_DSTOPTS;
}

int po_frag_info(const po_hdr *h, uint32_t *id, int *first_of_many)
{
  const uint8_t *p = h->p;
  if (h->version == 4) {
    uint16_t ff = rd16(p + 6);
    *id = rd16(p + 4);
    *first_of_many = (ff & 0x1fff) == 0 && (ff & 0x2000) != 0;
    return (ff & 0x3fff) != 0;
  }
  if (h->fh_off == 0) return 0;
  const uint8_t *f = p + h->fh_off;
  *id = (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 | (uint32_t)f[6] << 8 | f[7];
  *first_of_many = (rd16(f + 2) & 0xfff8) == 0 && (f[3] & 1) != 0;
  return 1;
}
