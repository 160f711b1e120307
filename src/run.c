/* run.c - the libuv loop: reads sources, feeds observer and Lua, timers, signals, hot reload. */
#include "po.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

enum {
  SLICE = 8192,          /* packets read per loop iteration before signals are served */
  MAX_FILES = 256,       /* watched files */
  SETTLE_MS = 150,       /* quiet time after a file event before reloading */
  READ_AHEAD = 1024,     /* packets the reader thread may hold ahead of the loop */
};

typedef char path_t[4096];

static atomic_int opening;     /* the loop thread is in po_source_open, which can block */

typedef struct seen_file {     /* a watched file as it was before a load */
  char *path;
  struct stat st;
  int ok;                      /* stat() succeeded */
} seen_file;

typedef struct watch {
  uv_fs_event_t h;             /* first: the handle's address is the struct's */
  path_t dir;
} watch;

typedef struct app {
  const po_run_opts *o;
  uv_loop_t loop;
  uv_idle_t idle;              /* file sources: read a slice per iteration */
  uv_poll_t poll;              /* live sources: read when the descriptor is readable */
  uv_timer_t tick;             /* live sources: wall clock and output flush, every second */
  uv_timer_t stats_timer;      /* --stats-interval */
  uv_timer_t settle;           /* --watch: reload once the editor is done */
  uv_signal_t sighup;
  uv_async_t async;            /* the reader thread has packets again */
  uv_async_t stop;             /* SIGINT or SIGTERM came (see signal_main) */
  pthread_t sig_thread;
  int sig_thread_on;
  watch *watch[MAX_FILES];     /* one per folder holding a watched file */
  int nwatch;
  path_t files[MAX_FILES];     /* scripts and the modules they loaded */
  int nfiles;
  seen_file seen[2 * MAX_FILES]; /* the scripts and files[] before the current load */
  int nseen;
  struct timespec load_start;  /* when it began, on the clock of file times */

  po_host *host;
  po_source *src;
  po_reader *rd;               /* file sources: reads ahead on the other core */
  po_observer *obs;            /* one worker: the flows, on this thread */
  po_pool *pool;               /* -j N, N > 1: the workers (then obs is NULL) */
  po_writer *writer;           /* the writer thread of the current run */
  po_out out;
  po_stats st;                 /* counters of the current or last run */
  int running, live, poll_on, poll_fd;
  int stopped, status, ever_opened, reported, out_open;
  int flush_failed;            /* a po_out_flush of the loop's own failed */
  int undelivered;             /* the sink could not deliver some record: exit 1 */
  unsigned held;           /* packets taken since the reader's ring was last released */
  int stream;                  /* a pipe, a FIFO, a device: flushed every second, like live */
  double wall_start;           /* when the current run began reading (--stats) */
  int halting;                 /* --strict: a chain error came; the run stops */
  uint64_t chain_failures;     /* chain errors of the last run, interruptions aside */
  int runs;                    /* runs started (--watch re-runs the capture) */
  int never_loaded;            /* --watch: the chains have not loaded yet */
} app;

static void say(app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(app *a, const char *fmt, ...)
{
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  a->o->diag(a->o->ud, msg);
}

static void close_handle(uv_handle_t *h)
{
  if (h->loop != NULL && !uv_is_closing(h)) uv_close(h, NULL);
}

/* ---- counters ---------------------------------------------------------- */

static void snapshot(app *a)
{
  if (a->obs == NULL && a->pool == NULL) return;
  if (a->pool != NULL) po_pool_stats(a->pool, &a->st);
  else a->st = *po_obs_stats(a->obs);
  if (a->src != NULL && a->rd == NULL) a->st.dropped = po_source_dropped(a->src);
  po_sink_counts c;
  if (a->out_open && po_out_counts(&a->out, &c)) {
    a->st.sink_counted = 1;
    a->st.published = c.published;
    a->st.acked = c.acked;
    a->st.retried = c.retried;
    a->st.undelivered = c.undelivered;
  }
}

static double wall_seconds(void)
{
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void flush_output(app *a);

static void write_stats_file(app *a)
{
  po_stats_run run = { a->o->source, a->wall_start, wall_seconds() };
  char *json = po_stats_json(&a->st, &run);
  char tmp[4200];
  /* Replace a regular file by renaming a complete one over it (readers never see half
   * a file); write anything else in place: renaming over /dev/stdout, /dev/full, a FIFO
   * or a symbolic link would put a regular file there (as root, in /dev). */
  struct stat st;
  int in_place = lstat(a->o->stats_file, &st) == 0 && !S_ISREG(st.st_mode);
  snprintf(tmp, sizeof tmp, "%s%s", a->o->stats_file, in_place ? "" : ".tmp");
  /* fd 1 is stdguard.c's pipe: standard output by name is the records' descriptor */
  int to_stdout = po_stdout_names(a->o->stats_file);
  if (to_stdout) flush_output(a); /* the records so far first */
  FILE *f = !json ? NULL : to_stdout ? fdopen(dup(po_stdout_fd()), "w") : fopen(tmp, "w");
  int bad = f == NULL || fprintf(f, "%s\n", json) < 0;
  if (f != NULL && fclose(f) != 0) bad = 1;
  if (!bad && !in_place && rename(tmp, a->o->stats_file) != 0) bad = 1;
  if (bad) {
    say(a, "cannot write %s: %s", a->o->stats_file, strerror(errno));
    if (a->status == 0) a->status = 1;
  }
  free(json);
}

/* At the end of a run: the counters line (unless -q) and --stats FILE.
 * Periodically (--stats-interval): the file when there is one, else the line. */
static void report_stats(app *a, int final)
{
  int file = a->o->stats_file != NULL;
  if (final) a->reported = 1;
  if (file) write_stats_file(a);
  if (final ? !a->o->quiet : !file) {
    char line[512];
    po_stats_line(&a->st, line, sizeof line);
    say(a, "%s", line);
  }
}

/* ---- one run over the source ---------------------------------------------- */

static void stop_all(app *a, int status);
static int stop_requested(void);

static void dispatch(app *a)
{
  if (a->pool != NULL) {
    po_pool_cut(a->pool, 0);
  } else {
    if (a->obs == NULL) return;
    po_host_run_batch(a->host);
    if (a->rd != NULL) po_reader_release(a->rd); /* the batch no longer points into them */
    a->held = 0;
  }
  if (a->o->strict && !a->halting &&
      (a->pool != NULL ? po_pool_failed(a->pool) : po_host_failed(a->host))) {
    /* --strict: stop at the first chain error, as after a signal: records written */
    a->halting = 1;
    say(a, "stopping at the first chain error (--strict)");
    uv_async_send(&a->stop);
  }
}

/* Stop the reader thread, then close the source it reads. */
static void close_source(app *a)
{
  if (a->rd != NULL && !po_reader_stop(a->rd)) a->src = NULL; /* stuck in a read: leave it */
  a->rd = NULL;
  po_source_close(a->src);
  a->src = NULL;
}

/* Every record so far out of the writer thread (it is idle after this). */
static void sync_writer(app *a)
{
  if (a->writer == NULL) return;
  po_writer_sync(a->writer);
  uint64_t lost = po_writer_lost(a->writer);
  if (lost > 0)
    say(a, "%llu record%s not written: a line over 1 GiB of JSON, or no memory to print it",
        (unsigned long long)lost, lost == 1 ? "" : "s");
}

/* Every record so far out of the writer thread and the sink's buffer.  With
 * workers, only once they are done (the writer flushes on its own while
 * they run: po_pool_tick, po_pool_cut). */
static void flush_output(app *a)
{
  if (a->pool != NULL) return;
  sync_writer(a);
  if (po_out_flush(&a->out) != PO_OK) a->flush_failed = 1;
}

/* A reader that went away (pathobs x.pcap | head -1) is not a failure: stop
 * reading, quietly, with status 0, as tcpdump, tshark and jq do. */
static int out_status(const app *a) { return a->out.err == EPIPE ? 0 : 1; }

static int output_failed(app *a)
{
  if (!a->flush_failed && (a->writer == NULL || !po_writer_failed(a->writer))) return 0;
  if (a->pool != NULL) { /* the workers end first: then the writer is done with out */
    po_pool_finish(a->pool);
    po_pool_stats(a->pool, &a->st);
  }
  sync_writer(a); /* the writer thread is done with out */
  if (!a->out.err) return 0;
  if (a->out.err != EPIPE) say(a, "write error on %s: %s", a->out.name, strerror(a->out.err));
  a->out.len = 0; /* what is left cannot be written */
  return 1;
}

/* Frames were read but not one was IP: most likely a link layer pathobs
 * cannot decode, which would otherwise look like an empty capture. */
static void warn_no_ip(app *a)
{
  if (a->src == NULL || a->st.packets == 0 || a->st.non_ip != a->st.packets) return;
  char lt[128];
  po_source_describe_link(a->src, lt, sizeof lt);
  say(a, "warning: no IP packet in %llu frame%s (link type %s)", (unsigned long long)a->st.packets,
      a->st.packets == 1 ? "" : "s", lt);
}

/* The run's flows, chains and writer go (what was staged is written). */
static void free_workers(app *a)
{
  po_pool_free(a->pool);
  a->pool = NULL;
  if (a->obs != NULL) po_host_bind(a->host, NULL, NULL, NULL);
  po_obs_free(a->obs);
  a->obs = NULL;
  po_writer_free(a->writer);
  a->writer = NULL;
}

/* End of the input (or a stop): write every record, keep the counters. */
static void end_run(app *a)
{
  if (!a->running) return;
  a->running = 0;
  dispatch(a);
  if (a->pool != NULL) {
    po_pool_finish(a->pool); /* every worker writes its flows */
    sync_writer(a);
    if (po_out_flush(&a->out) != PO_OK) a->flush_failed = 1;
    a->chain_failures = po_pool_error_report(a->pool);
  } else {
    po_obs_flush(a->obs);
    po_host_flush(a->host);
    flush_output(a);
    a->chain_failures = po_host_error_report(a->host);
  }
  po_out_finish(&a->out, a->o->sink.drain_ms); /* a sink that awaits acknowledgements */
  if (a->rd != NULL && !po_reader_stop(a->rd)) a->src = NULL; /* stuck in a read: leave it */
  a->rd = NULL;
  snapshot(a);
  if (a->st.undelivered > 0) {
    say(a, "%llu record%s not delivered to %s", (unsigned long long)a->st.undelivered,
        a->st.undelivered == 1 ? "" : "s", a->out.name);
    a->undelivered = 1;
  }
  warn_no_ip(a);
  uv_idle_stop(&a->idle);
  if (a->poll_on) {
    uv_poll_stop(&a->poll);
    close_handle((uv_handle_t *)&a->poll);
    a->poll_on = 0;
  }
  uv_timer_stop(&a->tick);
  free_workers(a);
  close_source(a);
}

/* Drop the current run without writing anything (a re-run replaces it). */
static void abort_run(app *a)
{
  if (!a->running) return;
  a->running = 0;
  uv_idle_stop(&a->idle);
  po_host_reset(a->host);
  free_workers(a);
  close_source(a);
}

/* One packet into the observer (a malformed one is only counted); hand the
 * batch to Lua when it must be. */
static void take(app *a, double ts, uint16_t et, const uint8_t *l3, uint32_t cap, int malformed)
{
  if (a->pool != NULL) {
    po_hdr h[2];
    int rc = malformed ? PO_EMALFORM : po_obs_decode(et, l3, cap, h);
    if (rc == PO_OK) po_decode_wire(&h[0], po_source_l3_wire(a->src));
    po_pool_frame(a->pool, ts, rc, h, NULL, po_source_link(a->src));
    return;
  }
  if (po_obs_must_cut(a->obs, ts)) dispatch(a);
  unsigned n0, n;
  po_pkt *b = po_obs_batch(a->obs, &n0);
  if (malformed) {
    po_obs_decoded(a->obs, ts, PO_EMALFORM, NULL, NULL);
  } else { /* po_obs_packet, with the IP length on the wire for BIG TCP cut by a snap length */
    int rc = po_obs_decode(et, l3, cap, b[n0].h);
    if (rc == PO_OK) po_decode_wire(&b[n0].h[0], po_source_l3_wire(a->src));
    po_obs_decoded(a->obs, ts, rc, NULL, NULL);
  }
  po_obs_batch(a->obs, &n);
  if (n > n0) po_link_batch_set(n0, n, po_source_link(a->src));
  /* the source keeps the last batch_size + 2 packets (live: no read-ahead),
   * whether or not they made a batch entry */
  if (po_obs_batch_full(a->obs) || ++a->held >= a->o->cfg.batch_size) dispatch(a);
}

static void input_ended(app *a, int rc, const char *why)
{
  int status = 0;
  char err[512];
  snprintf(err, sizeof err, "%s", why); /* the reader that holds it stops below */
  if (rc == PO_EFILTER) {
    say(a, "%s", err);
    a->ever_opened = 0; /* a usage error: no counters */
    abort_run(a);
    stop_all(a, 2);
    return;
  }
  end_run(a);
  if (rc < 0) {
    /* what was read is written; then say why the input ended */
    say(a, "%s: %s", a->o->source, err);
    status = 1;
  }
  if (output_failed(a) && status == 0) status = out_status(a);
  if (a->o->watch && !a->live && status == 0) {
    report_stats(a, 1);
    say(a, "watching %d file%s for changes (Ctrl-C to stop)", a->nfiles, a->nfiles == 1 ? "" : "s");
    return;
  }
  stop_all(a, status);
}

static void on_idle(uv_idle_t *h)
{
  app *a = h->data;
  for (int k = 0; k < SLICE && a->running && !a->halting; k++) {
    const po_rpkt *e = po_reader_peek(a->rd);
    if (e == NULL) {
      uv_idle_stop(&a->idle); /* nothing read yet: sleep until the reader wakes us */
      return;
    }
    if (e->rc <= 0) {
      int rc = e->rc;
      po_reader_next(a->rd);
      input_ended(a, rc, po_reader_error(a->rd));
      return;
    }
    if (a->pool != NULL) { /* the packet is copied: its entry is free at once */
      po_hdr h[2];
      memcpy(h, e->h, sizeof h);
      po_pool_frame(a->pool, e->ts, e->decoded, h, e->decoded == PO_OK ? &e->fk : NULL, &e->link);
      po_reader_next(a->rd);
      po_reader_release(a->rd);
      if (po_writer_failed(a->writer) || (a->o->strict && po_pool_failed(a->pool))) break;
      continue;
    }
    if (po_obs_must_cut(a->obs, e->ts)) dispatch(a);
    unsigned n0, n;
    po_obs_batch(a->obs, &n0);
    po_obs_decoded(a->obs, e->ts, e->decoded, e->h, e->decoded == PO_OK ? &e->fk : NULL);
    po_obs_batch(a->obs, &n);
    if (n > n0) po_link_batch_set(n0, n, &e->link); /* pathobs.link reads it by entry */
    po_reader_next(a->rd);
    /* Packets that make no batch entry (non-IP, short, unmatched fragments, ignored
     * flows) must not keep the reader's ring: with READ_AHEAD of them in a row it
     * waits for a release that only a dispatch would give, and the loop waits for it. */
    if (n == 0) po_reader_release(a->rd); /* nothing points into the taken entries */
    else if (po_obs_batch_full(a->obs) || ++a->held >= READ_AHEAD / 2) dispatch(a);
    if (po_writer_failed(a->writer)) break;
  }
  if (a->pool != NULL && a->running && a->o->strict && !a->halting) dispatch(a); /* --strict */
  if (output_failed(a)) {
    end_run(a);
    stop_all(a, out_status(a));
  }
}

static void wake_loop(void *ud) { uv_async_send(&((app *)ud)->async); }

static void on_async(uv_async_t *h)
{
  app *a = h->data;
  if (a->rd == NULL || !a->running) return;
  po_reader_woken(a->rd);
  uv_idle_start(&a->idle, on_idle);
}

static void on_readable(uv_poll_t *h, int status, int events);

/* Read what the live source has now; (re)arm the poll on its descriptor. */
static void pump(app *a)
{
  char err[512];
  for (int k = 0; k < SLICE && a->running && !a->halting; k++) {
    double ts;
    uint16_t et;
    const uint8_t *l3;
    uint32_t cap;
    int fd = -1;
    int rc = po_source_poll(a->src, &ts, &et, &l3, &cap, &fd, err, sizeof err);
    if (rc == PO_SRC_PACKET || rc == PO_SRC_MALFORMED) {
      take(a, ts, et, l3, cap, rc == PO_SRC_MALFORMED);
      continue;
    }
    if (rc == PO_SRC_SKIP) continue;
    if (rc == PO_SRC_WAIT) {
      if (fd >= 0 && (!a->poll_on || fd != a->poll_fd)) {
        if (a->poll_on) {
          uv_poll_stop(&a->poll);
          close_handle((uv_handle_t *)&a->poll);
          a->poll_on = 0;
          break; /* the old handle closes first; the tick re-arms */
        }
        uv_poll_init(&a->loop, &a->poll, fd);
        a->poll.data = a;
        uv_poll_start(&a->poll, UV_READABLE, on_readable);
        a->poll_on = 1;
        a->poll_fd = fd;
      }
      break;
    }
    input_ended(a, rc == PO_SRC_END ? 0 : rc, err);
    return;
  }
  dispatch(a); /* on a live link, records do not wait for a full batch */
  if (output_failed(a)) {
    end_run(a);
    stop_all(a, out_status(a));
  }
}

static void on_readable(uv_poll_t *h, int status, int events)
{
  (void)events;
  app *a = h->data;
  if (status < 0) {
    say(a, "%s: %s", a->o->source, uv_strerror(status));
    end_run(a);
    stop_all(a, 1);
    return;
  }
  pump(a);
}

/* Live: move the packet clock with the wall clock, so that idle flows are
 * written on a quiet link, and flush the output at least once a second. */
static void on_tick(uv_timer_t *h)
{
  app *a = h->data;
  if (!a->running) return;
  pump(a);
  if (!a->running) return;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  if (a->pool != NULL) {
    po_pool_tick(a->pool, (double)tv.tv_sec + tv.tv_usec / 1e6); /* and the writer flushes */
  } else {
    po_obs_advance(a->obs, (double)tv.tv_sec + tv.tv_usec / 1e6);
    po_host_flush(a->host);
    flush_output(a);
  }
  if (output_failed(a)) {
    end_run(a);
    stop_all(a, out_status(a));
  }
}

/* A pipe or FIFO (tcpdump -U -w - | pathobs -): the records so far out at
 * least once a second, as on a live link.  The packet clock stays the
 * packets' own (a replayed capture is not the wall clock), so idle flows are
 * written when a later packet or the end moves it on. */
static void on_stream_tick(uv_timer_t *h)
{
  app *a = h->data;
  if (!a->running) return;
  if (a->pool != NULL) {
    po_pool_cut(a->pool, 1); /* the writer flushes once the workers are done with it */
  } else {
    dispatch(a);
    po_host_flush(a->host);
    flush_output(a);
  }
  if (output_failed(a)) {
    end_run(a);
    stop_all(a, out_status(a));
  }
}

static void on_stats_timer(uv_timer_t *h)
{
  app *a = h->data;
  if (!a->running) return;
  snapshot(a);
  report_stats(a, 0);
}

static int open_output(app *a)
{
  if (a->out_open) po_out_close(&a->out);
  a->out_open = 0;
  a->flush_failed = 0;
  po_sink_opts so = a->o->sink;
  so.diag = a->o->diag;
  so.ud = a->o->ud;
  char err[1024];
  int rc = po_out_open_sink(&a->out, a->o->output, &so, err, sizeof err);
  if (rc != PO_OK) {
    if (po_sink_find(a->o->output) != NULL) say(a, "cannot open %s", err);
    else say(a, "cannot write %s: %s", a->o->output, err);
    po_out_close(&a->out);
    return rc == PO_EUSAGE ? PO_EUSAGE : PO_EWRITE; /* a URI without a subject is a usage error */
  }
  a->out_open = 1;
  return PO_OK;
}

static int start_run(app *a)
{
  char err[512];
  atomic_store(&opening, 1);
  int rc = po_source_open(&a->src, a->o->source, a->o->filter,
                          a->o->cfg.batch_size + 2, READ_AHEAD, a->o->buffer_kib, err, sizeof err);
  atomic_store(&opening, 0);
  if (rc == PO_EFILTER) {
    say(a, "%s", err); /* a usage error: the expression, not the source */
    return rc;
  }
  if (rc != PO_OK) {
    say(a, "cannot open %s: %s", a->o->source, err);
    return rc;
  }
  unsigned nw = a->o->workers > 1 ? a->o->workers : 1;
  a->writer = po_writer_new(&a->out, nw);
  int made = a->writer != NULL ? PO_OK : PO_ENOMEM;
  if (made == PO_OK && nw > 1) {
    po_pool_setup ps = { .workers = nw, .cfg = a->o->cfg, .dirs = a->o->dirs, .ndirs = a->o->ndirs,
                         .scripts = a->o->scripts, .nscripts = a->o->nscripts, .strict = a->o->strict,
                         .chain_timeout = a->o->chain_timeout, .diag = a->o->diag, .ud = a->o->ud };
    made = po_pool_new(&a->pool, &ps, a->writer, err, sizeof err);
    if (made != PO_OK && made != PO_ENOMEM) say(a, "%s", err);
  } else if (made == PO_OK) {
    a->obs = po_obs_new(&a->o->cfg, po_host_emit, a->host);
    if (a->obs == NULL || po_link_batch_reserve(a->o->cfg.batch_size + 2) != PO_OK) made = PO_ENOMEM;
  }
  if (made != PO_OK) {
    free_workers(a);
    if (made == PO_ENOMEM) say(a, "%s", po_strerror(PO_ENOMEM));
    po_source_close(a->src);
    a->src = NULL;
    return made;
  }
  a->ever_opened = 1;
  a->runs++;
  a->reported = 0;
  a->running = 1;
  a->live = po_source_live(a->src);
  a->stream = po_source_is_stream(a->o->source);
  a->wall_start = wall_seconds();
  memset(&a->st, 0, sizeof a->st);
  if (a->live && !a->o->quiet) {
    const char *uri = po_source_uri(a->src), *colon = strchr(uri, ':');
    say(a, "listening on %s (%s); Ctrl-C to stop", colon ? colon + 1 : uri, uri);
  }
  if (a->obs != NULL) po_host_bind(a->host, a->obs, po_writer_stage(a->writer, 0), po_obs_stats(a->obs));
  if (a->live) {
    uv_timer_start(&a->tick, on_tick, 1000, 1000);
    pump(a);
  } else if (po_reader_start(&a->rd, a->src, READ_AHEAD, wake_loop, a) != PO_OK) {
    say(a, "cannot start the reader thread");
    a->running = 0;
    return PO_ENOMEM;
  } else {
    uv_idle_start(&a->idle, on_idle);
    if (a->stream) uv_timer_start(&a->tick, on_stream_tick, 1000, 1000);
  }
  return PO_OK;
}

/* ---- watching and reloading ------------------------------------------------ */

static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status);

static void collect_files(app *a)
{
  a->nfiles = 0;
  for (int i = 0; i < a->o->nscripts && a->nfiles < MAX_FILES; i++) {
    char *r = realpath(a->o->scripts[i], NULL);
    snprintf(a->files[a->nfiles++], sizeof(path_t), "%s", r ? r : a->o->scripts[i]);
    free(r);
  }
  static path_t mods[MAX_FILES];
  int n = po_host_module_files(a->host, mods, MAX_FILES);
  for (int i = 0; i < n && a->nfiles < MAX_FILES; i++) {
    char *r = realpath(mods[i], NULL);
    if (r == NULL) continue;
    int dup = 0;
    for (int k = 0; k < a->nfiles; k++) dup |= strcmp(a->files[k], r) == 0;
    if (!dup) snprintf(a->files[a->nfiles++], sizeof(path_t), "%s", r);
    free(r);
  }
}

static void free_watch(uv_handle_t *h) { free(h); }

/* Watch the folders of the files: an editor that saves by writing a new file
 * and renaming it over the old one replaces the inode a file watch holds. */
static void arm_watches(app *a)
{
  for (int i = 0; i < a->nwatch; i++) uv_close((uv_handle_t *)&a->watch[i]->h, free_watch);
  a->nwatch = 0;
  collect_files(a);
  for (int i = 0; i < a->nfiles && a->nwatch < MAX_FILES; i++) {
    path_t dir;
    snprintf(dir, sizeof dir, "%s", a->files[i]);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) continue;
    *slash = 0;
    int seen = 0;
    for (int k = 0; k < a->nwatch; k++) seen |= strcmp(a->watch[k]->dir, dir) == 0;
    if (seen) continue;
    watch *w = calloc(1, sizeof *w);
    if (w == NULL) break;
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    uv_fs_event_init(&a->loop, &w->h);
    w->h.data = a;
    int rc = uv_fs_event_start(&w->h, on_fs_event, dir, 0);
    if (rc != 0) {
      say(a, "cannot watch %s: %s", dir, uv_strerror(rc));
      uv_close((uv_handle_t *)&w->h, free_watch);
      continue;
    }
    a->watch[a->nwatch++] = w;
  }
}

/* ---- saves made while the scripts load ----
 * No watch sees them: the loop, which would take the events, does not run
 * during a load, and arm_watches closes the old watches (their queued events
 * go with them) before it starts new ones.  So each file is noted before the
 * load and looked at again once the new watches are armed. */

static void forget_files(app *a)
{
  for (int i = 0; i < a->nseen; i++) free(a->seen[i].path);
  a->nseen = 0;
}

static void note_file(app *a, const char *path)
{
  if (a->nseen >= 2 * MAX_FILES) return;
  seen_file *f = &a->seen[a->nseen];
  if ((f->path = strdup(path)) == NULL) return;
  f->ok = stat(path, &f->st) == 0;
  a->nseen++;
}

static void before_load(app *a)
{
  forget_files(a);
  /* the kernel stamps files with the coarse clock: read the same one */
  clock_gettime(CLOCK_REALTIME_COARSE, &a->load_start);
  for (int i = 0; i < a->o->nscripts; i++) {
    char *r = realpath(a->o->scripts[i], NULL);
    note_file(a, r ? r : a->o->scripts[i]);
    free(r);
  }
  for (int i = 0; i < a->nfiles; i++) note_file(a, a->files[i]); /* the modules of the last load */
}

static int same_time(struct timespec x, struct timespec y)
{
  return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
}

/* Did a watched file change since before_load?  A file noted then must be the
 * same file with the same size and times; one that was not (a module required
 * for the first time) must not have changed since the load began. */
static int changed_while_loading(app *a)
{
  for (int i = 0; i < a->nfiles; i++) {
    struct stat st;
    int ok = stat(a->files[i], &st) == 0;
    const seen_file *f = NULL;
    for (int k = 0; k < a->nseen && f == NULL; k++)
      if (strcmp(a->seen[k].path, a->files[i]) == 0) f = &a->seen[k];
    if (f != NULL) {
      if (ok != f->ok) return 1;
      if (ok && (st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino ||
                 st.st_size != f->st.st_size || !same_time(st.st_mtim, f->st.st_mtim) ||
                 !same_time(st.st_ctim, f->st.st_ctim)))
        return 1;
    } else if (ok && (st.st_ctim.tv_sec > a->load_start.tv_sec ||
                      (st.st_ctim.tv_sec == a->load_start.tv_sec &&
                       st.st_ctim.tv_nsec > a->load_start.tv_nsec))) {
      return 1;
    }
  }
  return 0;
}

static void on_settled(uv_timer_t *h);

/* After a load: watch the files it read; reload again if one changed meanwhile. */
static void rearm(app *a)
{
  if (!a->o->watch) { /* a SIGHUP reload of a live capture: no file watches */
    forget_files(a);
    return;
  }
  arm_watches(a);
  if (changed_while_loading(a)) uv_timer_start(&a->settle, on_settled, SETTLE_MS, 0);
  forget_files(a);
}

static void reload(app *a)
{
  char err[2048];
  if (a->stopped) return;
  before_load(a);
  if (a->live && a->running) {
    /* between two batches: no packet sees a mix of old and new chains */
    dispatch(a);
    if (po_host_reload(a->host, a->o->scripts, a->o->nscripts, err, sizeof err) != PO_OK) {
      say(a, "%s", err);
      say(a, "reload refused; the previous chains keep running");
      return;
    }
    if (a->pool != NULL) po_pool_reload(a->pool); /* each worker, before its next packet */
    say(a, "chains reloaded; flows from now on run the new chains, those already open end under the old ones");
  } else {
    po_host *h = po_host_new(a->o->dirs, a->o->ndirs, a->o->diag, a->o->ud);
    if (h == NULL) {
      say(a, "cannot start a new Lua state for the reload");
      return;
    }
    po_host_set_strict(h, a->o->strict);
    po_host_set_timeout(h, a->o->chain_timeout);
    if (po_host_load(h, a->o->scripts, a->o->nscripts, err, sizeof err) != PO_OK) {
      say(a, "%s", err);
      say(a, "reload refused; waiting for the next change");
      po_host_free(h);
      return;
    }
    if (stop_requested()) { /* a signal came while loading: keep the output as it is */
      po_host_free(h);
      return;
    }
    abort_run(a);
    po_host_free(a->host);
    a->host = h;
    if (open_output(a) != PO_OK) {
      stop_all(a, 1);
      return;
    }
    if (a->never_loaded) {
      a->never_loaded = 0;
      say(a, "chains loaded; running %s", a->o->source);
    } else {
      say(a, "chains reloaded; running %s again", a->o->source);
    }
    struct stat ost;
    int truncated = a->o->output != NULL && strcmp(a->o->output, "-") != 0 &&
                    stat(a->o->output, &ost) == 0 && S_ISREG(ost.st_mode);
    if (a->runs > 0 && !truncated && a->out.ops == NULL) {
      /* a line jq users can filter on: the records of a new run follow the
       * previous run's (a regular -o file starts again instead; in a NATS
       * stream every message is a record, and a re-run has a run ID of its own) */
      char mark[64];
      int len = snprintf(mark, sizeof mark, "{\"pathobs_run\":%d,\"reason\":\"reload\"}\n", a->runs + 1);
      po_out_write(&a->out, mark, (size_t)len);
    }
    if (start_run(a) != PO_OK) {
      stop_all(a, 1);
      return;
    }
  }
  rearm(a);
}

static void on_settled(uv_timer_t *h) { reload(h->data); }

static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
  (void)events;
  app *a = h->data;
  if (status < 0 || name == NULL) return;
  char dir[4096];
  size_t len = sizeof dir;
  if (uv_fs_event_getpath(h, dir, &len) != 0) return;
  char full[8300];
  snprintf(full, sizeof full, "%.*s/%s", (int)len, dir, name);
  for (int i = 0; i < a->nfiles; i++)
    if (strcmp(a->files[i], full) == 0) {
      uv_timer_start(&a->settle, on_settled, SETTLE_MS, 0);
      return;
    }
}

/* ---- signals and the whole run ------------------------------------------------- */

/* SIGINT and SIGTERM are blocked in every thread and taken here, not by a
 * libuv handler: that one only writes to a pipe the loop reads, and the loop
 * thread also runs the chains, so a chain that never returns would leave the
 * process deaf to them.  The first signal asks the loop to stop cleanly (every
 * record written); a second, while it has not finished, exits at once. */
static sigset_t stop_signals;
static atomic_int signals_seen;
static atomic_int signal_thread_quit;

/* A stop was asked for: whatever is starting (a load, a source to open) need not. */
static int stop_requested(void) { return atomic_load(&signals_seen) > 0; }

static double monotonic_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first SIGINT/SIGTERM asks for the clean stop; one that comes a second
 * or more later exits at once.  Copies within that second are the same
 * request: coreutils' timeout signals pathobs and then its process group, and
 * a shell's Ctrl-C reaches every process of a pipeline. */
static void *signal_main(void *arg)
{
  app *a = arg;
  double first = 0;
  for (;;) {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) != 0) continue;
    if (atomic_load(&signal_thread_quit)) return NULL; /* stop_signal_thread woke us */
    if (atomic_fetch_add(&signals_seen, 1) == 0) {
      first = monotonic_seconds();
      po_out_interrupt(&a->out); /* a sink waiting for room waits no longer */
      if (atomic_load(&opening)) {
        /* blocked opening the source (a FIFO without a writer, a quiet pipe):
         * nothing has been read, so no record exists and the stop is done */
        static const char msg[] = "pathobs: stopped while opening the source: nothing was read\n";
        if (!a->o->quiet) {
          ssize_t w = write(2, msg, sizeof msg - 1);
          (void)w;
        }
        _exit(0);
      }
      po_host_interrupt(); /* a chain in an endless loop raises at its next iteration */
      uv_async_send(&a->stop);
      continue;
    }
    if (monotonic_seconds() - first < 1.0) continue;
    static const char msg[] = "pathobs: second signal: exiting at once; records not written yet are lost\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(128 + sig);
  }
  return NULL;
}

/* Not pthread_cancel: write() in uv_async_send is a cancellation point too, and
 * a thread cancelled there leaves the handle's pending flag set, on which
 * uv_close would spin for ever.  The thread finishes what it does, then takes
 * the signal sent to it alone and sees the flag. */
static void stop_signal_thread(app *a)
{
  if (!a->sig_thread_on) return;
  a->sig_thread_on = 0;
  atomic_store(&signal_thread_quit, 1);
  pthread_kill(a->sig_thread, SIGTERM);
  pthread_join(a->sig_thread, NULL);
}

static void stop_all(app *a, int status)
{
  if (a->stopped) return;
  a->stopped = 1;
  if (status != 0 && a->status == 0) a->status = status;
  uv_idle_stop(&a->idle);
  close_handle((uv_handle_t *)&a->idle);
  if (a->poll_on) close_handle((uv_handle_t *)&a->poll);
  close_handle((uv_handle_t *)&a->tick);
  close_handle((uv_handle_t *)&a->stats_timer);
  close_handle((uv_handle_t *)&a->settle);
  stop_signal_thread(a); /* before its handle goes */
  close_handle((uv_handle_t *)&a->stop);
  close_handle((uv_handle_t *)&a->sighup);
  close_handle((uv_handle_t *)&a->async);
  for (int i = 0; i < a->nwatch; i++) uv_close((uv_handle_t *)&a->watch[i]->h, free_watch);
  a->nwatch = 0;
}

/* A live capture's kernel ring hands a block of packets over when the block
 * fills or its timeout passes (libpcap's TPACKET_V3, 100 ms): at a stop, wait
 * for that once and take what came, so that the packets that arrived before
 * the signal are not left in the kernel. */
static void drain_live(app *a)
{
  if (!a->running || !a->live || a->src == NULL || a->halting) return;
  struct timespec pause = { 0, 150 * 1000000L };
  nanosleep(&pause, NULL);
  char err[512];
  for (unsigned k = 0; k < (1u << 20) && a->running; k++) {
    double ts;
    uint16_t et;
    const uint8_t *l3;
    uint32_t cap;
    int fd = -1;
    int rc = po_source_poll(a->src, &ts, &et, &l3, &cap, &fd, err, sizeof err);
    if (rc == PO_SRC_PACKET || rc == PO_SRC_MALFORMED) take(a, ts, et, l3, cap, rc == PO_SRC_MALFORMED);
    else if (rc != PO_SRC_SKIP) break; /* nothing more now, the end, or an error: stop anyway */
  }
}

static void on_stop_signal(uv_async_t *h)
{
  app *a = h->data;
  drain_live(a);
  end_run(a); /* stop capturing, write every expiring then active record */
  output_failed(a);
  stop_all(a, a->out.err ? out_status(a) : 0);
}

/* SIGHUP never ends pathobs (records would be lost): --watch and live
 * captures reload the chains; a file or pipe read once has nothing to reload. */
static void on_hup(uv_signal_t *h, int signum)
{
  (void)signum;
  app *a = h->data;
  if (a->o->watch || (a->live && a->running)) reload(a);
  else say(a, "SIGHUP ignored: the chains reload on SIGHUP only under --watch or on a live capture");
}

int po_run(const po_run_opts *o)
{
  app *a = calloc(1, sizeof *a);
  if (a == NULL) return 1;
  a->o = o;
  /* The loop's descriptors come first: libtrace closes standard input at the
   * end of "-", and libuv must not be handed descriptor 0 after that. */
  uv_loop_init(&a->loop);
  /* before any thread starts (the writer, the reader, libtrace's): they inherit the mask */
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  uv_idle_init(&a->loop, &a->idle);
  uv_timer_init(&a->loop, &a->tick);
  uv_timer_init(&a->loop, &a->stats_timer);
  uv_timer_init(&a->loop, &a->settle);
  uv_signal_init(&a->loop, &a->sighup);
  uv_signal_start(&a->sighup, on_hup, SIGHUP); /* from the start: a SIGHUP while loading kills no run */
  uv_async_init(&a->loop, &a->stop, on_stop_signal);
  uv_async_init(&a->loop, &a->async, on_async);
  a->async.data = a;
  a->idle.data = a->tick.data = a->stats_timer.data = a->settle.data = a;
  a->sighup.data = a->stop.data = a;
  /* From here on, not once started: loading the scripts and opening the source
   * can take long (a slow chain, "-" on a quiet pipe, a FIFO without a writer),
   * and a signal must work then as later.  It wakes a->stop, which exists. */
  if (pthread_create(&a->sig_thread, NULL, signal_main, a) == 0) a->sig_thread_on = 1;
  else pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL); /* no thread: let them kill */

  char err[2048];
  int status = 0;
  po_stdguard_start(o->diag, o->ud); /* before libtrace prints anything */
  if (o->watch) before_load(a);
  a->host = po_host_new(o->dirs, o->ndirs, o->diag, o->ud);
  if (a->host != NULL) {
    po_host_set_strict(a->host, o->strict);
    po_host_set_timeout(a->host, o->chain_timeout);
  }
  if (a->host == NULL) {
    say(a, "cannot start the Lua runtime");
    status = 1;
  } else if (po_host_load(a->host, o->scripts, o->nscripts, err, sizeof err) != PO_OK) {
    if (stop_requested()) { /* a signal interrupted the load: a stop, not a script error */
      say(a, "stopped while loading the chains: nothing was read");
    } else if (o->watch) {
      say(a, "%s", err);
      say(a, "waiting for a fixed save of the chains (Ctrl-C to stop)");
      a->never_loaded = 1;
    } else {
      say(a, "%s", err);
      status = 3;
    }
  } else if ((status = open_output(a)) != PO_OK) {
    status = status == PO_EUSAGE ? 2 : 1;
  } else if (!stop_requested() && (status = start_run(a)) != PO_OK) {
    status = status == PO_EFILTER ? 2 : 1;
  }
  if (status != 0) {
    stop_all(a, status);
  } else if (stop_requested()) {
    on_stop_signal(&a->stop); /* it came while starting: stop before reading on */
  } else if (!a->stopped) {
    if (o->watch) rearm(a);
    if (o->stats_interval > 0)
      uv_timer_start(&a->stats_timer, on_stats_timer, o->stats_interval * 1000ull,
                     o->stats_interval * 1000ull);
  }
  uv_run(&a->loop, UV_RUN_DEFAULT);
  uv_loop_close(&a->loop);

  if (a->running) end_run(a);
  if (a->ever_opened && !a->reported) report_stats(a, 1);
  status = a->status;
  if (status == 0 && a->never_loaded) status = 3; /* --watch stopped before the chains ever loaded */
  if (status == 0 && a->undelivered) status = 1; /* before 4: records were lost */
  if (status == 0 && a->chain_failures > 0) status = 4; /* the records are written, but chains failed */
  if (a->out_open) po_out_close(&a->out);
  po_host_free(a->host);
  po_stdguard_stop();
  forget_files(a);
  free(a);
  return status;
}
