/* reader.c - a thread that reads and decodes a source (a file, or one of several readers of an interface) ahead of the loop. */
#include "po.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The reader thread and the loop each write their own cache line and read the
 * other's only when their copy of it runs out: a line both write on every packet
 * would move between the cores twice per packet. */
struct po_reader {
  po_source *src;
  po_rpkt *ring;
  unsigned depth;         /* a power of two */
  void (*wake)(void *ud);
  void *ud;
  int (*deliver)(void *dud, po_rpkt *e); /* or NULL: packets go through the ring */
  void *dud;
  /* reader thread */
  _Alignas(64) atomic_uint head; /* entries produced */
  unsigned released_seen;        /* its last look at released */
  /* loop thread */
  _Alignas(64) unsigned consumed; /* entries taken */
  unsigned head_seen;             /* its last look at head */
  atomic_uint released;           /* entries the reader may overwrite */
  /* rarely written */
  _Alignas(64) atomic_int waiting; /* the loop found the ring empty and waits for wake() */
  atomic_int stop;
  atomic_int finished;   /* the thread has left its loop */
  atomic_uint drain_req;  /* live: the loop's requests to read what the kernel has now */
  atomic_uint drain_ack;  /* the last request the thread has met (its reads since then are in the ring) */
  unsigned drain_asked;   /* loop thread: its last request */
  pthread_t thread;
  char err[512];
};

/* Short against the time the loop takes for a quarter of the ring (0.15 ms
 * to 0.5 ms with the bundled chains), long against a system call. */
static const struct timespec NAP = { 0, 100 * 1000 };

/* How long a live reader waits in poll(2) before it looks at stop and drain_req again. */
enum { LIVE_WAIT_MS = 20 };

/* A live source: read what the kernel hands over; when nothing is ready, meet
 * the loop's drain request, then wait on the descriptor.  1 an entry, 0 none
 * (stop set, or nothing yet: look at the ring and stop again), with *pending the
 * drain request seen before the read that found nothing. */
static int poll_live(po_reader *r, po_rpkt *e, const uint8_t **l3, uint32_t *cap, uint16_t *et,
                     unsigned head, unsigned *woke, unsigned *pending, unsigned *acked)
{
  int fd = -1;
  int rc = po_source_poll(r->src, &e->ts, et, l3, cap, &fd, r->err, sizeof r->err);
  if (rc == PO_SRC_SKIP) return 0;
  if (rc == PO_SRC_PACKET || rc == PO_SRC_MALFORMED) {
    e->rc = rc;
    return 1;
  }
  if (rc != PO_SRC_WAIT) {
    e->rc = rc == PO_SRC_END ? 0 : rc;
    return 1;
  }
  /* what the kernel handed over is in the ring: wake the loop once for all of it */
  if (*woke != head && atomic_load(&r->waiting)) {
    *woke = head;
    r->wake(r->ud);
  }
  if (*pending != *acked) { /* nothing left after the request was seen: it is met */
    *acked = *pending;
    atomic_store(&r->drain_ack, *acked);
  }
  unsigned q = atomic_load(&r->drain_req);
  if (q != *acked) { /* read once more, after the request */
    *pending = q;
    return 0;
  }
  if (fd >= 0) {
    struct pollfd p = { fd, POLLIN, 0 };
    poll(&p, 1, LIVE_WAIT_MS);
  } else {
    struct timespec t = { 0, LIVE_WAIT_MS * 1000000L };
    nanosleep(&t, NULL);
  }
  return 0;
}

static void *reader_main(void *arg)
{
  po_reader *r = arg;
  pthread_setname_np(pthread_self(), "pathobs-reader"); /* top -H, gdb */
  unsigned head = 0, woke = 0, pending = 0, acked = 0;
  int live = po_source_live(r->src);
  for (;;) {
    if (head - r->released_seen >= r->depth && head - (r->released_seen = atomic_load(&r->released)) >= r->depth) {
      /* Full: the loop is the slower side.  Nap until a quarter of the ring
       * is free (so that one nap pays for many packets), looking at released
       * between naps.  The loop does not wake us: a wake-up is a futex call
       * and an interrupt on the loop's core, the core that sets the pace
       * (with a condition variable, 1,400 per run of the eight chains, about
       * 5% of the loop thread). */
      while (!atomic_load(&r->stop) &&
             head - (r->released_seen = atomic_load(&r->released)) > r->depth - r->depth / 4)
        nanosleep(&NAP, NULL);
    }
    if (atomic_load(&r->stop)) break;
    po_rpkt *e = &r->ring[head & (r->depth - 1)];
    const uint8_t *l3 = NULL;
    uint32_t cap = 0;
    uint16_t et = 0;
    if (!live) e->rc = po_source_next(r->src, &e->ts, &et, &l3, &cap, r->err, sizeof r->err);
    else if (!poll_live(r, e, &l3, &cap, &et, head, &woke, &pending, &acked)) continue;
    if (e->rc == PO_SRC_MALFORMED) {
      e->link = *po_source_link(r->src);
      e->rc = 1;
      e->decoded = PO_EMALFORM; /* counted as short */
    } else if (e->rc > 0) {
      e->link = *po_source_link(r->src);
      e->decoded = po_obs_decode(et, l3, cap, e->h);
      if (e->decoded == PO_OK) {
        po_decode_wire(&e->h[0], po_source_l3_wire(r->src)); /* BIG TCP cut by a snap length */
        po_key_ahead(e->h, &e->fk);
      }
    }
    if (r->deliver != NULL && e->rc > 0) { /* handed on here; the ring carries only the end */
      if (atomic_load_explicit(&r->stop, memory_order_relaxed)) break; /* deliver nothing more */
      if (r->deliver(r->dud, e) == 0) continue;
      e->rc = 0; /* the consumer asks to stop: the end, for the loop */
    }
    atomic_store(&r->head, ++head);
    /* live: the loop is woken when the kernel's block is read (above), or
     * when half the ring is full: one wake-up and one batch for many (on a
     * loaded 2-core machine a wake-up every 256 packets cost the loop more
     * than reading the interface itself) */
    if (atomic_load(&r->waiting) && (!live || head - woke >= r->depth / 2 || e->rc <= 0)) {
      woke = head;
      r->wake(r->ud);
    }
    if (e->rc <= 0) break; /* end of input or error: the loop reads it from the entry */
  }
  atomic_store(&r->finished, 1);
  return NULL;
}

int po_reader_start(po_reader **out, po_source *src, unsigned depth, void (*wake)(void *ud),
                    void *ud)
{
  return po_reader_start_deliver(out, src, depth, wake, ud, NULL, NULL);
}

int po_reader_start_deliver(po_reader **out, po_source *src, unsigned depth, void (*wake)(void *ud),
                            void *ud, int (*deliver)(void *dud, po_rpkt *e), void *dud)
{
  if (depth < 2) depth = 2;
  while (depth & (depth - 1)) depth &= depth - 1; /* a power of two, at most what was asked */
  po_reader *r = aligned_alloc(64, (sizeof *r + 63) / 64 * 64);
  if (r == NULL) return PO_ENOMEM;
  memset(r, 0, sizeof *r);
  r->ring = calloc(depth, sizeof *r->ring);
  if (r->ring == NULL) {
    free(r);
    return PO_ENOMEM;
  }
  r->src = src;
  r->depth = depth;
  r->wake = wake;
  r->ud = ud;
  r->deliver = deliver;
  r->dud = dud;
  if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
    free(r->ring);
    free(r);
    return PO_ENOMEM;
  }
  *out = r;
  return PO_OK;
}

const po_rpkt *po_reader_peek(po_reader *r)
{
  if (r->consumed != r->head_seen) return &r->ring[r->consumed & (r->depth - 1)];
  r->head_seen = atomic_load(&r->head);
  if (r->consumed != r->head_seen) return &r->ring[r->consumed & (r->depth - 1)];
  /* empty: ask to be woken, then look again (the reader may have just produced) */
  atomic_store(&r->waiting, 1);
  r->head_seen = atomic_load(&r->head);
  if (r->consumed != r->head_seen) {
    atomic_store(&r->waiting, 0);
    return &r->ring[r->consumed & (r->depth - 1)];
  }
  return NULL;
}

const po_rpkt *po_reader_look(po_reader *r)
{
  if (r->consumed != r->head_seen) return &r->ring[r->consumed & (r->depth - 1)];
  r->head_seen = atomic_load(&r->head);
  return r->consumed != r->head_seen ? &r->ring[r->consumed & (r->depth - 1)] : NULL;
}

void po_reader_woken(po_reader *r) { atomic_store(&r->waiting, 0); }

void po_reader_drain(po_reader *r) { atomic_store(&r->drain_req, ++r->drain_asked); }

int po_reader_drained(po_reader *r)
{
  return atomic_load(&r->drain_ack) == r->drain_asked || atomic_load(&r->finished);
}

void po_reader_next(po_reader *r) { r->consumed++; }

const char *po_reader_error(po_reader *r) { return r->err; }

/* The reader looks at released when its copy says the ring is full, and between naps. */
void po_reader_release(po_reader *r) { atomic_store_explicit(&r->released, r->consumed, memory_order_release); }

int po_reader_stop(po_reader *r)
{
  if (r == NULL) return 1;
  atomic_store(&r->stop, 1); /* the reader sees it between naps or after its read */
  /* A read from a pipe can block for ever: wait a moment, then leave the
   * thread (and the source it reads) to the end of the process.  A thread
   * that delivers reads a regular file: it is only ever waiting for the
   * workers, which go on, and is waited for to the end (the pool it hands
   * packets to is freed after this). */
  for (int i = 0; (i < 200 || r->deliver != NULL) && !atomic_load(&r->finished); i++) {
    struct timespec ts = { 0, 5 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
  if (!atomic_load(&r->finished)) {
    pthread_detach(r->thread);
    return 0;
  }
  pthread_join(r->thread, NULL);
  free(r->ring);
  free(r);
  return 1;
}
