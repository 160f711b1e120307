/* flowkey.c - canonical bidirectional flow keys from decoded headers. */
#include "po.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int has_ports(uint8_t proto)
{
  return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t rd32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

/* Every packet's key is made on the reader thread: fixed-size compares and
 * copies (the byte order of memcmp), no library calls. */
void po_key_make(po_key *k, int *swapped, uint8_t version, uint8_t proto,
                 const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp)
{
  int c;
  *k = (po_key){ .version = version, .proto = proto };
  if (version == 4) {
    uint32_t s = rd32(src), d = rd32(dst);
    c = (s > d) - (s < d);
    int sw = c > 0 || (c == 0 && sp > dp);
    memcpy(k->a, sw ? dst : src, 4);
    memcpy(k->b, sw ? src : dst, 4);
    k->pa = sw ? dp : sp;
    k->pb = sw ? sp : dp;
    *swapped = sw;
    return;
  }
  uint64_t s0 = rd64(src), d0 = rd64(dst), s1 = rd64(src + 8), d1 = rd64(dst + 8);
  c = s0 != d0 ? (s0 > d0) - (s0 < d0) : (s1 > d1) - (s1 < d1);
  int sw = c > 0 || (c == 0 && sp > dp);
  memcpy(k->a, sw ? dst : src, 16);
  memcpy(k->b, sw ? src : dst, 16);
  k->pa = sw ? dp : sp;
  k->pb = sw ? sp : dp;
  *swapped = sw;
}

static const uint8_t *src_of(const po_hdr *h) { return h->p + (h->version == 4 ? 12 : 8); }
static const uint8_t *dst_of(const po_hdr *h) { return h->p + (h->version == 4 ? 16 : 24); }

/* Ports of h when its transport carries them and 4 bytes of it are in the
 * packet: inside the length the IP header claims and inside the capture
 * (Ethernet padding after a short packet is no transport header). */
static int ports_of(const po_hdr *h, uint16_t *sp, uint16_t *dp)
{
  if (h->frag || po_ip_end(h) < (uint32_t)h->hdr_len + 4) return 0;
  *sp = rd16(h->p + h->hdr_len);
  *dp = rd16(h->p + h->hdr_len + 2);
  return 1;
}

int po_key_uses_quote(const po_hdr *q)
{
  uint16_t sp, dp;
  return q != NULL && q->p != NULL && (!has_ports(q->proto) || ports_of(q, &sp, &dp));
}

int po_key_of(const po_hdr *h, const po_hdr *q, po_key *k, int *swapped)
{
  uint16_t sp = 0, dp = 0;
  if (po_key_uses_quote(q)) {
    /* An ICMP error joins the quoted flow, travelling opposite to the quote
     * (a quotation too short for its ports leaves it a plain ICMP packet). */
    if (has_ports(q->proto)) ports_of(q, &sp, &dp);
    po_key_make(k, swapped, q->version, q->proto, dst_of(q), src_of(q), dp, sp);
    return PO_OK;
  }
  /* A later fragment, of any protocol, has no transport header: its flow is
   * its first fragment's (its ports, an ICMP error's quoted flow, an IPv6
   * one's protocol when its Fragment header names another extension header:
   * the bytes after it are data).  Only the fragment cache knows it. */
  if (h->frag) return PO_EFRAG;
  if (has_ports(h->proto) && !ports_of(h, &sp, &dp)) return PO_ESHORT;
  po_key_make(k, swapped, h->version, h->proto, src_of(h), dst_of(h), sp, dp);
  return PO_OK;
}

int po_key_frag_first(const po_hdr *h, const po_hdr *q)
{
  int first = 0;
  uint32_t id;
  (void)q;
  return po_frag_info(h, &id, &first) && first;
}

void po_key_ahead(const po_hdr h[2], po_fkey *fk)
{
  int sw = 0;
  fk->rc = (int8_t)po_key_of(&h[0], &h[1], &fk->key, &sw);
  fk->sw = (uint8_t)sw;
  fk->hash = fk->rc == PO_OK ? po_key_hash(&fk->key) : 0;
  fk->frag_first = (uint8_t)(fk->rc == PO_OK && po_key_frag_first(&h[0], &h[1]));
}

uint32_t po_key_hash(const po_key *k)
{
  uint64_t w[5];
  memcpy(w, k, sizeof w);
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 5; i++) {
    x ^= w[i];
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 32;
  }
  return (uint32_t)(x ^ (x >> 29));
}

void po_key_format(const po_key *k, int swapped, char *buf, size_t len)
{
  char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
  int af = k->version == 4 ? AF_INET : AF_INET6;
  const uint8_t *s = swapped ? k->b : k->a, *d = swapped ? k->a : k->b;
  uint16_t sp = swapped ? k->pb : k->pa, dp = swapped ? k->pa : k->pb;
  inet_ntop(af, s, sa, sizeof sa);
  inet_ntop(af, d, da, sizeof da);
  if (has_ports(k->proto))
    snprintf(buf, len, k->version == 4 ? "%s:%u -> %s:%u proto %u" : "[%s]:%u -> [%s]:%u proto %u",
             sa, sp, da, dp, k->proto);
  else
    snprintf(buf, len, "%s -> %s proto %u", sa, da, k->proto);
}
