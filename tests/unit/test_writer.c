/* test_writer.c - the writer thread: order across pages, sync, page memory, write errors. */
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

static void lines_in_order_across_pages(void)
{
  int fd = mkstemp(tmpl);
  CHECK(fd >= 0);
  close(fd);
  po_out out;
  CHECK_EQ(po_out_open(&out, tmpl), PO_OK);
  po_writer *w = po_writer_new(&out);
  CHECK(w != NULL);
  enum { N = 3000 }; /* a dozen pages */
  for (int i = 0; i < N; i++) po_writer_add(w, record(w, i));
  po_writer_sync(w);
  CHECK_EQ(po_out_flush(&out), PO_OK);
  size_t len;
  char *text = slurp(tmpl, &len);
  CHECK(text != NULL);
  int n = 0, ok = 1;
  for (char *line = text; line && *line; n++) {
    char want[32];
    int wl = snprintf(want, sizeof want, "{\"i\":%d}\n", n);
    if (strncmp(line, want, (size_t)wl) != 0) { ok = 0; break; }
    line = strchr(line, '\n');
    if (line) line++;
  }
  CHECK(ok);
  CHECK_EQ(n, N);
  /* more after a sync, then free: what was added is written */
  for (int i = N; i < N + 10; i++) po_writer_add(w, record(w, i));
  po_writer_free(w);
  CHECK_EQ(po_out_flush(&out), PO_OK);
  text = slurp(tmpl, &len);
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
  RUN(page_memory);
  RUN(write_errors_are_reported);
  return check_report();
}
