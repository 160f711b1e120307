/* stdguard.c - keeps what libraries print to standard output out of the records: once each on stderr. */
#include "po.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* libtrace 3 prints diagnostics with printf() ("Unknown ARPHRD 00000212" for
 * every packet of some captures).  The records go to a private copy of the
 * standard output descriptor; descriptor 1 becomes a pipe that a thread reads,
 * passing each distinct line on once, and how often it came at the end. */

enum { MAX_LINES = 256, LINE_MAX_ = 512 };

typedef struct seen_line {
  char text[LINE_MAX_];
  uint64_t count;
} seen_line;

static struct {
  int on, rec_fd, rd;
  pthread_t thread;
  po_diag_fn diag;
  void *ud;
  seen_line *lines;
  unsigned nlines;
  uint64_t others;             /* lines past MAX_LINES distinct ones */
} g = { .rec_fd = 1, .rd = -1 };

int po_stdout_fd(void) { return g.rec_fd; }

int po_stdout_names(const char *path)
{
  struct stat a, b;
  return g.on && stat(path, &a) == 0 && fstat(1, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

static void took(const char *line)
{
  if (line[0] == 0) return;
  for (unsigned i = 0; i < g.nlines; i++)
    if (strcmp(g.lines[i].text, line) == 0) {
      g.lines[i].count++;
      return;
    }
  char msg[LINE_MAX_ + 32];
  if (g.nlines == MAX_LINES) {
    if (g.others++ == 0) g.diag(g.ud, "libtrace: more distinct lines on standard output; counting the rest");
    return;
  }
  seen_line *s = &g.lines[g.nlines++];
  snprintf(s->text, sizeof s->text, "%s", line);
  s->count = 1;
  snprintf(msg, sizeof msg, "libtrace: %s", line);
  g.diag(g.ud, msg);
}

static void *guard_main(void *arg)
{
  (void)arg;
  char buf[4096], line[LINE_MAX_];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(g.rd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; i++) {
      char c = buf[i];
      if (c == '\n') {
        line[len] = 0;
        took(line);
        len = 0;
      } else if (len < sizeof line - 1) {
        line[len++] = (c == '\r' || c == 0) ? ' ' : c;
      }
    }
  }
  if (len > 0) {
    line[len] = 0;
    took(line);
  }
  return NULL;
}

int po_stdguard_start(po_diag_fn diag, void *ud)
{
  if (g.on) return PO_OK;
  int rec = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (rec < 0) return PO_OK; /* no standard output: nothing to keep clean */
  int p[2];
  g.lines = calloc(MAX_LINES, sizeof *g.lines);
  if (g.lines == NULL || pipe2(p, O_CLOEXEC) != 0) {
    free(g.lines);
    g.lines = NULL;
    close(rec);
    return PO_ENOMEM;
  }
  fflush(stdout);
  if (dup2(p[1], 1) < 0) {
    close(p[0]), close(p[1]), close(rec);
    free(g.lines);
    g.lines = NULL;
    return PO_ENOMEM;
  }
  close(p[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  g.rd = p[0];
  g.diag = diag;
  g.ud = ud;
  g.rec_fd = rec;
  if (pthread_create(&g.thread, NULL, guard_main, NULL) != 0) {
    dup2(rec, 1);
    close(rec);
    close(g.rd);
    g.rec_fd = 1;
    free(g.lines);
    g.lines = NULL;
    return PO_ENOMEM;
  }
  g.on = 1;
  return PO_OK;
}

void po_stdguard_stop(void)
{
  if (!g.on) return;
  g.on = 0;
  fflush(stdout);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) { /* the pipe's last writer goes: the thread reads to its end */
    dup2(null, 1);
    close(null);
  } else {
    close(1);
  }
  /* A process a chain started (os.execute("x &")) may hold the pipe open and
   * keep it from ending: give the thread a moment, then leave it (and what it
   * uses) to the end of the process, without the summary. */
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += 300 * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  if (pthread_timedjoin_np(g.thread, NULL, &until) != 0) {
    pthread_detach(g.thread);
    return;
  }
  close(g.rd);
  char msg[LINE_MAX_ + 64];
  for (unsigned i = 0; i < g.nlines; i++)
    if (g.lines[i].count > 1) {
      snprintf(msg, sizeof msg, "libtrace: %s (%llu times)", g.lines[i].text,
               (unsigned long long)g.lines[i].count);
      g.diag(g.ud, msg);
    }
  if (g.others > 0) {
    snprintf(msg, sizeof msg, "libtrace: %llu more lines not shown", (unsigned long long)g.others);
    g.diag(g.ud, msg);
  }
  free(g.lines);
  g.lines = NULL;
  g.nlines = 0;
  g.others = 0;
  /* the records' descriptor stays: po_out may still be writing to it */
}
