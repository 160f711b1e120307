/* writer.c - prints finished cJSON records and writes them out on a thread of its own. */
#include "po.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The loop builds records into pages; a full page goes to the thread, which
 * prints each record (cJSON_PrintPreallocated), writes it to the sink and
 * hands the page back.  Pages are used in ring order and printed in the order
 * they were handed over, so lines come out in the order records were added.
 * A page's memory (its arena) is kept for reuse: no malloc per record. */
enum { PAGES = 4, PAGE_RECORDS = 256, PAGE_BYTES = 512 * 1024, CHUNK = 64 * 1024 };

typedef struct chunk { struct chunk *next; size_t used, size; _Alignas(16) char data[]; } chunk;

typedef struct page {
  chunk *first, *cur;        /* arena chunks; cur: the one being filled */
  size_t bytes;              /* handed out since the page was last reset */
  void *items[PAGE_RECORDS];  /* cJSON trees, or flat records (po_flat) */
  uint8_t flat[PAGE_RECORDS];
  unsigned n;
} page;

struct po_writer {
  po_out *out;
  page pages[PAGES];
  uint64_t submitted;        /* pages handed over (loop writes, under mu) */
  uint64_t done;             /* pages written and free again (thread writes, under mu) */
  int stop;
  atomic_int failed;         /* a write failed: out->err says why (read it after po_writer_sync) */
  atomic_ullong lost;        /* records the thread had no memory to print */
  char *buf;                 /* the thread's print buffer */
  size_t cap;
  po_flat_buf flat;          /* the thread's tree of a flat record */
  pthread_mutex_t mu;
  pthread_cond_t work, freed;
  pthread_t thread;
};

static page *filling(po_writer *w) { return &w->pages[w->submitted % PAGES]; }

static void page_reset(page *p)
{
  for (chunk *c = p->first; c; c = c->next) c->used = 0;
  p->cur = p->first;
  p->bytes = 0;
  p->n = 0;
}

/* Print one record into the thread's buffer, growing it as needed. */
static const char *print(po_writer *w, cJSON *root, size_t *len)
{
  if (root == NULL) return NULL;
  for (;;) {
    if (cJSON_PrintPreallocated(root, w->buf, (int)w->cap - 1, 0)) {
      *len = strlen(w->buf);
      w->buf[(*len)++] = '\n';
      return w->buf;
    }
    size_t nc = w->cap * 2;
    char *nb = nc <= (1u << 30) ? realloc(w->buf, nc) : NULL;
    if (nb == NULL) return NULL;
    w->buf = nb;
    w->cap = nc;
  }
}

static void *writer_main(void *arg)
{
  po_writer *w = arg;
  for (;;) {
    pthread_mutex_lock(&w->mu);
    while (!w->stop && w->done == w->submitted) pthread_cond_wait(&w->work, &w->mu);
    if (w->done == w->submitted) { /* stop, and nothing left */
      pthread_mutex_unlock(&w->mu);
      break;
    }
    page *p = &w->pages[w->done % PAGES];
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < p->n; i++) {
      size_t len;
      cJSON *root = p->flat[i] ? po_flat_tree(&w->flat, p->items[i]) : p->items[i];
      const char *line = print(w, root, &len);
      if (line == NULL) {
        atomic_fetch_add(&w->lost, 1);
        continue;
      }
      if (po_out_write(w->out, line, len) != PO_OK) atomic_store(&w->failed, 1);
    }
    page_reset(p);
    pthread_mutex_lock(&w->mu);
    w->done++;
    pthread_cond_signal(&w->freed);
    pthread_mutex_unlock(&w->mu);
  }
  return NULL;
}

po_writer *po_writer_new(po_out *out)
{
  po_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->out = out;
  w->cap = 64 * 1024;
  w->buf = malloc(w->cap);
  if (w->buf == NULL) {
    free(w);
    return NULL;
  }
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->work, NULL);
  pthread_cond_init(&w->freed, NULL);
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->freed);
    free(w->buf);
    free(w);
    return NULL;
  }
  return w;
}

/* Hand the page being filled to the thread; wait until the next one is free. */
static void submit(po_writer *w)
{
  if (filling(w)->n == 0) return;
  pthread_mutex_lock(&w->mu);
  w->submitted++;
  pthread_cond_signal(&w->work);
  while (w->submitted - w->done >= PAGES) pthread_cond_wait(&w->freed, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

void *po_writer_alloc(po_writer *w, size_t n)
{
  page *p = filling(w);
  n = (n + 15) & ~(size_t)15;
  chunk *c = p->cur;
  while (c != NULL && c->size - c->used < n) {
    if (c->next == NULL) break;
    c = c->next; /* a chunk of this page from an earlier round: empty since the reset */
  }
  if (c == NULL || c->size - c->used < n) {
    size_t size = n > CHUNK ? n : CHUNK;
    chunk *nc = malloc(sizeof *nc + size);
    if (nc == NULL) return NULL;
    nc->used = 0;
    nc->size = size;
    nc->next = NULL;
    if (c == NULL) p->first = nc; else { nc->next = c->next; c->next = nc; }
    c = nc;
  }
  p->cur = c;
  p->bytes += n;
  void *out = c->data + c->used;
  c->used += n;
  return out;
}

static int add(po_writer *w, void *item, int flat)
{
  page *p = filling(w);
  p->flat[p->n] = (uint8_t)flat;
  p->items[p->n++] = item;
  if (p->n < PAGE_RECORDS && p->bytes < PAGE_BYTES) return 0;
  submit(w);
  return 1;
}

int po_writer_add(po_writer *w, cJSON *root) { return add(w, root, 0); }

int po_writer_add_flat(po_writer *w, po_flat *f) { return add(w, f, 1); }

void po_writer_sync(po_writer *w)
{
  submit(w);
  pthread_mutex_lock(&w->mu);
  while (w->done != w->submitted) pthread_cond_wait(&w->freed, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

int po_writer_failed(po_writer *w) { return atomic_load(&w->failed); }

uint64_t po_writer_lost(po_writer *w) { return atomic_exchange(&w->lost, 0); }

void po_writer_free(po_writer *w)
{
  if (w == NULL) return;
  po_writer_sync(w);
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  for (int i = 0; i < PAGES; i++) {
    chunk *c = w->pages[i].first;
    while (c) {
      chunk *n = c->next;
      free(c);
      c = n;
    }
  }
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->work);
  pthread_cond_destroy(&w->freed);
  free(w->buf);
  po_flat_buf_free(&w->flat);
  free(w);
}
