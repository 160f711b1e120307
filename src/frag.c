/* frag.c - bounded cache that maps a fragmented packet's id to its first fragment's flow key. */
#include "po.h"

#include <stdlib.h>
#include <string.h>

typedef struct frag_entry {
  uint8_t src[16], dst[16];
  po_key key;              /* the first fragment's flow (an ICMP error's: the quoted one) */
  uint32_t id, seen;
  uint8_t proto, version, sw, used;
} frag_entry;

struct po_frag_cache {
  frag_entry *e;
  uint32_t mask;
};

po_frag_cache *po_frag_new(unsigned size_log2)
{
  po_frag_cache *fc = calloc(1, sizeof *fc);
  if (fc == NULL) return NULL;
  fc->e = calloc((size_t)1 << size_log2, sizeof *fc->e);
  if (fc->e == NULL) { free(fc); return NULL; }
  fc->mask = (1u << size_log2) - 1;
  return fc;
}

void po_frag_free(po_frag_cache *fc)
{
  if (fc == NULL) return;
  free(fc->e);
  free(fc);
}

static void ident(const po_hdr *h, uint8_t src[16], uint8_t dst[16])
{
  size_t alen = h->version == 4 ? 4 : 16, off = h->version == 4 ? 12 : 8;
  memset(src, 0, 16);
  memset(dst, 0, 16);
  memcpy(src, h->p + off, alen);
  memcpy(dst, h->p + off + alen, alen);
}

/* A datagram is identified by (addresses, protocol, id) in IPv4 and by
 * (addresses, id) in IPv6, where only the first fragment is sure to name the
 * protocol (RFC 8200 4.5): a later one's Fragment header may name an
 * extension header instead. */
static uint8_t ident_proto(const po_hdr *h) { return h->version == 4 ? h->proto : 0; }

static frag_entry *slot_of(po_frag_cache *fc, const uint8_t *src, const uint8_t *dst,
                           uint32_t id, uint8_t proto)
{
  uint32_t x = id * 0x9e3779b1u ^ proto;
  for (int i = 0; i < 16; i++) x = (x ^ src[i] ^ (uint32_t)dst[i] << 8) * 0x01000193u;
  return &fc->e[(x ^ x >> 15) & fc->mask];
}

void po_frag_put(po_frag_cache *fc, const po_hdr *h, uint32_t id, const po_key *k, int sw,
                 uint32_t now)
{
  uint8_t src[16], dst[16];
  ident(h, src, dst);
  frag_entry *e = slot_of(fc, src, dst, id, ident_proto(h));
  memcpy(e->src, src, 16);
  memcpy(e->dst, dst, 16);
  e->id = id;
  e->proto = h->proto;
  e->version = h->version;
  e->key = *k;
  e->sw = (uint8_t)sw;
  e->seen = now;
  e->used = 1;
}

int po_frag_get(po_frag_cache *fc, const po_hdr *h, uint32_t id, uint32_t now,
                uint32_t max_age, po_key *k, int *sw, uint8_t *proto)
{
  uint8_t src[16], dst[16];
  ident(h, src, dst);
  frag_entry *e = slot_of(fc, src, dst, id, ident_proto(h));
  if (!e->used || e->id != id || e->version != h->version ||
      (h->version == 4 && e->proto != h->proto) || memcmp(e->src, src, 16) != 0 ||
      memcmp(e->dst, dst, 16) != 0 || now - e->seen > max_age)
    return 0;
  *k = e->key;
  *sw = e->sw;
  *proto = e->proto;
  return 1;
}
