/* pool.c - N worker threads behind one dispatcher: packets sharded by flow, rounds, one clock. */
#include "po.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dispatcher (a regular file's reader thread, else the loop thread: one
 * thread at a time) does what every frame does on a front
 * observer that holds no flows: counts it, moves the packet clock, keys it
 * (later fragments through the front's cache, ICMP errors by their
 * quotation).  A keyed packet goes, copied, to the worker chosen by its key's
 * hash; each worker has its own observer (flows, timers), LuaJIT state and
 * stage.
 *
 * The packets are handed over in rounds: a round is one slab per worker, all
 * pushed at once.  A round ends when the packet clock moves (the next round
 * starts by moving every worker's clock: a worker that sees no packets still
 * ages and writes its flows on time), when a worker's slab is full, or when
 * the loop asks (live: after each read, and every second).  A worker closes
 * its round in its stage when it has done its slab; the writer thread writes
 * round by round, worker by worker.  Everything here depends only on the
 * packets and N: the output is the same from run to run. */
enum { SLABS = 4, SLAB_PKTS = 2048, SLAB_BYTES = 8 << 20, SLAB_CHUNK = 256 * 1024 };

typedef struct wpkt {
  po_hdr h[2];
  double ts;
  po_fkey fk;
  po_linkinfo link;
  int late;
} wpkt;

typedef struct bchunk { struct bchunk *next; size_t used, size; _Alignas(16) uint8_t data[]; } bchunk;

typedef struct slab {
  wpkt *pk;
  unsigned n;
  size_t nbytes;             /* bytes copied: a slab of large frames ends the round early */
  bchunk *bytes, *cur;       /* copies of the packets' bytes */
  double advance;            /* move the clock here first (has_advance) */
  int has_advance;
  int flush;                 /* the writer flushes the sink after this round */
  int end;                   /* the run ends: every flow is written */
  int reload;                /* load the chain scripts again first */
  int drop;                  /* the run is dropped: forget every flow, write nothing */
} slab;

typedef struct worker {
  po_pool *pool;
  unsigned index;
  po_host *host;
  po_observer *obs;
  pthread_t thread;
  int started;
  slab slabs[SLABS];
  uint64_t pushed, taken;    /* slabs handed over / done (under mu) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  po_stats snap;             /* the observer's counters after the last slab (under mu) */
} worker;

struct po_pool {
  unsigned n;
  po_observer *front;        /* the frame-level half: counters, clock, fragments */
  worker *w;
  int open;                  /* a round has something to hand over */
  int started;               /* the clock has been set by a frame */
  uint32_t clock;            /* the front's clock at the last round cut */
  atomic_int failed;         /* --strict: a worker's chains failed */
  pthread_mutex_t snap_mu;   /* front_snap: the dispatcher may be another thread than the reader of counters */
  po_stats front_snap;       /* the front's counters at the last round handed over */
  po_pool_setup set;
  pthread_mutex_t diag_mu;   /* workers' messages: one at a time, each once */
  char **seen;
  size_t nseen;
};

/* ---- messages ---------------------------------------------------------------- */

enum { MAX_SEEN = 10000 };

/* A worker's message: the same chain error from several workers is printed
 * once (the flow named is the first worker's). */
static void pool_diag(void *ud, const char *msg)
{
  po_pool *p = ud;
  size_t cut = strlen(msg);
  const char *flow = strstr(msg, " (flow ");
  if (flow != NULL) cut = (size_t)(flow - msg);
  pthread_mutex_lock(&p->diag_mu);
  int dup = 0;
  for (size_t i = 0; i < p->nseen && !dup; i++)
    dup = strncmp(p->seen[i], msg, cut) == 0 && p->seen[i][cut] == 0;
  if (!dup && p->nseen < MAX_SEEN) {
    char *c = malloc(cut + 1);
    char **s = realloc(p->seen, (p->nseen + 1) * sizeof *s);
    if (s != NULL) p->seen = s;
    if (c != NULL && s != NULL) {
      memcpy(c, msg, cut);
      c[cut] = 0;
      p->seen[p->nseen++] = c;
    } else {
      free(c);
    }
  }
  if (!dup && p->set.diag) p->set.diag(p->set.ud, msg);
  pthread_mutex_unlock(&p->diag_mu);
}

/* ---- the worker thread ---------------------------------------------------------- */

static void slab_reset(slab *s)
{
  s->n = 0;
  s->nbytes = 0;
  for (bchunk *c = s->bytes; c; c = c->next) c->used = 0;
  s->cur = s->bytes;
  s->has_advance = s->flush = s->end = s->reload = s->drop = 0;
}

static void run_slab(worker *wk, const slab *s)
{
  po_pool *p = wk->pool;
  if (s->drop) {
    po_host_reset(wk->host);
    po_host_round(wk->host, 0);
    return;
  }
  if (s->reload) {
    char err[1024];
    if (po_host_reload(wk->host, p->set.scripts, p->set.nscripts, err, sizeof err) != PO_OK)
      pool_diag(p, err);
  }
  if (s->has_advance) po_obs_advance(wk->obs, s->advance);
  for (unsigned i = 0; i < s->n; i++) {
    const wpkt *k = &s->pk[i];
    unsigned n0, n;
    po_obs_batch(wk->obs, &n0);
    po_obs_flow(wk->obs, k->ts, k->late, k->h, &k->fk);
    po_obs_batch(wk->obs, &n);
    if (n > n0) po_link_batch_set(n0, n, &k->link);
    if (po_obs_batch_full(wk->obs)) po_host_run_batch(wk->host);
  }
  po_host_run_batch(wk->host); /* also writes what the advance emitted */
  if (p->set.strict && po_host_failed(wk->host)) atomic_store(&p->failed, 1);
  if (s->end) {
    po_obs_flush(wk->obs);
    po_host_flush(wk->host);
  }
  po_host_round(wk->host, s->flush);
}

static void *worker_main(void *arg)
{
  worker *wk = arg;
  char name[16];
  snprintf(name, sizeof name, "pathobs-w%u", wk->index + 1);
  pthread_setname_np(pthread_self(), name); /* top -H, gdb */
  po_link_batch_reserve(wk->pool->set.cfg.batch_size + 2);
  for (;;) {
    pthread_mutex_lock(&wk->mu);
    if (wk->taken == wk->pushed) {
      pthread_mutex_unlock(&wk->mu);
      po_host_submit(wk->host); /* the writer must not wait for a page while we wait */
      pthread_mutex_lock(&wk->mu);
      while (wk->taken == wk->pushed) pthread_cond_wait(&wk->cv, &wk->mu);
    }
    slab *s = &wk->slabs[wk->taken % SLABS];
    pthread_mutex_unlock(&wk->mu);
    run_slab(wk, s);
    int end = s->end;
    slab_reset(s);
    pthread_mutex_lock(&wk->mu);
    wk->snap = *po_obs_stats(wk->obs);
    wk->taken++;
    pthread_cond_broadcast(&wk->cv);
    pthread_mutex_unlock(&wk->mu);
    if (end) break;
  }
  po_host_submit(wk->host);
  po_link_batch_free();
  return NULL;
}

/* ---- the dispatcher ---------------------------------------------------------------- */

static slab *filling(worker *wk) { return &wk->slabs[wk->pushed % SLABS]; }

/* Hand every worker its slab of the round (empty ones too: each closes the
 * round in its stage), waiting for room. */
static void push_round(po_pool *p)
{
  pthread_mutex_lock(&p->snap_mu);
  p->front_snap = *po_obs_stats(p->front);
  pthread_mutex_unlock(&p->snap_mu);
  for (unsigned i = 0; i < p->n; i++) {
    worker *wk = &p->w[i];
    pthread_mutex_lock(&wk->mu);
    wk->pushed++;
    pthread_cond_broadcast(&wk->cv);
    while (wk->pushed - wk->taken >= SLABS) pthread_cond_wait(&wk->cv, &wk->mu);
    pthread_mutex_unlock(&wk->mu);
  }
  p->open = 0;
}

void po_pool_cut(po_pool *p, int flush)
{
  if (!p->open && !flush) return;
  if (flush)
    for (unsigned i = 0; i < p->n; i++) filling(&p->w[i])->flush = 1;
  push_round(p);
}

/* Every worker's clock to t, first thing in the next round. */
static void advance_all(po_pool *p, double t)
{
  for (unsigned i = 0; i < p->n; i++) {
    slab *s = filling(&p->w[i]);
    s->advance = t;
    s->has_advance = 1;
  }
  p->open = 1;
}

static const uint8_t *keep_bytes(slab *s, const uint8_t *b, uint32_t n)
{
  bchunk *c = s->cur;
  while (c != NULL && c->size - c->used < n) c = c->next;
  if (c == NULL) {
    size_t size = n > SLAB_CHUNK ? n : SLAB_CHUNK;
    c = malloc(sizeof *c + size);
    if (c == NULL) return NULL;
    c->used = 0;
    c->size = size;
    c->next = s->bytes;
    s->bytes = c;
  }
  s->cur = c;
  s->nbytes += n;
  uint8_t *d = c->data + c->used;
  memcpy(d, b, n);
  c->used += (n + 15) & ~(size_t)15;
  if (c->used > c->size) c->used = c->size;
  return d;
}

/* Which worker a flow goes to: the high bits of its hash multiplied, so that
 * the workers' own tables (indexed by the low bits) stay evenly filled. */
static unsigned worker_of(const po_pool *p, uint32_t hash)
{
  uint32_t x = hash * 0x9E3779B1u;
  return (unsigned)(((uint64_t)x * p->n) >> 32);
}

int po_pool_frame(po_pool *p, double ts, int decoded, po_hdr h[2], const po_fkey *ahead,
                  const po_linkinfo *link)
{
  uint32_t c0 = po_obs_clock(p->front);
  int late;
  po_fkey fk;
  int rc = po_obs_front(p->front, ts, decoded, h, ahead, &fk, &late);
  uint32_t c1 = po_obs_clock(p->front);
  if (!p->started || c1 != c0) { /* the clock moved: a new round moves every worker's */
    if (p->open) push_round(p);
    advance_all(p, ts);
    p->started = 1;
  }
  if (rc != PO_OK) return rc;
  worker *wk = &p->w[worker_of(p, fk.hash)];
  slab *s = filling(wk);
  wpkt *k = &s->pk[s->n];
  memcpy(k->h, h, sizeof k->h);
  const uint8_t *bytes = keep_bytes(s, h[0].p, h[0].cap);
  if (bytes == NULL && h[0].cap > 0) return PO_ENOMEM;
  k->h[0].p = bytes;
  if (h[1].p != NULL) k->h[1].p = bytes + (h[1].p - h[0].p);
  k->ts = ts;
  k->fk = fk;
  k->late = late;
  k->link = link != NULL ? *link : (po_linkinfo){ .vlan = 0xFFFF };
  s->n++;
  p->open = 1;
  if (s->n >= SLAB_PKTS || s->nbytes >= SLAB_BYTES) push_round(p);
  return PO_OK;
}

void po_pool_tick(po_pool *p, double now)
{
  uint32_t c0 = po_obs_clock(p->front);
  po_obs_advance(p->front, now);
  if (po_obs_clock(p->front) != c0 || !p->started) {
    if (p->open) push_round(p);
    advance_all(p, now);
    p->started = 1;
  }
  po_pool_cut(p, 1);
}

void po_pool_reload(po_pool *p)
{
  if (p->open) push_round(p);
  for (unsigned i = 0; i < p->n; i++) filling(&p->w[i])->reload = 1;
  p->open = 1;
  push_round(p);
}

/* The last round: every worker writes its flows (or, drop, forgets them) and ends. */
static void last_round(po_pool *p, int drop)
{
  if (p->open && !drop) push_round(p);
  for (unsigned i = 0; i < p->n; i++) {
    slab *s = filling(&p->w[i]);
    if (drop) slab_reset(s);
    s->end = 1;
    s->drop = drop;
  }
  push_round(p);
  for (unsigned i = 0; i < p->n; i++) {
    if (!p->w[i].started) continue;
    pthread_join(p->w[i].thread, NULL);
    p->w[i].started = 0;
  }
}

void po_pool_finish(po_pool *p) { last_round(p, 0); }

int po_pool_failed(po_pool *p) { return atomic_load(&p->failed); }

void po_pool_stats(po_pool *p, po_stats *sum)
{
  pthread_mutex_lock(&p->snap_mu);
  *sum = p->front_snap;
  pthread_mutex_unlock(&p->snap_mu);
  for (unsigned i = 0; i < p->n; i++) {
    worker *wk = &p->w[i];
    pthread_mutex_lock(&wk->mu);
    po_stats s = wk->snap;
    pthread_mutex_unlock(&wk->mu);
    sum->flows += s.flows;
    sum->ignored += s.ignored;
    sum->evicted += s.evicted;
    sum->records += s.records;
    sum->chain_errors += s.chain_errors;
    sum->shorts += s.shorts; /* no memory for a flow */
  }
}

/* The end of a run: the places of chain errors, summed over the workers,
 * in the order they first came; returns the errors that were not
 * interruptions. */
typedef struct place { char *text; unsigned long long count; } place;
typedef struct report { place *pl; size_t n; } report;

static void collect_place(void *ud, const char *msg)
{
  report *r = ud;
  static const char head[] = "chain error at ";
  const char *colon = strrchr(msg, ':');
  unsigned long long c = 0;
  if (strncmp(msg, head, sizeof head - 1) != 0 || colon == NULL ||
      sscanf(colon + 1, " %llu", &c) != 1) {
    return;
  }
  size_t len = (size_t)(colon - msg);
  for (size_t i = 0; i < r->n; i++) {
    if (strncmp(r->pl[i].text, msg, len) == 0 && r->pl[i].text[len] == 0) {
      r->pl[i].count += c;
      return;
    }
  }
  place *pl = realloc(r->pl, (r->n + 1) * sizeof *pl);
  if (pl == NULL) return;
  r->pl = pl;
  pl[r->n].text = malloc(len + 1);
  if (pl[r->n].text == NULL) return;
  memcpy(pl[r->n].text, msg, len);
  pl[r->n].text[len] = 0;
  pl[r->n++].count = c;
}

uint64_t po_pool_error_report(po_pool *p)
{
  report r = { 0 };
  uint64_t failures = 0;
  for (unsigned i = 0; i < p->n; i++) {
    po_host_set_diag(p->w[i].host, collect_place, &r);
    failures += po_host_error_report(p->w[i].host);
    po_host_set_diag(p->w[i].host, pool_diag, p);
  }
  for (size_t i = 0; i < r.n; i++) {
    char line[4200];
    snprintf(line, sizeof line, "%s: %llu time%s", r.pl[i].text, r.pl[i].count,
             r.pl[i].count == 1 ? "" : "s");
    if (p->set.diag) p->set.diag(p->set.ud, line);
    free(r.pl[i].text);
  }
  free(r.pl);
  return failures;
}

/* ---- making and freeing ------------------------------------------------------------ */

static void worker_free(worker *wk)
{
  for (int i = 0; i < SLABS; i++) {
    free(wk->slabs[i].pk);
    bchunk *c = wk->slabs[i].bytes;
    while (c) {
      bchunk *n = c->next;
      free(c);
      c = n;
    }
  }
  po_host_free(wk->host);
  po_obs_free(wk->obs);
  pthread_mutex_destroy(&wk->mu);
  pthread_cond_destroy(&wk->cv);
}

void po_pool_stop(po_pool *p)
{
  if (p == NULL || p->w == NULL) return;
  for (unsigned i = 0; i < p->n; i++) {
    if (p->w[i].started) { /* a run that did not finish: the workers stop without writing */
      last_round(p, 1);
      break;
    }
  }
}

void po_pool_free(po_pool *p)
{
  if (p == NULL) return;
  po_pool_stop(p);
  if (p->w != NULL)
    for (unsigned i = 0; i < p->n; i++) worker_free(&p->w[i]);
  po_obs_free(p->front);
  for (size_t i = 0; i < p->nseen; i++) free(p->seen[i]);
  free(p->seen);
  pthread_mutex_destroy(&p->diag_mu);
  pthread_mutex_destroy(&p->snap_mu);
  free(p->w);
  free(p);
}

int po_pool_new(po_pool **out, const po_pool_setup *set, po_writer *writer, char *err, size_t errlen)
{
  *out = NULL;
  unsigned n = set->workers;
  po_pool *p = calloc(1, sizeof *p);
  if (p == NULL) return PO_ENOMEM;
  p->n = n;
  p->set = *set;
  pthread_mutex_init(&p->diag_mu, NULL);
  pthread_mutex_init(&p->snap_mu, NULL);
  po_config front = set->cfg;
  p->front = po_obs_new(&front); /* no flow: its clock never writes a record */
  p->w = calloc(n, sizeof *p->w);
  if (p->front == NULL || p->w == NULL) {
    po_pool_free(p);
    return PO_ENOMEM;
  }
  po_config cfg = set->cfg;
  cfg.max_flows = (set->cfg.max_flows + n - 1) / n; /* --max-flows is shared out */
  for (unsigned i = 0; i < n; i++) {
    worker *wk = &p->w[i];
    wk->pool = p;
    wk->index = i;
    pthread_mutex_init(&wk->mu, NULL);
    pthread_cond_init(&wk->cv, NULL);
  }
  int rc = PO_OK;
  for (unsigned i = 0; i < n && rc == PO_OK; i++) {
    worker *wk = &p->w[i];
    for (int k = 0; k < SLABS; k++) {
      wk->slabs[k].pk = malloc(SLAB_PKTS * sizeof *wk->slabs[k].pk);
      if (wk->slabs[k].pk == NULL) rc = PO_ENOMEM;
    }
    wk->host = po_host_new(set->dirs, set->ndirs, pool_diag, p);
    if (wk->host == NULL) { rc = PO_ENOMEM; break; }
    po_host_set_worker(wk->host, i + 1, n);
    po_host_set_strict(wk->host, set->strict);
    if (po_host_set_timeout(wk->host, set->chain_timeout) != PO_OK) { rc = PO_ENOMEM; break; }
    rc = po_host_load(wk->host, set->scripts, set->nscripts, err, errlen);
    if (rc != PO_OK) break;
    wk->obs = po_obs_new(&cfg);
    if (wk->obs == NULL) { rc = PO_ENOMEM; break; }
    po_host_bind(wk->host, wk->obs, po_writer_stage(writer, i), po_obs_stats(wk->obs));
  }
  for (unsigned i = 0; i < n && rc == PO_OK; i++) {
    if (pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]) != 0) rc = PO_ENOMEM;
    else p->w[i].started = 1;
  }
  if (rc != PO_OK) {
    if (rc == PO_ENOMEM) snprintf(err, errlen, "%s", po_strerror(PO_ENOMEM));
    po_pool_free(p);
    return rc;
  }
  *out = p;
  return PO_OK;
}
