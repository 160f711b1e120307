/* writer.c - the writer thread: takes staged records from every worker's stage, in order, prints them and writes them out. */
#include "po.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The one-way end of the record pipeline.  Each worker stages its records
 * (cJSON trees, or flat records: po_flat) into the pages of its own stage;
 * a full page goes to this thread, which prints each record
 * (cJSON_PrintPreallocated), writes it to the sink and hands the page back.
 * A page's memory (its arena) is kept for reuse: no malloc per record.
 *
 * With one stage, lines come out in the order records were staged.  With
 * several, a worker closes a round (po_stage_round) when it has done its
 * share of a round of packets; the thread writes round r of stage 0, then
 * round r of stage 1, ..., then round r + 1: the order depends only on the
 * packets and the number of stages, never on how the threads ran. */
enum { PAGES = 4, PAGE_ITEMS = 256, PAGE_BYTES = 512 * 1024, CHUNK = 64 * 1024 };
enum { IT_TREE = 0, IT_FLAT = 1, IT_ROUND = 2, IT_ROUND_FLUSH = 3 };

typedef struct chunk { struct chunk *next; size_t used, size; _Alignas(16) char data[]; } chunk;

/* The tree of a flat record is made here, where it is printed, in memory of
 * the thread's own (grown as needed), valid until the next record. */
typedef char numtext[32];
typedef struct flat_buf { cJSON *nodes; numtext *text; size_t cap; } flat_buf;

typedef struct page {
  chunk *first, *cur;        /* arena chunks; cur: the one being filled */
  size_t bytes;              /* handed out since the page was last reset */
  void *items[PAGE_ITEMS];   /* cJSON trees, or flat records (po_flat) */
  uint8_t kind[PAGE_ITEMS];  /* IT_* */
  unsigned n;
} page;

struct po_stage {
  po_writer *w;
  page pages[PAGES];
  uint64_t submitted;        /* pages handed over (producer writes, under w->mu) */
  uint64_t done;             /* pages written and free again (thread writes, under w->mu) */
  unsigned pos;              /* the thread: next item of page done % PAGES */
};

struct po_writer {
  po_out *out;
  po_stage *stages;
  unsigned nstages;
  unsigned cur;              /* the thread: the stage whose round it writes */
  int stop;
  int busy;                  /* the thread is writing (under mu) */
  atomic_int failed;         /* a write failed: out->err says why (read it after po_writer_sync) */
  atomic_ullong lost;        /* records the thread had no memory to print */
  char *buf;                 /* the thread's print buffer */
  size_t cap;
  flat_buf flat;             /* the thread's tree of a flat record */
  pthread_mutex_t mu;
  pthread_cond_t work, freed;
  pthread_t thread;
};

static page *filling(po_stage *s) { return &s->pages[s->submitted % PAGES]; }

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

static void link_member(cJSON *obj, cJSON *last, cJSON *item)
{
  if (last == NULL) obj->child = item;
  else {
    last->next = item;
    item->prev = last;
  }
  obj->child->prev = item; /* cJSON keeps the last member in the first one's prev */
}

static cJSON *flat_tree(flat_buf *b, const po_flat *f)
{
  if (f->n >= b->cap) {
    size_t cap = (size_t)f->n + 1 > 2 * b->cap ? (size_t)f->n + 1 : 2 * b->cap;
    cJSON *nodes = realloc(b->nodes, cap * sizeof *nodes);
    if (nodes != NULL) b->nodes = nodes;
    numtext *text = realloc(b->text, cap * sizeof *text);
    if (text != NULL) b->text = text;
    if (nodes == NULL || text == NULL) return NULL;
    b->cap = cap;
  }
  cJSON *nodes = b->nodes, *root = &nodes[0], *last = NULL;
  numtext *text = b->text;
  memset(root, 0, sizeof *root);
  root->type = cJSON_Object;
  for (uint32_t i = 0; i < f->n; i++) {
    const po_fval *v = &f->v[i];
    cJSON *item = &nodes[i + 1];
    memset(item, 0, sizeof *item);
    item->string = (char *)f->keys[i];
    switch (v->kind) {
    case PO_FV_NUMBER: {
      double x = v->num;
      if (isnan(x) || isinf(x)) {
        item->type = cJSON_NULL;
      } else {
        item->type = cJSON_Raw | cJSON_IsReference;
        item->valuestring = (char *)po_num_small(x);
        if (item->valuestring == NULL) {
          po_num_text(text[i], sizeof text[i], x);
          item->valuestring = text[i];
        }
      }
      break;
    }
    case PO_FV_STRING:
      item->type = cJSON_String | cJSON_IsReference;
      item->valuestring = (char *)v->str;
      break;
    case PO_FV_FALSE: item->type = cJSON_False; break;
    case PO_FV_TRUE: item->type = cJSON_True; break;
    default: item->type = cJSON_NULL; break;
    }
    item->type |= cJSON_StringIsConst;
    link_member(root, last, item);
    last = item;
  }
  return root;
}

static void flat_buf_free(flat_buf *b)
{
  free(b->nodes);
  free(b->text);
  memset(b, 0, sizeof *b);
}

static void write_item(po_writer *w, const page *p, unsigned i)
{
  size_t len;
  cJSON *root = p->kind[i] == IT_FLAT ? flat_tree(&w->flat, p->items[i]) : p->items[i];
  const char *line = print(w, root, &len);
  if (line == NULL) {
    atomic_fetch_add(&w->lost, 1);
    return;
  }
  if (po_out_write(w->out, line, len) != PO_OK) atomic_store(&w->failed, 1);
}

static int has_page(const po_stage *s) { return s->done != s->submitted; }

/* Under mu: the stage to write from next, or NULL when the thread must wait
 * (or, with stop, when nothing is left). */
static po_stage *next_stage(po_writer *w)
{
  po_stage *s = &w->stages[w->cur];
  if (has_page(s)) return s;
  if (!w->stop) return NULL;
  /* stopping: a stage that never closed its round must not hold the others back */
  for (unsigned k = 1; k < w->nstages; k++) {
    unsigned c = (w->cur + k) % w->nstages;
    if (has_page(&w->stages[c])) {
      w->cur = c;
      return &w->stages[c];
    }
  }
  return NULL;
}

static void *writer_main(void *arg)
{
  po_writer *w = arg;
  pthread_setname_np(pthread_self(), "pathobs-writer"); /* top -H, gdb */
  pthread_mutex_lock(&w->mu);
  for (;;) {
    po_stage *s = next_stage(w);
    if (s == NULL) {
      if (w->stop) break;
      w->busy = 0;
      pthread_cond_broadcast(&w->freed);
      pthread_cond_wait(&w->work, &w->mu);
      continue;
    }
    w->busy = 1;
    page *p = &s->pages[s->done % PAGES];
    pthread_mutex_unlock(&w->mu);
    unsigned i = s->pos;
    int round = 0, flush = 0;
    while (i < p->n) {
      uint8_t k = p->kind[i++];
      if (k >= IT_ROUND) {
        round = 1;
        flush = k == IT_ROUND_FLUSH;
        break;
      }
      write_item(w, p, i - 1);
    }
    int page_done = i >= p->n;
    s->pos = page_done ? 0 : i;
    if (page_done) page_reset(p);
    if (round) {
      w->cur = (w->cur + 1) % w->nstages;
      if (flush && w->cur == 0 && po_out_flush(w->out) != PO_OK) atomic_store(&w->failed, 1);
    }
    pthread_mutex_lock(&w->mu);
    if (page_done) {
      s->done++;
      pthread_cond_broadcast(&w->freed);
    }
  }
  w->busy = 0;
  pthread_cond_broadcast(&w->freed);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

po_writer *po_writer_new(po_out *out, unsigned nstages)
{
  if (nstages == 0) nstages = 1;
  po_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->out = out;
  w->nstages = nstages;
  w->stages = calloc(nstages, sizeof *w->stages);
  w->cap = 64 * 1024;
  w->buf = malloc(w->cap);
  if (w->buf == NULL || w->stages == NULL) {
    free(w->buf);
    free(w->stages);
    free(w);
    return NULL;
  }
  for (unsigned i = 0; i < nstages; i++) w->stages[i].w = w;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->work, NULL);
  pthread_cond_init(&w->freed, NULL);
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->freed);
    free(w->buf);
    free(w->stages);
    free(w);
    return NULL;
  }
  return w;
}

po_stage *po_writer_stage(po_writer *w, unsigned i) { return i < w->nstages ? &w->stages[i] : NULL; }

unsigned po_writer_stages(const po_writer *w) { return w->nstages; }

/* Hand the page being filled to the thread; wait until the next one is free. */
void po_stage_submit(po_stage *s)
{
  if (filling(s)->n == 0) return;
  po_writer *w = s->w;
  pthread_mutex_lock(&w->mu);
  s->submitted++;
  pthread_cond_signal(&w->work);
  while (s->submitted - s->done >= PAGES) pthread_cond_wait(&w->freed, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

/* Read by the producer (which alone hands pages over, or is idle while
 * po_writer_sync does): memory it took before this changed is the thread's. */
uint64_t po_stage_pages(const po_stage *s) { return s->submitted; }

void *po_stage_alloc(po_stage *s, size_t n)
{
  page *p = filling(s);
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

static int add(po_stage *s, void *item, uint8_t kind)
{
  page *p = filling(s);
  p->kind[p->n] = kind;
  p->items[p->n++] = item;
  if (p->n < PAGE_ITEMS && p->bytes < PAGE_BYTES) return 0;
  po_stage_submit(s);
  return 1;
}

int po_stage_add(po_stage *s, cJSON *root) { return add(s, root, IT_TREE); }

int po_stage_add_flat(po_stage *s, po_flat *f) { return add(s, f, IT_FLAT); }

int po_stage_round(po_stage *s, int flush)
{
  if (s->w->nstages == 1) return 0; /* one stage: its order is the output's */
  return add(s, NULL, flush ? IT_ROUND_FLUSH : IT_ROUND);
}

void po_stage_sync(po_stage *s)
{
  po_stage_submit(s);
  po_writer *w = s->w;
  pthread_mutex_lock(&w->mu);
  while (s->done != s->submitted) pthread_cond_wait(&w->freed, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

/* Every page handed over written.  The producers hand over their part-full
 * pages themselves (po_stage_submit, through json.c: a page handed over
 * behind json.c's back would still be its memory for the next record).  With
 * several stages, the caller has made sure that no producer adds more (the
 * workers are idle or gone) and that each closed its last round; a round
 * left open stops the writing at that stage (po_writer_free writes the rest). */
void po_writer_sync(po_writer *w)
{
  pthread_mutex_lock(&w->mu);
  for (;;) {
    int left = 0;
    for (unsigned i = 0; i < w->nstages && !left; i++) left = has_page(&w->stages[i]);
    if (!w->busy && (!left || !has_page(&w->stages[w->cur]))) break;
    pthread_cond_wait(&w->freed, &w->mu);
  }
  pthread_mutex_unlock(&w->mu);
}

int po_writer_failed(po_writer *w) { return atomic_load(&w->failed); }

uint64_t po_writer_lost(po_writer *w) { return atomic_exchange(&w->lost, 0); }

void po_writer_free(po_writer *w)
{
  if (w == NULL) return;
  for (unsigned i = 0; i < w->nstages; i++) po_stage_submit(&w->stages[i]); /* the producers are gone */
  po_writer_sync(w);
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  for (unsigned s = 0; s < w->nstages; s++) {
    for (int i = 0; i < PAGES; i++) {
      chunk *c = w->stages[s].pages[i].first;
      while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
      }
    }
  }
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->work);
  pthread_cond_destroy(&w->freed);
  free(w->buf);
  flat_buf_free(&w->flat);
  free(w->stages);
  free(w);
}
