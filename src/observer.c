/* observer.c - flow table, packet clock and flow lifecycle; fills batches for Lua. */
#include "po.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ST_FREE = 0, ST_ACTIVE, ST_EXPIRING, ST_IGNORED, ST_WRITTEN };
enum { FRAG_CACHE_LOG2 = 14, MAX_TIMEOUT = 7 * 86400 };

/* One cache line per flow (the array is aligned to them): a lookup that finds
 * its flow touches one line, not two. */
typedef struct flow {
  po_key key;
  uint32_t hnext;          /* hash chain, or free list */
  uint32_t prev, next;     /* timer bin list */
  uint32_t deadline;       /* idle deadline (active, ignored) or emission deadline */
  uint32_t hash;           /* po_key_hash(&key): unlinking needs no rehashing */
  uint16_t gen;            /* bumped on every reuse of the slot */
  uint8_t state;
  uint8_t fwd_sw;          /* orientation of the first packet against the key */
} flow;

_Static_assert(sizeof(flow) == 64, "a flow slot is one cache line");

typedef struct bins { uint32_t *head, *tail; } bins;

struct po_observer {
  po_config cfg;
  uint32_t *emitq;          /* slots of the records written by the clock, in order (ST_WRITTEN:
                            * out of the table, kept until po_obs_emitted_clear) */
  uint32_t nemit, emitcap;
  int flushed;             /* emitq holds a flush's slots (the table is empty already) */
  flow *f;                 /* slots 1..cap; f[0] unused */
  uint32_t cap, live, free_head, next_unused;
  uint32_t used;           /* slots 1..used have been used (next_unused restarts at a flush) */
  uint32_t *bucket, nbucket;
  bins idle, expire;       /* timer wheels, one list per second */
  uint32_t wmask;
  uint32_t clock;
  int started;
  double latest;           /* the latest frame timestamp seen (-inf before the first) */
  po_pkt *batch;
  uint8_t *verdict;        /* per batch entry: a PO_VERDICT_* the chains gave it */
  unsigned n;
  po_frag_cache *frags;
  po_stats st;
};

void po_config_defaults(po_config *cfg)
{
  cfg->idle_timeout = 30;
  cfg->expiry_timeout = 5;
  cfg->max_flows = 4u << 20;
  cfg->batch_size = 256;
  cfg->aggregate = 0;
}

/* ---- timer wheels ------------------------------------------------------ */

static void bin_push(po_observer *o, bins *w, uint32_t s, uint32_t deadline)
{
  uint32_t b = deadline & o->wmask;
  flow *f = &o->f[s];
  f->deadline = deadline;
  f->next = 0;
  f->prev = w->tail[b];
  if (f->prev) o->f[f->prev].next = s; else w->head[b] = s;
  w->tail[b] = s;
}

static void bin_del(po_observer *o, bins *w, uint32_t s)
{
  flow *f = &o->f[s];
  uint32_t b = f->deadline & o->wmask;
  if (f->prev) o->f[f->prev].next = f->next; else w->head[b] = f->next;
  if (f->next) o->f[f->next].prev = f->prev; else w->tail[b] = f->prev;
  f->prev = f->next = 0;
}

static int bins_init(bins *w, uint32_t n)
{
  w->head = calloc(n, sizeof *w->head);
  w->tail = calloc(n, sizeof *w->tail);
  return w->head && w->tail ? PO_OK : PO_ENOMEM;
}

/* ---- hash table and slots ----------------------------------------------- */

static uint32_t lookup(const po_observer *o, const po_key *k, uint32_t h)
{
  for (uint32_t s = o->bucket[h & (o->nbucket - 1)]; s; s = o->f[s].hnext)
    if (memcmp(&o->f[s].key, k, sizeof *k) == 0) return s;
  return 0;
}

static int rehash(po_observer *o, uint32_t nb)
{
  uint32_t *b = calloc(nb, sizeof *b);
  if (b == NULL) return PO_ENOMEM;
  for (uint32_t s = 1; s < o->next_unused; s++) {
    flow *f = &o->f[s];
    if (f->state == ST_FREE || f->state == ST_WRITTEN) continue; /* not in the table */
    uint32_t i = f->hash & (nb - 1);
    f->hnext = b[i];
    b[i] = s;
  }
  free(o->bucket);
  o->bucket = b;
  o->nbucket = nb;
  return PO_OK;
}

/* Room for slots 0..n (0 unused), aligned to cache lines.  A slot is zeroed
 * when first used (see slot_alloc), so that unused room costs no memory. */
static flow *flows_new(uint32_t n)
{
  flow *f = aligned_alloc(64, ((size_t)n + 1) * sizeof(flow));
  if (f != NULL) memset(&f[0], 0, sizeof f[0]);
  return f;
}

static uint32_t slot_alloc(po_observer *o)
{
  uint32_t s = o->free_head;
  if (s) {
    o->free_head = o->f[s].hnext;
    return s;
  }
  if (o->next_unused > o->cap) {
    uint32_t ncap = o->cap * 2;
    /* max_flows live flows, and the slots of records written by the clock
     * that wait for the host (po_obs_emitted_clear) */
    uint64_t most = (uint64_t)o->cfg.max_flows + o->nemit;
    if (ncap > most) ncap = (uint32_t)(most < UINT32_MAX - 1 ? most : UINT32_MAX - 1);
    if (ncap <= o->cap) return 0;
    flow *nf = flows_new(ncap);
    if (nf == NULL) return 0;
    memcpy(nf, o->f, ((size_t)o->used + 1) * sizeof *nf);
    free(o->f);
    o->f = nf;
    o->cap = ncap;
  }
  s = o->next_unused++;
  if (s > o->used) { /* first use; a slot used before keeps its generation */
    memset(&o->f[s], 0, sizeof o->f[s]);
    o->used = s;
  }
  return s;
}

/* Out of the hash table: a packet of the same key now makes a new flow. */
static void slot_unlink(po_observer *o, uint32_t s)
{
  flow *f = &o->f[s];
  uint32_t *pp = &o->bucket[f->hash & (o->nbucket - 1)];
  while (*pp != s) pp = &o->f[*pp].hnext;
  *pp = f->hnext;
  o->live--;
}

static void slot_release(po_observer *o, uint32_t s)
{
  flow *f = &o->f[s];
  f->state = ST_FREE;
  f->hnext = o->free_head;
  o->free_head = s;
}

static void slot_free(po_observer *o, uint32_t s)
{
  slot_unlink(o, s);
  slot_release(o, s);
}

/* Queue slot s on the list of records written by the clock; 0, or PO_ENOMEM. */
static int emit_push(po_observer *o, uint32_t s)
{
  if (o->nemit == o->emitcap) {
    uint32_t nc = o->emitcap ? o->emitcap * 2 : 1024;
    uint32_t *q = realloc(o->emitq, (size_t)nc * sizeof *q);
    if (q == NULL) return PO_ENOMEM;
    o->emitq = q;
    o->emitcap = nc;
  }
  o->emitq[o->nemit++] = s;
  return PO_OK;
}

/* ---- lifecycle ------------------------------------------------------------ */

/* Whole seconds of the packet clock for a time t (already rounded up).  The clock is
 * a uint32_t and a capture's timestamps can be anything (NaN, negative, past 2^32 s:
 * tv_sec 0xffffffff plus microseconds); converting those is undefined.  Clamp below
 * the top of the range so that a deadline (clock + a timeout) and the wheel loops
 * (b <= last) never wrap around. */
#define CLOCK_MAX (UINT32_MAX - 2u * MAX_TIMEOUT - 16u)
static uint32_t clock_of(double t)
{
  if (!(t > 0)) return 0;
  if (t >= (double)CLOCK_MAX) return CLOCK_MAX;
  return (uint32_t)t;
}

static uint32_t later_than_clock(const po_observer *o, double d)
{
  double min = (double)o->clock + 1;
  return clock_of(d < min ? min : d);
}

static void write_now(po_observer *o, uint32_t s)
{
  /* the slot stays taken (its key, for messages) until the record is written */
  slot_unlink(o, s);
  if (emit_push(o, s) != PO_OK) { /* no memory for the list: the record is lost */
    slot_release(o, s);
    o->st.shorts++;
    return;
  }
  o->f[s].state = ST_WRITTEN;
  o->st.records++;
}

/* Add a batch entry asking Lua to hand the record of slot s to the writer. */
static void emit_in_batch(po_observer *o, uint32_t s)
{
  o->verdict[o->n] = PO_VERDICT_NONE;
  po_pkt *e = &o->batch[o->n++];
  memset(e, 0, sizeof *e);
  e->op = PO_OP_EMIT;
  e->slot = s;
  e->gen = o->f[s].gen;
  o->st.records++;
  slot_free(o, s);
}

/* Make room for one flow: the one idle longest goes first (an ignored key is
 * simply forgotten); with only expiring flows, the one due first. */
static void evict_one(po_observer *o)
{
  for (uint32_t d = 1; d <= o->wmask + 1; d++) {
    uint32_t s = o->idle.head[(o->clock + d) & o->wmask];
    if (!s) continue;
    bin_del(o, &o->idle, s);
    if (o->f[s].state == ST_IGNORED) {
      slot_free(o, s);
      return;
    }
    o->st.evicted++;
    emit_in_batch(o, s);
    return;
  }
  for (uint32_t d = 1; d <= o->wmask + 1; d++) {
    uint32_t s = o->expire.head[(o->clock + d) & o->wmask];
    if (!s) continue;
    bin_del(o, &o->expire, s);
    o->st.evicted++;
    emit_in_batch(o, s);
    return;
  }
}

static void expire_flow(po_observer *o, uint32_t s, uint32_t deadline)
{
  o->f[s].state = ST_EXPIRING;
  bin_push(o, &o->expire, s, deadline);
}

void po_obs_advance(po_observer *o, double ts)
{
  uint32_t now = clock_of(ceil(ts));
  if (!o->started) {
    o->clock = now;
    o->started = 1;
    return;
  }
  if (now <= o->clock) return;
  uint32_t c0 = o->clock, last = now;
  uint32_t due = c0 + o->cfg.expiry_timeout;
  uint32_t late = 0, late_tail = 0;
  if (last - c0 > o->wmask + 1) last = c0 + o->wmask + 1; /* nothing lies beyond */
  for (uint32_t b = c0 + 1; b <= last; b++) {
    uint32_t i = b & o->wmask, s;
    while ((s = o->idle.head[i]) != 0) {
      bin_del(o, &o->idle, s);
      if (o->f[s].state == ST_IGNORED) {
        slot_free(o, s);
      } else if (due >= b) {
        expire_flow(o, s, due);
      } else { /* emission deadline already passed: written after this advance */
        o->f[s].state = ST_EXPIRING;
        o->f[s].next = 0;
        if (late_tail) o->f[late_tail].next = s; else late = s;
        late_tail = s;
      }
    }
    while ((s = o->expire.head[i]) != 0) {
      bin_del(o, &o->expire, s);
      write_now(o, s);
    }
  }
  while (late) {
    uint32_t s = late;
    late = o->f[s].next;
    write_now(o, s);
  }
  o->clock = now;
}

/* Every flow goes, so instead of unlinking each one from its hash chain (a
 * cache miss or more per flow: a quarter of a second for a million) the
 * lists, the buckets and the slots are emptied at once when all are written.
 * The slots go on the list of records written (po_obs_emitted) with their
 * keys (for messages); no flow may be added before the list is cleared. */
void po_obs_flush(po_observer *o)
{
  for (int pass = 0; pass < 2; pass++) {
    bins *w = pass == 0 ? &o->expire : &o->idle;
    for (uint32_t d = 1; d <= o->wmask + 1; d++) {
      uint32_t i = (o->clock + d) & o->wmask;
      for (uint32_t s = w->head[i]; s != 0;) {
        flow *f = &o->f[s];
        uint32_t next = f->next;
        if (f->state != ST_IGNORED) {
          if (emit_push(o, s) == PO_OK) o->st.records++;
          else o->st.shorts++; /* no memory for the list: the record is lost */
        }
        f->state = ST_FREE;
        f->prev = f->next = 0;
        s = next;
      }
      w->head[i] = w->tail[i] = 0;
    }
  }
  memset(o->bucket, 0, (size_t)o->nbucket * sizeof *o->bucket);
  o->live = 0;
  o->free_head = 0;
  o->next_unused = 1; /* slots keep their generation: entries made before stay stale */
  o->flushed = 1;
}

static flow *entry_flow(po_observer *o, unsigned i, int state)
{
  if (i >= o->n) return NULL;
  const po_pkt *e = &o->batch[i];
  if (e->slot == 0 || e->slot >= o->next_unused) return NULL;
  flow *f = &o->f[e->slot];
  return f->gen == e->gen && f->state == state ? f : NULL;
}

/* A chain said the flow of entry i is complete: written after the expiry timeout. */
static void complete(po_observer *o, unsigned i)
{
  if (entry_flow(o, i, ST_ACTIVE) == NULL) return; /* expiring already, or gone */
  uint32_t s = o->batch[i].slot;
  bin_del(o, &o->idle, s);
  expire_flow(o, s, later_than_clock(o, (double)o->clock + o->cfg.expiry_timeout));
}

/* new_flow said to ignore the flow of entry i: its packets are dropped, no record. */
static void ignore(po_observer *o, unsigned i)
{
  if (entry_flow(o, i, ST_ACTIVE) == NULL) return;
  o->f[o->batch[i].slot].state = ST_IGNORED;
  o->st.ignored++;
}

/* In entry order, as the chains gave them: a flow completed by one entry is
 * expiring at the next, which then changes nothing (nor does an entry of a
 * slot reused since).  Applying the verdicts twice changes nothing either. */
void po_obs_apply_verdicts(po_observer *o)
{
  for (unsigned i = 0; i < o->n; i++) {
    uint8_t v = o->verdict[i];
    if (v == PO_VERDICT_COMPLETE) complete(o, i);
    else if (v == PO_VERDICT_IGNORE) ignore(o, i);
  }
}

/* ---- packets ---------------------------------------------------------------- */

int po_obs_must_cut(const po_observer *o, double ts)
{
  /* ceil(ts) > clock, clock a whole number: the same as ts > clock (NaN: false), without a libm call per packet */
  return o->n > 0 && o->started && ts > (double)o->clock;
}

/* The fragment cache, made when a packet first needs it (a worker's observer,
 * which takes packets keyed already, never does), or NULL without memory. */
static po_frag_cache *frag_cache(po_observer *o)
{
  if (o->frags == NULL) o->frags = po_frag_new(FRAG_CACHE_LOG2);
  return o->frags;
}

/* Key of a decoded packet (and its hash), matching later fragments through
 * their first.  fk: the key worked out ahead, or NULL. */
static int key_packet(po_observer *o, po_hdr *h, const po_hdr *q, const po_fkey *fk,
                      po_key *k, int *sw, uint32_t *hash)
{
  if (o->cfg.aggregate) {
    memset(k, 0, sizeof *k);
    k->version = h->version;
    *sw = 0;
    *hash = po_key_hash(k);
    return PO_OK;
  }
  uint32_t id;
  int first;
  int rc, frag_first;
  if (fk != NULL) {
    rc = fk->rc;
    if (rc == PO_OK) {
      *k = fk->key;
      *sw = fk->sw;
      *hash = fk->hash;
    }
    frag_first = fk->frag_first; /* worked out with the key: no need to read the packet here */
  } else {
    rc = po_key_of(h, q, k, sw);
    if (rc == PO_OK) *hash = po_key_hash(k);
    frag_first = rc == PO_OK && po_key_frag_first(h, q);
  }
  if (rc == PO_OK) {
    /* The key remembered is the one just made (ports_of's bounds, an ICMP
     * error's quoted flow), never bytes read again here. */
    if (frag_first && po_frag_info(h, &id, &first) && frag_cache(o) != NULL)
      po_frag_put(o->frags, h, id, k, *sw, o->clock);
    return PO_OK;
  }
  if (rc != PO_EFRAG) return rc;
  uint8_t proto;
  if (!po_frag_info(h, &id, &first) || frag_cache(o) == NULL ||
      !po_frag_get(o->frags, h, id, o->clock, o->cfg.idle_timeout, k, sw, &proto))
    return PO_EFRAG;
  /* An IPv6 later fragment's next header may name an extension header whose
   * rest is in the first fragment: the packet (this batch entry's copy of its
   * header, as the chains see it) has its first fragment's protocol. */
  h->proto = proto;
  *hash = po_key_hash(k);
  return PO_OK;
}

/* Decode a frame's IP packet: PO_OK, or why it is skipped. */
int po_obs_decode(uint16_t ethertype, const uint8_t *l3, uint32_t cap, po_hdr h[2])
{
  if (ethertype != 0x0800 && ethertype != 0x86dd) {
    memset(h, 0, 2 * sizeof *h);
    return PO_ENOTIP;
  }
  return po_decode(l3, cap, &h[0], &h[1]);
}

int po_obs_packet(po_observer *o, double ts, uint16_t ethertype, const uint8_t *l3, uint32_t cap)
{
  po_pkt *e = &o->batch[o->n];
  int rc = po_obs_decode(ethertype, l3, cap, e->h);
  return po_obs_decoded(o, ts, rc, NULL, NULL);
}

/* What every frame does, IP or not: it is counted and moves the clock; a
 * frame older than one before it is counted as reordered.  PO_OK for a
 * decoded IP packet (*late: older than an earlier frame), else why it is
 * skipped (counted). */
static int frame_in(po_observer *o, double ts, int decoded, int *late)
{
  o->st.packets++;
  /* Time passes whatever the frame: a non-IP or malformed one moves the
   * clock too (po_obs_must_cut cut the batch before it when it had to). */
  if (o->n == 0) po_obs_advance(o, ts);
  /* The clock never runs backwards: a frame older than one before it is
   * counted, and never moves a deadline or pkt_last back (NaN: neither). */
  *late = ts < o->latest;
  if (*late) o->st.reordered++;
  else if (ts > o->latest) o->latest = ts;
  if (decoded == PO_ENOTIP) { o->st.non_ip++; return decoded; }
  if (decoded != PO_OK) { o->st.shorts++; return decoded; }
  return PO_OK;
}

/* A keyed packet (its headers in the batch's next entry) into the flow table
 * and the batch. */
static int flow_in(po_observer *o, double ts, int late, const po_key *kp, int sw, uint32_t hash)
{
  po_pkt *e = &o->batch[o->n];
  po_key k = *kp;
  uint32_t s = lookup(o, &k, hash);
  flow *f;
  if (s == 0) {
    if (o->live >= o->cfg.max_flows) {
      po_pkt decoded = *e; /* the eviction's entry goes before this packet */
      evict_one(o);
      e = &o->batch[o->n];
      *e = decoded;
    }
    /* grow the buckets before taking a slot: rehash() must not see a half-made flow */
    if (o->live + 1 > o->nbucket && rehash(o, o->nbucket * 2) != PO_OK) {
      o->st.shorts++;
      return PO_ENOMEM;
    }
    s = slot_alloc(o);
    if (s == 0) { o->st.shorts++; return PO_ENOMEM; }
    f = &o->f[s];
    f->key = k;
    f->hash = hash;
    f->state = ST_ACTIVE;
    /* An ICMP error that opens a flow travels opposite to the packet it
     * quotes: that packet's direction is the flow's forward direction. */
    int by_quote = !o->cfg.aggregate && po_key_uses_quote(&e->h[1]);
    f->fwd_sw = (uint8_t)(by_quote ? !sw : sw);
    f->gen++;
    f->prev = f->next = 0;
    f->hnext = o->bucket[hash & (o->nbucket - 1)];
    o->bucket[hash & (o->nbucket - 1)] = s;
    o->live++;
    o->st.flows++;
    e->op = by_quote ? PO_OP_NEW_QUOTE : PO_OP_NEW;
    e->rev = (uint8_t)by_quote;
  } else {
    f = &o->f[s];
    e->op = late ? PO_OP_PKT_LATE : PO_OP_PKT;
    e->rev = (uint8_t)(sw != f->fwd_sw);
  }
  if (f->state != ST_EXPIRING) {
    uint32_t d = later_than_clock(o, ceil(ts + o->cfg.idle_timeout));
    if (e->op == PO_OP_NEW || e->op == PO_OP_NEW_QUOTE) bin_push(o, &o->idle, s, d);
    else if (d > f->deadline) { bin_del(o, &o->idle, s); bin_push(o, &o->idle, s, d); } /* never earlier */
    if (f->state == ST_IGNORED) return PO_OK; /* dropped silently */
  }
  e->ts = ts;
  e->slot = s;
  e->gen = f->gen;
  o->verdict[o->n++] = PO_VERDICT_NONE;
  return PO_OK;
}

int po_obs_decoded(po_observer *o, double ts, int decoded, const po_hdr h[2], const po_fkey *fk)
{
  int late;
  int rc = frame_in(o, ts, decoded, &late);
  if (rc != PO_OK) return rc;
  po_pkt *e = &o->batch[o->n];
  if (h != NULL) memcpy(e->h, h, sizeof e->h);
  po_key k;
  int sw;
  uint32_t hash;
  rc = key_packet(o, &e->h[0], &e->h[1], fk, &k, &sw, &hash);
  if (rc == PO_EFRAG) { o->st.fragments++; return rc; }
  if (rc != PO_OK) { o->st.shorts++; return rc; }
  return flow_in(o, ts, late, &k, sw, hash);
}

int po_obs_front(po_observer *o, double ts, int decoded, po_hdr h[2], const po_fkey *ahead,
                 po_fkey *fk, int *late)
{
  int rc = frame_in(o, ts, decoded, late);
  if (rc != PO_OK) return rc;
  int sw = 0;
  rc = key_packet(o, &h[0], &h[1], ahead, &fk->key, &sw, &fk->hash);
  if (rc == PO_EFRAG) { o->st.fragments++; return rc; }
  if (rc != PO_OK) { o->st.shorts++; return rc; }
  fk->rc = PO_OK;
  fk->sw = (uint8_t)sw;
  fk->frag_first = 0;
  return PO_OK;
}

int po_obs_flow(po_observer *o, double ts, int late, const po_hdr h[2], const po_fkey *fk)
{
  memcpy(o->batch[o->n].h, h, sizeof o->batch[o->n].h);
  return flow_in(o, ts, late, &fk->key, fk->sw, fk->hash);
}

uint32_t po_obs_clock(const po_observer *o) { return o->started ? o->clock : 0; }

/* ---- batches and accessors ------------------------------------------------------ */

po_pkt *po_obs_batch(po_observer *o, unsigned *n) { *n = o->n; return o->batch; }
uint8_t *po_obs_verdicts(po_observer *o) { return o->verdict; }
int po_obs_batch_full(const po_observer *o) { return o->n >= o->cfg.batch_size; }
void po_obs_batch_reset(po_observer *o) { o->n = 0; }
po_stats *po_obs_stats(po_observer *o) { return &o->st; }
uint32_t po_obs_live(const po_observer *o) { return o->live; }

void po_obs_describe(const po_observer *o, uint32_t slot, char *buf, size_t len)
{
  if (slot == 0 || slot > o->used) { buf[0] = 0; return; } /* a key stays until its slot is used again */
  po_key_format(&o->f[slot].key, o->f[slot].fwd_sw, buf, len);
}

const uint32_t *po_obs_emitted(const po_observer *o, unsigned *n)
{
  *n = o->nemit;
  return o->emitq;
}

void po_obs_emitted_clear(po_observer *o)
{
  if (!o->flushed)
    for (uint32_t i = 0; i < o->nemit; i++) slot_release(o, o->emitq[i]);
  o->nemit = 0;
  o->flushed = 0;
}

po_observer *po_obs_new(const po_config *cfg)
{
  po_observer *o = calloc(1, sizeof *o);
  if (o == NULL) return NULL;
  o->cfg = *cfg;
  if (o->cfg.idle_timeout > MAX_TIMEOUT) o->cfg.idle_timeout = MAX_TIMEOUT;
  if (o->cfg.expiry_timeout > MAX_TIMEOUT) o->cfg.expiry_timeout = MAX_TIMEOUT;
  if (o->cfg.max_flows == 0) o->cfg.max_flows = 1;
  if (o->cfg.batch_size == 0) o->cfg.batch_size = 256;
  uint32_t span = (o->cfg.idle_timeout > o->cfg.expiry_timeout ? o->cfg.idle_timeout
                                                                : o->cfg.expiry_timeout) + 3;
  uint32_t w = 8;
  while (w < span) w <<= 1;
  o->wmask = w - 1;
  o->cap = o->cfg.max_flows < 1024 ? o->cfg.max_flows : 1024;
  o->next_unused = 1;
  o->latest = -INFINITY;
  o->nbucket = 1024;
  o->f = flows_new(o->cap);
  o->bucket = calloc(o->nbucket, sizeof *o->bucket);
  /* one spare entry: an eviction may add its entry before the packet that caused it */
  o->batch = calloc((size_t)o->cfg.batch_size + 2, sizeof *o->batch);
  o->verdict = calloc((size_t)o->cfg.batch_size + 2, sizeof *o->verdict);
  if (!o->f || !o->bucket || !o->batch || !o->verdict || bins_init(&o->idle, w) != PO_OK ||
      bins_init(&o->expire, w) != PO_OK) {
    po_obs_free(o);
    return NULL;
  }
  return o;
}

void po_obs_free(po_observer *o)
{
  if (o == NULL) return;
  free(o->f);
  free(o->bucket);
  free(o->batch);
  free(o->verdict);
  free(o->emitq);
  free(o->idle.head);
  free(o->idle.tail);
  free(o->expire.head);
  free(o->expire.tail);
  po_frag_free(o->frags);
  free(o);
}
