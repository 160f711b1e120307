/* test_writer.c - the writer thread: order across pages, flat records, sync, page memory, write errors. */
#include "po.h"
#include "check.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

static char tmpl[] = "/tmp/po-test-writer-XXXXXX";

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  static char buf[1 << 20];
  *len = fread(buf, 1, sizeof buf - 1, f);
  buf[*len] = 0;
  fclose(f);
  return buf;
}

/* The number of lines of text that read as want(k) for k = 0, 1, ... in turn
 * (-1 at the first that does not). */
static int lines_as(const char *text, int (*want)(char *buf, size_t len, int k))
{
  int n = 0;
  for (const char *line = text; line && *line; n++) {
    char buf[64];
    int wl = want(buf, sizeof buf, n);
    if (strncmp(line, buf, (size_t)wl) != 0) {
      fprintf(stderr, "line %d: %.60s, expected %s", n, line, buf);
      return -1;
    }
    line = strchr(line, '\n');
    if (line) line++;
  }
  return n;
}

/* Flush out, then the lines of the file at path that read as want(k) (-1: not all). */
static int written_lines(po_out *out, const char *path, int (*want)(char *buf, size_t len, int k))
{
  CHECK_EQ(po_out_flush(out), PO_OK);
  size_t len;
  char *text = slurp(path, &len);
  CHECK(text != NULL);
  return text ? lines_as(text, want) : -1;
}

static int plain_line(char *buf, size_t len, int k) { return snprintf(buf, len, "{\"i\":%d}\n", k); }

static int mixed_line(char *buf, size_t len, int k)
{
  if (k % 3 == 0) return plain_line(buf, len, k);
  return snprintf(buf, len, "{\"i\":%d,\"s\":\"<%d>\"}\n", k * 1000, k * 1000);
}

/* A record {"i":n} made in the writer's page memory, the way json.c makes them. */
static cJSON *record(po_writer *w, int n)
{
  cJSON *o = po_stage_alloc(po_writer_stage(w, 0), sizeof(cJSON));
  cJSON *v = po_stage_alloc(po_writer_stage(w, 0), sizeof(cJSON));
  char *text = po_stage_alloc(po_writer_stage(w, 0), 16);
  if (o == NULL || v == NULL || text == NULL) return NULL;
  memset(o, 0, sizeof *o);
  memset(v, 0, sizeof *v);
  o->type = cJSON_Object;
  o->child = v;
  v->prev = v;
  v->type = cJSON_Raw | cJSON_IsReference | cJSON_StringIsConst;
  v->string = (char *)"i";
  snprintf(text, 16, "%d", n);
  v->valuestring = text;
  return o;
}

/* The flat record {"i":n,"s":"<n>"} in page memory, the way json.c makes them:
 * the thread builds its tree. */
static po_flat *flat(po_writer *w, int n)
{
  static const char *const keys[] = { "i", "s" };
  po_flat *f = po_stage_alloc(po_writer_stage(w, 0), sizeof *f + 2 * sizeof f->v[0]);
  char *text = po_stage_alloc(po_writer_stage(w, 0), 16);
  if (f == NULL || text == NULL) return NULL;
  f->keys = keys;
  f->n = 2;
  f->v[0] = (po_fval){ .kind = PO_FV_NUMBER, .num = n };
  snprintf(text, 16, "<%d>", n);
  f->v[1] = (po_fval){ .kind = PO_FV_STRING, .str = text, .len = (uint32_t)strlen(text) };
  return f;
}

/* A writer into a new empty file made from path (a mkstemp template). */
static po_writer *temp_writer(char *path, po_out *out)
{
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  CHECK_EQ(po_out_open(out, path), PO_OK);
  po_writer *w = po_writer_new(out, 1);
  CHECK(w != NULL);
  return w;
}

static void flat_records_between_trees(void)
{
  char path[] = "/tmp/po-test-writer-flat-XXXXXX";
  po_out out;
  po_writer *w = temp_writer(path, &out);
  enum { N = 3000 };
  for (int i = 0; i < N; i++) {
    if (i % 3 == 0) po_stage_add(po_writer_stage(w, 0), record(w, i));
    else po_stage_add_flat(po_writer_stage(w, 0), flat(w, i * 1000)); /* beyond the shared small numbers */
  }
  po_writer_free(w);
  CHECK_EQ(written_lines(&out, path, mixed_line), N);
  po_out_close(&out);
  unlink(path);
}

static void lines_in_order_across_pages(void)
{
  po_out out;
  po_writer *w = temp_writer(tmpl, &out);
  enum { N = 3000 }; /* a dozen pages */
  for (int i = 0; i < N; i++) po_stage_add(po_writer_stage(w, 0), record(w, i));
  po_stage_submit(po_writer_stage(w, 0));
  po_writer_sync(w);
  CHECK_EQ(written_lines(&out, tmpl, plain_line), N);
  /* more after a sync, then free: what was added is written */
  for (int i = N; i < N + 10; i++) po_stage_add(po_writer_stage(w, 0), record(w, i));
  po_writer_free(w);
  CHECK_EQ(po_out_flush(&out), PO_OK);
  size_t len;
  char *text = slurp(tmpl, &len);
  CHECK(text != NULL && strstr(text, "{\"i\":3009}\n") != NULL);
  po_out_close(&out);
  unlink(tmpl);
}

static void page_memory(void)
{
  po_out out;
  CHECK_EQ(po_out_open(&out, "/dev/null"), PO_OK);
  po_writer *w = po_writer_new(&out, 1);
  /* larger than a chunk, and aligned for cJSON items */
  unsigned char *big = po_stage_alloc(po_writer_stage(w, 0), 200 * 1024);
  CHECK(big != NULL);
  CHECK_EQ((uintptr_t)big % 16, 0);
  memset(big, 0xab, 200 * 1024);
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 300; i++) {
      char *p = po_stage_alloc(po_writer_stage(w, 0), (size_t)(i % 97) + 1);
      CHECK(p != NULL);
      CHECK_EQ((uintptr_t)p % 16, 0);
      p[0] = 1;
      po_stage_add(po_writer_stage(w, 0), record(w, i)); /* pages are handed over and come back */
    }
  }
  po_stage_submit(po_writer_stage(w, 0));
  po_writer_sync(w);
  CHECK(!po_writer_failed(w));
  CHECK_EQ(po_writer_lost(w), 0);
  po_writer_free(w);
  po_out_close(&out);
}

static void write_errors_are_reported(void)
{
  po_out out;
  if (po_out_open(&out, "/dev/full") != PO_OK) return; /* no /dev/full here */
  po_writer *w = po_writer_new(&out, 1);
  /* more than the sink's buffer, so the thread's writes reach the device */
  for (int i = 0; i < 40000; i++) po_stage_add(po_writer_stage(w, 0), record(w, i));
  po_stage_submit(po_writer_stage(w, 0));
  po_writer_sync(w);
  CHECK(po_writer_failed(w));
  CHECK_EQ(out.err, ENOSPC);
  po_writer_free(w);
  po_out_close(&out);
}

/* {"r":R,"s":S,"k":K} in stage st's page memory. */
static cJSON *tagged(po_stage *st, int r, int s, int k)
{
  cJSON *o = po_stage_alloc(st, 4 * sizeof(cJSON));
  char *text = po_stage_alloc(st, 48);
  if (o == NULL || text == NULL) return NULL;
  memset(o, 0, 4 * sizeof *o);
  o->type = cJSON_Object;
  const char *names[] = { "r", "s", "k" };
  int vals[] = { r, s, k };
  for (int i = 0; i < 3; i++) {
    cJSON *v = &o[i + 1];
    v->type = cJSON_Raw | cJSON_IsReference | cJSON_StringIsConst;
    v->string = (char *)names[i];
    snprintf(text + 16 * i, 16, "%d", vals[i]);
    v->valuestring = text + 16 * i;
    if (i == 0) o->child = v; else { o[i].next = v; v->prev = &o[i]; }
  }
  o->child->prev = &o[3];
  return o;
}

/* Several stages: whatever order the producers staged in, lines come out
 * round by round, and within a round stage by stage. */
static void stages_merge_round_by_round(void)
{
  char path[] = "/tmp/po-test-writer-merge-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  po_out out;
  CHECK_EQ(po_out_open(&out, path), PO_OK);
  enum { S = 3, R = 40 };
  po_writer *w = po_writer_new(&out, S);
  CHECK(w != NULL);
  CHECK_EQ(po_writer_stages(w), S);
  char expect[S * R * 8 * 32] = "";
  size_t elen = 0;
  for (int r = 0; r < R; r++) {
    for (int s = S - 1; s >= 0; s--) { /* the last stage first */
      po_stage *st = po_writer_stage(w, (unsigned)s);
      for (int k = 0; k < (r * 7 + s * 3) % 5; k++) po_stage_add(st, tagged(st, r, s, k));
      po_stage_round(st, r % 10 == 9);
    }
    for (int s = 0; s < S; s++)
      for (int k = 0; k < (r * 7 + s * 3) % 5; k++)
        elen += (size_t)snprintf(expect + elen, sizeof expect - elen, "{\"r\":%d,\"s\":%d,\"k\":%d}\n", r, s, k);
  }
  for (unsigned k = 0; k < S; k++) po_stage_submit(po_writer_stage(w, k));
  po_writer_sync(w);
  po_writer_free(w);
  CHECK_EQ(po_out_flush(&out), PO_OK);
  size_t len;
  char *text = slurp(path, &len);
  CHECK(text != NULL);
  CHECK_EQ(len, elen);
  CHECK(text != NULL && memcmp(text, expect, elen) == 0);
  po_out_close(&out);
  unlink(path);
}

/* A sink whose writes wait while its gate is closed (a stalled NATS server):
 * the writer thread falls behind the producer by whole pages. */
typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int closed;
  char text[1 << 20];
  size_t len;
} gate;

static int gate_write(void *impl, const char *rec, size_t n)
{
  gate *g = impl;
  pthread_mutex_lock(&g->mu);
  while (g->closed) pthread_cond_wait(&g->cv, &g->mu);
  if (g->len + n < sizeof g->text) {
    memcpy(g->text + g->len, rec, n);
    g->len += n;
  }
  pthread_mutex_unlock(&g->mu);
  return PO_OK;
}

static int gate_flush(void *impl) { (void)impl; return PO_OK; }
static void gate_close(void *impl) { (void)impl; }

static void gate_set(gate *g, int closed)
{
  pthread_mutex_lock(&g->mu);
  g->closed = closed;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static int flat_s_line(char *buf, size_t len, int k) { return snprintf(buf, len, "{\"s\":\"r%d\"}\n", k); }

/* A flat record {"s":"r<k>"} made by json.c, as the chains make them. */
static void json_flat(po_json *j, int k)
{
  static const char *const keys[] = { "s" };
  char text[16];
  po_fval *v = po_json_flat(j, keys, 1);
  CHECK(v != NULL);
  if (v == NULL) return;
  snprintf(text, sizeof text, "r%d", k);
  v[0] = (po_fval){ .kind = PO_FV_STRING, .str = text, .len = (uint32_t)strlen(text) };
  CHECK_EQ(po_json_flat_done(j, v), 0);
}

/* A page handed over behind json.c's back (po_stage_submit called directly,
 * not through json.c): the page json.c took its memory from is the thread's
 * then.  Records made after that must not live in that page, which
 * comes back to be filled again while the thread, held up by the sink, has
 * not yet written them (each record once, none lost). */
static void json_after_a_sync_of_the_writer(void)
{
  static gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0 };
  static const po_sink_ops gated = { .scheme = "gate", .write = gate_write, .flush = gate_flush,
                                     .close = gate_close };
  po_out out = { .fd = -1, .ops = &gated, .impl = &g, .name = "gate" };
  po_writer *w = po_writer_new(&out, 1);
  po_json *j = po_json_new();
  CHECK(w != NULL && j != NULL);
  if (w == NULL || j == NULL) return;
  po_json_attach(j, po_writer_stage(w, 0));
  int k = 0;
  json_flat(j, k++);
  po_stage_submit(po_writer_stage(w, 0)); /* the page goes; json.c is not told */
  po_writer_sync(w);
  gate_set(&g, 1);   /* the sink stalls */
  for (int i = 0; i < 3 * 256 + 200; i++) json_flat(j, k++); /* three pages, and the first again */
  gate_set(&g, 0);
  po_json_submit(j);
  po_writer_sync(w);
  po_json_attach(j, NULL);
  g.text[g.len] = 0;
  CHECK_EQ(lines_as(g.text, flat_s_line), k);
  po_json_free(j);
  po_writer_free(w);
}

int main(void)
{
  RUN(json_after_a_sync_of_the_writer);
  RUN(stages_merge_round_by_round);
  RUN(lines_in_order_across_pages);
  RUN(flat_records_between_trees);
  RUN(page_memory);
  RUN(write_errors_are_reported);
  return check_report();
}
