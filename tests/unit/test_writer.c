/* test_writer.c - the writer thread: order across pages, flat records, sync, page memory, write errors. */
#include "po.h"
#include "check.h"

#include <cjson/cJSON.h>
#include <errno.h>
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
  cJSON *o = po_writer_alloc(w, sizeof(cJSON));
  cJSON *v = po_writer_alloc(w, sizeof(cJSON));
  char *text = po_writer_alloc(w, 16);
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
  po_flat *f = po_writer_alloc(w, sizeof *f + 2 * sizeof f->v[0]);
  char *text = po_writer_alloc(w, 16);
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
  po_writer *w = po_writer_new(out);
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
    if (i % 3 == 0) po_writer_add(w, record(w, i));
    else po_writer_add_flat(w, flat(w, i * 1000)); /* beyond the shared small numbers */
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
  for (int i = 0; i < N; i++) po_writer_add(w, record(w, i));
  po_writer_sync(w);
  CHECK_EQ(written_lines(&out, tmpl, plain_line), N);
  /* more after a sync, then free: what was added is written */
  for (int i = N; i < N + 10; i++) po_writer_add(w, record(w, i));
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
  po_writer *w = po_writer_new(&out);
  /* larger than a chunk, and aligned for cJSON items */
  unsigned char *big = po_writer_alloc(w, 200 * 1024);
  CHECK(big != NULL);
  CHECK_EQ((uintptr_t)big % 16, 0);
  memset(big, 0xab, 200 * 1024);
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 300; i++) {
      char *p = po_writer_alloc(w, (size_t)(i % 97) + 1);
      CHECK(p != NULL);
      CHECK_EQ((uintptr_t)p % 16, 0);
      p[0] = 1;
      po_writer_add(w, record(w, i)); /* pages are handed over and come back */
    }
  }
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
  po_writer *w = po_writer_new(&out);
  /* more than the sink's buffer, so the thread's writes reach the device */
  for (int i = 0; i < 40000; i++) po_writer_add(w, record(w, i));
  po_writer_sync(w);
  CHECK(po_writer_failed(w));
  CHECK_EQ(out.err, ENOSPC);
  po_writer_free(w);
  po_out_close(&out);
}

int main(void)
{
  RUN(lines_in_order_across_pages);
  RUN(flat_records_between_trees);
  RUN(page_memory);
  RUN(write_errors_are_reported);
  return check_report();
}
