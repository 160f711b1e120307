/* link.c - finds the IP packet in a frame of any pcap link type (bounds-checked); no I/O. */
#include "po.h"

#include <string.h>

/* A frame is walked with f (its first byte) and end (the bytes that count: the
 * capture, without a trailing FCS or integrity check value).  Every reader
 * checks off + n <= end first.  Nested link layers (PPI, PKTAP, Juniper) call
 * link_at() again, at most MAX_DEPTH deep. */
enum { MAX_DEPTH = 4, MAX_STEPS = 64 };

enum {
  ET_IP4 = 0x0800, ET_IP6 = 0x86DD, ET_VLAN = 0x8100, ET_QINQ = 0x88A8,
  ET_QINQ_OLD = 0x9100, ET_QINQ_OLD2 = 0x9200, ET_MPLS = 0x8847, ET_MPLS_MC = 0x8848,
  ET_PPPOE = 0x8864, ET_MACSEC = 0x88E5, ET_PBB = 0x88E7, ET_NSH = 0x894F,
  ET_TEB = 0x6558, ET_ARISTA = 0xD28B,
  /* not ethertypes: what by_type() is asked to read next */
  NEXT_ETHER = 0x10000,  /* an Ethernet header */
  NEXT_LLC = 0x10001,    /* an 802.2 LLC header */
  NEXT_GUESS = 0x10002,  /* IPv4 or IPv6 by the version nibble */
  NEXT_PPP = 0x10003,    /* a PPP protocol field */
  NEXT_MPLS = 0x10004,   /* an MPLS label stack */
};

/* The link being decoded, and whether the frame was captured whole (then
 * trailers such as MACsec's ICV are in the capture and left out). */
typedef struct walk {
  po_link l;
  int whole;
} walk;

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Leave n trailing bytes (an FCS) out of the frame when the capture reaches
 * into them: the frame was wire bytes long, the FCS its last n. */
static uint32_t trim(uint32_t end, uint32_t wire, uint32_t n)
{
  if (n > 0 && wire >= n && end > wire - n) return wire - n;
  return end;
}

static int ip_at(uint32_t off, uint32_t end, uint16_t et, walk *o)
{
  if (off > end) return PO_ENOTIP;
  o->l.l3_off = off;
  o->l.l3_cap = end - off;
  o->l.ethertype = et;
  return PO_OK;
}

/* The IP packet at off, its version from its first nibble (nothing to read:
 * not IP, as nothing says what it would be). */
static int guess_ip(const uint8_t *f, uint32_t off, uint32_t end, walk *o)
{
  if (off >= end) return PO_ENOTIP;
  if (f[off] >> 4 == 4) return ip_at(off, end, ET_IP4, o);
  if (f[off] >> 4 == 6) return ip_at(off, end, ET_IP6, o);
  return PO_ENOTIP;
}

/* BSD address families of IPv4 and IPv6 (NULL, LOOP, ENC, PFLOG, PKTAP's). */
static int af_ethertype(uint32_t af)
{
  if (af == 2) return ET_IP4;
  if (af == 10 || af == 24 || af == 28 || af == 30) return ET_IP6; /* Linux, Net/OpenBSD, FreeBSD, macOS */
  return 0;
}

/* PPP protocol numbers that carry IP (or MPLS). */
static int ppp_next(uint16_t proto)
{
  switch (proto) {
  case 0x0021: return ET_IP4;
  case 0x0057: return ET_IP6;
  case 0x0281: case 0x0283: return NEXT_MPLS;
  default: return 0;
  }
}

/* What follows an ethertype-like type field at off: walks tags and
 * encapsulations (VLAN, MPLS, PPPoE, MACsec, PBB, NSH, LLC/SNAP, PPP) down to
 * the IP header.  Tunnels inside IP are not opened: the outer IP is the flow. */
static int by_type(const uint8_t *f, uint32_t off, uint32_t end, uint32_t next, walk *o)
{
  for (int step = 0; step < MAX_STEPS; step++) {
    switch (next) {
    case ET_IP4:
    case ET_IP6:
      return ip_at(off, end, (uint16_t)next, o);
    case NEXT_GUESS:
      return guess_ip(f, off, end, o);
    case NEXT_ETHER:
      if (off + 14 > end) return PO_ENOTIP;
      if (o->l.mac_off < 0) o->l.mac_off = (int32_t)off;
      next = be16(f + off + 12);
      off += 14;
      if (next <= 1500) next = NEXT_LLC; /* 802.3 length: 802.2 LLC follows */
      else if (next < 0x0600) return PO_ENOTIP;
      break;
    case ET_VLAN:
    case ET_QINQ:
    case ET_QINQ_OLD:
    case ET_QINQ_OLD2:
      if (off + 4 > end) return PO_ENOTIP;
      if (o->l.vlan == 0xFFFF) o->l.vlan = be16(f + off) & 0x0FFF;
      next = be16(f + off + 2);
      off += 4;
      if (next <= 1500) next = NEXT_LLC;
      break;
    case NEXT_LLC:
      /* DSAP, SSAP, control; SNAP (AA AA 03) adds an OUI and an ethertype */
      if (off + 3 > end) return PO_ENOTIP;
      if (f[off] == 0x06 && f[off + 1] == 0x06 && f[off + 2] == 0x03) { /* IP over bare LLC */
        off += 3;
        next = ET_IP4;
        break;
      }
      if (f[off] != 0xAA || f[off + 1] != 0xAA || f[off + 2] != 0x03) return PO_ENOTIP;
      if (off + 8 > end) return PO_ENOTIP;
      /* OUI 0 (RFC 1042) or 00-00-F8 (802.1H bridge tunnel): an ethertype */
      if (f[off + 3] != 0 || f[off + 4] != 0 || (f[off + 5] != 0 && f[off + 5] != 0xF8))
        return PO_ENOTIP;
      next = be16(f + off + 6);
      off += 8;
      break;
    case ET_MPLS:
    case ET_MPLS_MC:
    case NEXT_MPLS:
      /* labels down to the one with the bottom-of-stack bit, then IP by its nibble */
      for (;;) {
        if (off + 4 > end) return PO_ENOTIP;
        int bottom = f[off + 2] & 1;
        off += 4;
        if (bottom) break;
      }
      next = NEXT_GUESS;
      break;
    case ET_PPPOE:
      /* session stage: ver/type 0x11, code 0, session id, length, then PPP */
      if (off + 6 > end) return PO_ENOTIP;
      if (f[off] != 0x11 || f[off + 1] != 0) return PO_ENOTIP;
      off += 6;
      next = NEXT_PPP;
      break;
    case NEXT_PPP: {
      /* PPP protocol field, two bytes or one (protocol field compression: odd first byte) */
      if (off + 1 > end) return PO_ENOTIP;
      uint16_t proto;
      if (f[off] & 1) {
        proto = f[off];
        off += 1;
      } else {
        if (off + 2 > end) return PO_ENOTIP;
        proto = be16(f + off);
        off += 2;
      }
      next = (uint32_t)ppp_next(proto);
      if (next == 0) return PO_ENOTIP;
      break;
    }
    case ET_MACSEC: {
      /* SecTAG after the ethertype: TCI/AN, short length, packet number, and an
       * 8-byte SCI when the SC bit says so; then the (plain) payload's ethertype.
       * Encrypted (E) or modified (C) payloads cannot be read. */
      if (off + 6 > end) return PO_ENOTIP;
      uint8_t tci = f[off], sl = f[off + 1] & 0x3F;
      if (tci & 0x80) return PO_ENOTIP;           /* version bit must be 0 */
      if (tci & 0x0C) return PO_ENOTIP;           /* E or C: confidentiality */
      uint32_t data = off + ((tci & 0x20) ? 14 : 6);
      /* the ICV (16 bytes) ends the frame; a short length gives the secure data's length */
      if (sl != 0) {
        if (data + sl < end) end = data + sl;
      } else if (o->whole && end >= data + 16 + 2) {
        end -= 16;
      }
      if (data + 2 > end) return PO_ENOTIP;
      next = be16(f + data);
      off = data + 2;
      if (next <= 1500) next = NEXT_LLC;
      break;
    }
    case ET_PBB:
      /* 802.1ah: I-TAG (flags + I-SID), then the customer's Ethernet header */
      if (off + 4 > end) return PO_ENOTIP;
      off += 4;
      next = NEXT_ETHER;
      break;
    case ET_TEB:
      next = NEXT_ETHER;
      break;
    case ET_NSH: {
      /* version 0; length in 4-byte words (>= 2); next protocol */
      if (off + 8 > end) return PO_ENOTIP;
      if (f[off] >> 6 != 0) return PO_ENOTIP;
      uint32_t len = (uint32_t)(f[off + 1] & 0x3F) * 4;
      if (len < 8) return PO_ENOTIP;
      uint8_t np = f[off + 3];
      off += len;
      switch (np) {
      case 1: next = ET_IP4; break;
      case 2: next = ET_IP6; break;
      case 3: next = NEXT_ETHER; break;
      case 4: next = ET_NSH; break;
      case 5: next = NEXT_MPLS; break;
      default: return PO_ENOTIP;
      }
      break;
    }
    case ET_ARISTA: {
      /* Arista's timestamp header: sub-type, version (timestamp format), the
       * timestamp (8 bytes, or 6 for the 48-bit formats), then the frame's ethertype */
      if (off + 4 > end) return PO_ENOTIP;
      uint16_t sub = be16(f + off), ver = be16(f + off + 2);
      if (sub != 0x0001) return PO_ENOTIP;
      uint32_t ts;
      switch (ver) {                            /* TAI or UTC */
      case 0x0010: case 0x0110: ts = 8; break;
      case 0x0020: case 0x0120: ts = 6; break;
      default: return PO_ENOTIP;                /* other layouts: unknown */
      }
      off += 4 + ts;
      if (off + 2 > end) return PO_ENOTIP;
      next = be16(f + off);
      off += 2;
      break;
    }
    default:
      return PO_ENOTIP;
    }
  }
  return PO_ENOTIP;
}

/* ---- IEEE 802.11 ----------------------------------------------------- */

/* An 802.11 frame at off; pad: the radiotap flag that a driver padded the
 * header to a multiple of 4 bytes.  Data frames only: no null or protected
 * frames, no later fragments, no A-MSDU aggregates. */
static int ieee80211(const uint8_t *f, uint32_t off, uint32_t end, int pad, walk *o)
{
  if (off + 24 > end) return PO_ENOTIP;
  uint8_t fc0 = f[off], fc1 = f[off + 1];
  if ((fc0 & 3) != 0 || (fc0 >> 2 & 3) != 2) return PO_ENOTIP; /* version 0, type data */
  uint8_t subtype = fc0 >> 4;
  if (subtype & 4) return PO_ENOTIP;            /* null function: no payload */
  if (fc1 & 0x40) return PO_ENOTIP;             /* protected */
  if (le16(f + off + 22) & 0x000F) return PO_ENOTIP; /* fragment number > 0 */
  uint32_t hdr = 24;
  int ds = fc1 & 3;
  if (ds == 3) hdr += 6;                        /* four addresses */
  if (subtype & 8) {                            /* QoS */
    if (off + hdr + 2 > end) return PO_ENOTIP;
    if (f[off + hdr] & 0x80) return PO_ENOTIP;  /* A-MSDU present */
    hdr += 2;
    if (fc1 & 0x80) hdr += 4;                   /* HT control */
  }
  if (pad) hdr = (hdr + 3) & ~3u;
  /* destination and source adjacent only without DS bits (A1 DA, A2 SA) */
  if (ds == 0 && o->l.mac_off < 0) o->l.mac_off = (int32_t)(off + 4);
  return by_type(f, off + hdr, end, NEXT_LLC, o);
}

/* radiotap: the header's length, and its Flags field (FCS at the end, data pad) */
static int radiotap(const uint8_t *f, uint32_t end, uint32_t wire, walk *o)
{
  if (end < 8 || f[0] != 0) return PO_ENOTIP;
  uint32_t len = le16(f + 2);
  if (len < 8 || len > end) return PO_ENOTIP;
  uint32_t present = le32(f + 4), pos = 8, word = present;
  while (word & 0x80000000u) {                  /* more present words */
    if (pos + 4 > len) return PO_ENOTIP;
    word = le32(f + pos);
    pos += 4;
  }
  int pad = 0;
  if (present & 1) pos = ((pos + 7) & ~7u) + 8; /* TSFT, 8-byte aligned */
  if ((present & 2) && pos < len) {
    uint8_t flags = f[pos];
    if (flags & 0x10) end = trim(end, wire, 4);
    if (flags & 0x20) pad = 1;
  }
  return ieee80211(f, len, end, pad, o);
}

/* ---- one link layer ---------------------------------------------------- */

static int link_at(uint32_t lt, const uint8_t *f, uint32_t off, uint32_t end, uint32_t wire,
                   walk *o, int depth);

static int frelay(const uint8_t *f, uint32_t off, uint32_t end, walk *o);

/* Juniper's "MGC" pseudo-header: magic, flags, optional extensions; with the
 * "no layer 2" flag the IP packet follows 4 more bytes. */
static int juniper(uint32_t lt, const uint8_t *f, uint32_t off, uint32_t end, walk *o)
{
  if (off + 4 > end || f[off] != 'M' || f[off + 1] != 'G' || f[off + 2] != 'C') return PO_ENOTIP;
  uint8_t flags = f[off + 3];
  uint32_t hdr = 4;
  if (flags & 0x80) {
    if (off + 6 > end) return PO_ENOTIP;
    hdr = 6 + be16(f + off + 4);
  }
  if (flags & 0x02) return guess_ip(f, off + hdr + 4, end, o);
  off += hdr;
  switch (lt) {
  case 167:                                                         /* JUNIPER_PPPOE: Ethernet frames */
  case 178: return by_type(f, off, end, NEXT_ETHER, o);             /* JUNIPER_ETHER */
  case 180: return frelay(f, off, end, o);                          /* JUNIPER_FRELAY */
  case 179:                                                         /* JUNIPER_PPP */
    if (off + 2 <= end && f[off] == 0xFF && f[off + 1] == 0x03) off += 2;
    return by_type(f, off, end, NEXT_PPP, o);
  case 181:                                                         /* JUNIPER_CHDLC */
    if (off + 4 > end) return PO_ENOTIP;
    return by_type(f, off + 4, end, be16(f + off + 2), o);
  default: return PO_ENOTIP;
  }
}

/* ARCnet: RFC 1201 header (type, split flag, sequence; an exception packet
 * has 4 bytes more); IP in unfragmented or first fragments only. */
static int arcnet(const uint8_t *f, uint32_t off, uint32_t end, walk *o, int linux_hdr)
{
  uint32_t tpos = off + (linux_hdr ? 4 : 2);
  if (tpos + 1 > end) return PO_ENOTIP;
  uint8_t type = f[tpos];
  uint32_t data;
  if (type == 0xF0 || type == 0xF1 || type == 0x80) { /* old IP, old ARP, diagnose */
    data = tpos + 1;
  } else {
    if (tpos + 4 > end) return PO_ENOTIP;
    uint8_t flag = f[tpos + 1];
    data = tpos + 4;
    if (flag == 0xFF && !linux_hdr) {           /* exception packet */
      if (tpos + 8 > end) return PO_ENOTIP;
      flag = f[tpos + 5];
      data = tpos + 8;
    }
    if (flag != 0 && !(flag & 1)) return PO_ENOTIP; /* a later fragment */
  }
  switch (type) {
  case 0xF0: case 0xD4: return by_type(f, data, end, ET_IP4, o);
  case 0xC4: return by_type(f, data, end, ET_IP6, o);
  default: return PO_ENOTIP;
  }
}

/* Frame Relay: Q.922 address (2 to 4 bytes), then Cisco's ethertype, or UI
 * control + NLPID (IP, IPv6, SNAP). */
static int frelay(const uint8_t *f, uint32_t off, uint32_t end, walk *o)
{
  uint32_t a = off;
  for (int i = 0; i < 4; i++) {
    if (a + 1 > end) return PO_ENOTIP;
    if (f[a++] & 1) break;                      /* EA bit: last address byte */
    if (i == 3) return PO_ENOTIP;
  }
  if (a - off < 2 || a + 1 > end) return PO_ENOTIP;
  if (f[a] != 0x03) {                           /* Cisco encapsulation */
    if (a - off != 2 || a + 2 > end) return PO_ENOTIP;
    return by_type(f, a + 2, end, be16(f + a), o);
  }
  a++;
  if (a + 1 > end) return PO_ENOTIP;
  if (f[a] == 0x00) a++;                        /* pad */
  if (a + 1 > end) return PO_ENOTIP;
  switch (f[a]) {
  case 0xCC: return by_type(f, a + 1, end, ET_IP4, o);
  case 0x8E: return by_type(f, a + 1, end, ET_IP6, o);
  case 0x80:                                    /* SNAP: OUI 0, ethertype */
    if (a + 6 > end || f[a + 1] || f[a + 2] || f[a + 3]) return PO_ENOTIP;
    return by_type(f, a + 6, end, be16(f + a + 4), o);
  default: return PO_ENOTIP;
  }
}

/* Linux NFLOG: family, version, resource id, then netlink TLVs (length and
 * type in the capturing host's byte order, padded to 4) up to NFULA_PAYLOAD. */
static int nflog(const uint8_t *f, uint32_t end, walk *o)
{
  if (end < 4 || f[1] != 0) return PO_ENOTIP;
  int et = f[0] == 2 ? ET_IP4 : f[0] == 10 ? ET_IP6 : 0;
  if (et == 0) return PO_ENOTIP;
  /* byte order: the one that makes the first TLV fit (host order first) */
  uint16_t one = 1;
  uint8_t first;
  memcpy(&first, &one, 1);
  int little = first == 1;
  if (end >= 8) {
    uint32_t l = little ? le16(f + 4) : be16(f + 4), r = little ? be16(f + 4) : le16(f + 4);
    if ((l < 4 || 4 + l > end) && r >= 4 && 4 + r <= end) little = !little;
  }
  uint32_t pos = 4;
  while (pos + 4 <= end) {
    uint32_t len = little ? le16(f + pos) : be16(f + pos);
    uint32_t type = (little ? le16(f + pos + 2) : be16(f + pos + 2)) & 0x3FFF;
    if (len < 4) return PO_ENOTIP;
    if (type == 9) {                            /* NFULA_PAYLOAD */
      uint32_t stop = pos + len < end ? pos + len : end;
      return ip_at(pos + 4, stop, (uint16_t)et, o);
    }
    uint32_t step = (len + 3) & ~3u;
    if (step > end - pos) return PO_ENOTIP;
    pos += step;
  }
  return PO_ENOTIP;
}

/* PPI: header length and the encapsulated link type; the 802.11-Common field's
 * flags say whether the frame ends with an FCS. */
static int ppi(const uint8_t *f, uint32_t end, uint32_t wire, walk *o, int depth)
{
  if (end < 8 || f[0] != 0) return PO_ENOTIP;
  uint32_t len = le16(f + 2), dlt = le32(f + 4);
  if (len < 8 || len > end) return PO_ENOTIP;
  uint32_t pos = 8;
  while (pos + 4 <= len) {
    uint32_t type = le16(f + pos), flen = le16(f + pos + 2);
    if (flen > len - pos - 4) break;
    if (type == 2 && flen >= 10 && (le16(f + pos + 4 + 8) & 1)) end = trim(end, wire, 4);
    pos += 4 + flen;
  }
  if (dlt == 192) return PO_ENOTIP;
  return link_at(dlt, f, len, end, wire, o, depth + 1);
}

/* ERF record (Endace) in a pcap: 16-byte header (type, flags, record and wire
 * lengths), extension headers while their top bit is set, then by the type:
 * Ethernet after 2 pad bytes (its FCS at the end), PoS (PPP or Cisco HDLC),
 * raw IPv4/IPv6.  The record is padded: the wire length ends the frame. */
static int erf_record(const uint8_t *f, uint32_t off, uint32_t end, walk *o)
{
  if (off + 16 > end) return PO_ENOTIP;
  uint8_t type = f[off + 8];
  uint32_t wlen = be16(f + off + 14), pos = off + 16;
  for (uint8_t more = type & 0x80; more; pos += 8) {
    if (pos + 8 > end) return PO_ENOTIP;
    more = f[pos] & 0x80;
  }
  switch (type & 0x7F) {
  case 2: case 10: case 16: case 20:            /* ETH, COLOR_ETH, DSM_COLOR_ETH, COLOR_HASH_ETH */
    pos += 2;
    if (wlen >= 4 && pos + wlen - 4 < end) end = pos + wlen - 4;
    return by_type(f, pos, end, NEXT_ETHER, o);
  case 1: case 9: case 15: case 19:             /* HDLC_POS and its colored kinds */
    if (pos + wlen < end) end = pos + wlen;
    if (pos + 4 > end) return PO_ENOTIP;
    if (f[pos] == 0xFF && f[pos + 1] == 0x03) return by_type(f, pos + 2, end, NEXT_PPP, o);
    return by_type(f, pos + 4, end, be16(f + pos + 2), o);
  case 22: case 23:                             /* IPV4, IPV6 */
    if (pos + wlen < end) end = pos + wlen;
    return ip_at(pos, end, (type & 0x7F) == 22 ? ET_IP4 : ET_IP6, o);
  default:
    return PO_ENOTIP;
  }
}

/* DOCSIS MAC frame: frame control (type 0: a packet PDU), MAC_PARM, length,
 * extended header when EHDR_ON, HCS; then an Ethernet frame with its CRC. */
static int docsis(const uint8_t *f, uint32_t off, uint32_t end, uint32_t wire, walk *o)
{
  if (off + 6 > end) return PO_ENOTIP;
  uint8_t fc = f[off];
  if (fc >> 6 != 0) return PO_ENOTIP;
  uint32_t hl = 6 + ((fc & 1) ? f[off + 1] : 0);
  return by_type(f, off + hl, trim(end, wire, 4), NEXT_ETHER, o);
}

static int link_at(uint32_t lt, const uint8_t *f, uint32_t off, uint32_t end, uint32_t wire,
                   walk *o, int depth)
{
  if (depth > MAX_DEPTH || off > end) return PO_ENOTIP;
  switch (lt) {
  case 1:                                       /* ETHERNET */
    return by_type(f, off, end, NEXT_ETHER, o);
  case 12: case 14: case 101:                   /* raw IP (DLT_RAW of BSD/OpenBSD, LINKTYPE_RAW) */
    return guess_ip(f, off, end, o);
  case 228:                                     /* IPV4 */
    return ip_at(off, end, ET_IP4, o);
  case 229:                                     /* IPV6 */
    return ip_at(off, end, ET_IP6, o);
  case 0: {                                     /* NULL: AF in the capturing host's order */
    if (off + 4 > end) return PO_ENOTIP;
    uint32_t af = le32(f + off);
    if (af > 0xFFFF) af = be32(f + off);
    int et = af_ethertype(af);
    return et ? ip_at(off + 4, end, (uint16_t)et, o) : PO_ENOTIP;
  }
  case 108: {                                   /* LOOP: AF in network order */
    if (off + 4 > end) return PO_ENOTIP;
    int et = af_ethertype(be32(f + off));
    return et ? ip_at(off + 4, end, (uint16_t)et, o) : PO_ENOTIP;
  }
  case 109: {                                   /* ENC (OpenBSD IPsec): AF, SPI, flags */
    if (off + 12 > end) return PO_ENOTIP;
    uint32_t af = le32(f + off);
    if (af > 0xFFFF) af = be32(f + off);
    int et = af_ethertype(af);
    return et ? ip_at(off + 12, end, (uint16_t)et, o) : PO_ENOTIP;
  }
  case 117: {                                   /* PFLOG: length byte, AF byte */
    if (off + 2 > end) return PO_ENOTIP;
    uint32_t hl = ((uint32_t)f[off] + 3) & ~3u;
    int et = af_ethertype(f[off + 1]);
    if (hl < 4 || !et) return PO_ENOTIP;
    return by_type(f, off + hl, end, (uint32_t)et, o);
  }
  case 113: {                                   /* LINUX_SLL: by the protocol field */
    if (off + 16 > end) return PO_ENOTIP;
    uint32_t proto = be16(f + off + 14);
    if (proto == 0x0004) proto = NEXT_LLC;      /* 802.2 LLC follows */
    return by_type(f, off + 16, end, proto, o);
  }
  case 276: {                                   /* LINUX_SLL2 */
    if (off + 20 > end) return PO_ENOTIP;
    uint32_t proto = be16(f + off);
    if (proto == 0x0004) proto = NEXT_LLC;
    return by_type(f, off + 20, end, proto, o);
  }
  case 9:                                       /* PPP, with or without ff 03 */
    if (off + 2 <= end && f[off] == 0xFF && f[off + 1] == 0x03) off += 2;
    return by_type(f, off, end, NEXT_PPP, o);
  case 50: case 166:                            /* PPP_HDLC, PPP_PPPD: PPP or Cisco HDLC */
    if (off + 1 > end) return PO_ENOTIP;
    if (f[off] == 0x0F || f[off] == 0x8F) {
      if (off + 4 > end) return PO_ENOTIP;
      return by_type(f, off + 4, end, be16(f + off + 2), o);
    }
    if (off + 2 <= end && f[off] == 0xFF && f[off + 1] == 0x03) off += 2;
    return by_type(f, off, end, NEXT_PPP, o);
  case 104:                                     /* C_HDLC: address, control, ethertype */
    if (off + 4 > end) return PO_ENOTIP;
    return by_type(f, off + 4, end, be16(f + off + 2), o);
  case 204:                                     /* PPP_WITH_DIR: direction byte */
    return link_at(9, f, off + 1, end, wire, o, depth + 1);
  case 205:                                     /* C_HDLC_WITH_DIR */
    return link_at(104, f, off + 1, end, wire, o, depth + 1);
  case 51:                                      /* PPP_ETHER: a PPPoE header */
    return by_type(f, off, end, ET_PPPOE, o);
  case 219:                                     /* MPLS label stack */
    return by_type(f, off, end, NEXT_MPLS, o);
  case 105:                                     /* IEEE802_11 */
    return ieee80211(f, off, end, 0, o);
  case 127:                                     /* IEEE802_11_RADIOTAP */
    if (off != 0) return PO_ENOTIP;
    return radiotap(f, end, wire, o);
  case 119:                                     /* IEEE802_11_PRISM (or AVS) */
  case 163: {                                   /* IEEE802_11_AVS */
    if (off + 8 > end) return PO_ENOTIP;
    uint32_t cookie = be32(f + off);
    if (cookie == 0x80211001 || cookie == 0x80211002) {
      uint32_t hl = be32(f + off + 4);
      if (hl < 8 || hl > end - off) return PO_ENOTIP;
      return ieee80211(f, off + hl, end, 0, o);
    }
    if (lt == 163) return PO_ENOTIP;
    return ieee80211(f, off + 144, end, 0, o);
  }
  case 192:                                     /* PPI */
    if (off != 0) return PO_ENOTIP;
    return ppi(f, end, wire, o, depth);
  case 239:                                     /* NFLOG */
    if (off != 0) return PO_ENOTIP;
    return nflog(f, end, o);
  case 226: {                                   /* IPNET (Solaris): 24-byte header, family */
    if (off + 24 > end) return PO_ENOTIP;
    if (f[off + 1] == 2) return ip_at(off + 24, end, ET_IP4, o);
    if (f[off + 1] == 26) return ip_at(off + 24, end, ET_IP6, o);
    return PO_ENOTIP;
  }
  case 242:                                     /* IPOIB: 40 address bytes, type, reserved */
    if (off + 44 > end) return PO_ENOTIP;
    return by_type(f, off + 44, end, be16(f + off + 40), o);
  case 107:                                     /* FRELAY */
    return frelay(f, off, end, o);
  case 7:                                       /* ARCNET_BSD */
    return arcnet(f, off, end, o, 0);
  case 129:                                     /* ARCNET_LINUX */
    return arcnet(f, off, end, o, 1);
  case 258: {                                   /* PKTAP (Apple): length, record type, DLT */
    if (off + 12 > end) return PO_ENOTIP;
    uint32_t hl = le32(f + off), rec = le32(f + off + 4), dlt = le32(f + off + 8);
    if (hl < 108 || hl > end - off || rec != 1 || dlt == 258) return PO_ENOTIP;
    return link_at(dlt, f, off + hl, end, wire, o, depth + 1);
  }
  case 10:                                      /* FDDI: frame control, addresses, LLC */
    if (off + 13 > end) return PO_ENOTIP;
    if (o->l.mac_off < 0) o->l.mac_off = (int32_t)(off + 1);
    return by_type(f, off + 13, end, NEXT_LLC, o);
  case 6: {                                     /* IEEE802 (token ring): AC, FC, addresses, RIF */
    if (off + 14 > end) return PO_ENOTIP;
    uint32_t hl = 14;
    if (f[off + 8] & 0x80) {                    /* source routing: a RIF follows */
      if (off + 15 > end) return PO_ENOTIP;
      hl += f[off + 14] & 0x1F;
    }
    if (o->l.mac_off < 0) o->l.mac_off = (int32_t)(off + 2);
    return by_type(f, off + hl, end, NEXT_LLC, o);
  }
  case 100:                                     /* ATM_RFC1483: LLC/SNAP */
    return by_type(f, off, end, NEXT_LLC, o);
  case 123:                                     /* SUNATM: flags, VPI, VCI; LLC when type 2 */
    if (off + 4 > end || (f[off] & 0x0F) != 2) return PO_ENOTIP;
    return by_type(f, off + 4, end, NEXT_LLC, o);
  case 122:                                     /* IP_OVER_FC: addresses, LLC/SNAP */
    if (off + 16 > end) return PO_ENOTIP;
    return by_type(f, off + 16, end, NEXT_LLC, o);
  case 138:                                     /* APPLE_IP_OVER_IEEE1394 */
    if (off + 18 > end) return PO_ENOTIP;
    return by_type(f, off + 18, end, be16(f + off + 16), o);
  case 8:                                       /* SLIP: 16-byte BPF SLIP header */
    if (off + 16 > end) return PO_ENOTIP;
    return guess_ip(f, off + 16, end, o);
  case 197:                                     /* ERF */
    return erf_record(f, off, end, o);
  case 143:                                     /* DOCSIS */
    return docsis(f, off, end, wire, o);
  case 240:                                     /* NETANALYZER: 4-byte header, Ethernet + FCS */
    if (off + 4 > end) return PO_ENOTIP;
    return by_type(f, off + 4, trim(end, wire, 4), NEXT_ETHER, o);
  case 241:                                     /* NETANALYZER_TRANSPARENT: + preamble, SFD */
    if (off + 12 > end) return PO_ENOTIP;
    return by_type(f, off + 12, trim(end, wire, 4), NEXT_ETHER, o);
  case 130: case 131: case 132: case 133: case 134: case 135: case 136: case 137:
  case 164: case 167: case 168: case 174: case 178: case 179: case 180: case 181:
  case 183: case 193: case 194: case 195: case 200: case 238: /* JUNIPER_* */
    return juniper(lt, f, off, end, o);
  default:
    return PO_ENOTIP;
  }
}

int po_link_decode(uint32_t linktype, const uint8_t *frame, uint32_t cap, uint32_t wire,
                   po_link *out)
{
  out->l3_off = 0;
  out->l3_cap = 0;
  out->ethertype = 0;
  out->vlan = 0xFFFF;
  out->mac_off = -1;
  if (frame == NULL) cap = 0;
  uint32_t fcs = (linktype >> 28) * 2;          /* FCS length: 16-bit words */
  uint32_t end = trim(cap, wire, fcs);
  walk o = { *out, cap >= wire };
  int rc = link_at(linktype & 0x03FFFFFF, frame, 0, end, wire, &o, 0);
  if (rc != PO_OK) return PO_ENOTIP;
  *out = o.l;
  return PO_OK;
}
