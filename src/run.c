/* run.c - the libuv loop of a run: source -> observer -> Lua -> sink, timers, output, counters. */
#include "run_app.h"

#include <errno.h>
#include <stdarg.h>
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
  READ_AHEAD = 1024,     /* packets the reader thread may hold ahead of the loop */
};

void po_run_say(app *a, const char *fmt, ...)
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
  if (a->nrd > 0) { /* --readers: the K sockets' drops */
    a->st.dropped = 0;
    for (unsigned i = 0; i < a->nrd; i++)
      if (a->srcs[i] != NULL) a->st.dropped += po_source_dropped(a->srcs[i]);
  } else if (a->src != NULL && a->rd == NULL) {
    a->st.dropped = po_source_dropped(a->src);
  }
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
    po_run_say(a, "cannot write %s: %s", a->o->stats_file, strerror(errno));
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
    po_run_say(a, "%s", line);
  }
}

/* ---- one run over the source ---------------------------------------------- */

void po_run_dispatch(app *a)
{
  if (a->pool != NULL) {
    po_pool_cut(a->pool, 0);
  } else {
    if (a->obs == NULL) return;
    po_host_run_batch(a->host);
    if (a->rd != NULL) po_reader_release(a->rd); /* the batch no longer points into them */
    for (unsigned i = 0; i < a->nrd; i++)
      if (a->rds[i] != NULL) po_reader_release(a->rds[i]);
    a->held = 0;
  }
  if (a->o->strict && !a->halting &&
      (a->pool != NULL ? po_pool_failed(a->pool) : po_host_failed(a->host))) {
    /* --strict: stop at the first chain error, as after a signal: records written */
    a->halting = 1;
    po_run_say(a, "stopping at the first chain error (--strict)");
    uv_async_send(&a->stop);
  }
}

/* --readers: stop the K reader threads (their sources stay open). */
static void stop_readers(app *a)
{
  for (unsigned i = 0; i < a->nrd; i++) {
    if (a->rds[i] != NULL && !po_reader_stop(a->rds[i])) a->srcs[i] = NULL; /* stuck: leave it */
    a->rds[i] = NULL;
  }
}

/* Stop the reader thread, then close the source it reads. */
static void close_source(app *a)
{
  if (a->nrd > 0) {
    stop_readers(a);
    for (unsigned i = 0; i < a->nrd; i++) po_source_close(a->srcs[i]), a->srcs[i] = NULL;
    a->nrd = 0;
    a->src = NULL;
    return;
  }
  if (a->rd != NULL && !po_reader_stop(a->rd)) a->src = NULL; /* stuck in a read: leave it */
  a->rd = NULL;
  po_source_close(a->src);
  a->src = NULL;
}

/* Every record so far out of the writer thread (it is idle after this). */
static void sync_writer(app *a)
{
  if (a->writer == NULL) return;
  if (a->obs != NULL) po_host_submit(a->host); /* workers hand theirs over when they go idle */
  po_writer_sync(a->writer);
  uint64_t lost = po_writer_lost(a->writer);
  if (lost > 0)
    po_run_say(a, "%llu record%s not written: a line over 1 GiB of JSON, or no memory to print it",
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
  if (a->out.err != EPIPE) po_run_say(a, "write error on %s: %s", a->out.name, strerror(a->out.err));
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
  po_run_say(a, "warning: no IP packet in %llu frame%s (link type %s)", (unsigned long long)a->st.packets,
      a->st.packets == 1 ? "" : "s", lt);
}

/* The run's flows, chains and writer go (what was staged is written). */
static void free_workers(app *a)
{
  po_pool_stop(a->pool);
  if (a->obs != NULL) po_host_bind(a->host, NULL, NULL, NULL);
  po_writer_free(a->writer); /* before the workers' hosts: records point at their keys */
  a->writer = NULL;
  po_pool_free(a->pool);
  a->pool = NULL;
  po_obs_free(a->obs);
  a->obs = NULL;
}

/* End of the input (or a stop): write every record, keep the counters. */
static void end_run(app *a)
{
  if (!a->running) return;
  a->running = 0;
  if (a->pool != NULL && a->rd != NULL) { /* a file's reader is the dispatcher: it stops first */
    if (!po_reader_stop(a->rd)) a->src = NULL; /* stuck in a read: leave it */
    a->rd = NULL;
  }
  po_run_dispatch(a);
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
  stop_readers(a); /* their sources stay open for the drop counts */
  snapshot(a);
  if (a->st.undelivered > 0) {
    po_run_say(a, "%llu record%s not delivered to %s", (unsigned long long)a->st.undelivered,
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
void po_run_abort(app *a)
{
  if (!a->running) return;
  a->running = 0;
  uv_idle_stop(&a->idle);
  po_host_reset(a->host);
  close_source(a); /* first: a file's reader may be the workers' dispatcher */
  free_workers(a);
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
  if (po_obs_must_cut(a->obs, ts)) po_run_dispatch(a);
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
  if (po_obs_batch_full(a->obs) || ++a->held >= a->o->cfg.batch_size) po_run_dispatch(a);
}

static void input_ended(app *a, int rc, const char *why)
{
  int status = 0;
  char err[512];
  snprintf(err, sizeof err, "%s", why); /* the reader that holds it stops below */
  if (rc == PO_EFILTER) {
    po_run_say(a, "%s", err);
    a->ever_opened = 0; /* a usage error: no counters */
    po_run_abort(a);
    po_run_stop(a, 2);
    return;
  }
  end_run(a);
  if (rc < 0) {
    /* what was read is written; then say why the input ended */
    po_run_say(a, "%s: %s", a->o->source, err);
    status = 1;
  }
  if (output_failed(a) && status == 0) status = out_status(a);
  if (a->o->watch && !a->live && status == 0) {
    report_stats(a, 1);
    po_run_say(a, "watching %d file%s for changes (Ctrl-C to stop)", a->nfiles, a->nfiles == 1 ? "" : "s");
    return;
  }
  po_run_stop(a, status);
}

/* The entry e of reader rd to the workers: the packet is copied, so the
 * entry is done with once this returns (release it when convenient). */
static void pool_take(app *a, po_reader *rd, const po_rpkt *e)
{
  po_hdr h[2];
  memcpy(h, e->h, sizeof h);
  po_pool_frame(a->pool, e->ts, e->decoded, h, e->decoded == PO_OK ? &e->fk : NULL, &e->link);
  po_reader_next(rd);
}

static void on_idle(uv_idle_t *h)
{
  app *a = h->data;
  for (int k = 0; k < SLICE && a->running && !a->halting; k++) {
    const po_rpkt *e = po_reader_peek(a->rd);
    if (e == NULL) {
      if (a->pool != NULL) { /* the entries taken are copied */
        po_reader_release(a->rd);
        a->held = 0;
      }
      uv_idle_stop(&a->idle); /* nothing read yet: sleep until the reader wakes us */
      return;
    }
    if (e->rc <= 0) {
      int rc = e->rc;
      po_reader_next(a->rd);
      input_ended(a, rc, po_reader_error(a->rd));
      return;
    }
    if (a->pool != NULL) { /* a pipe's packets, with workers */
      pool_take(a, a->rd, e);
      if (++a->held >= 64) { /* not one by one: the reader's index is a cache line of its own */
        po_reader_release(a->rd);
        a->held = 0;
      }
      if (po_writer_failed(a->writer) || (a->o->strict && po_pool_failed(a->pool))) break;
      continue;
    }
    if (po_obs_must_cut(a->obs, e->ts)) po_run_dispatch(a);
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
    else if (po_obs_batch_full(a->obs) || ++a->held >= READ_AHEAD / 2) po_run_dispatch(a);
    if (po_writer_failed(a->writer)) break;
  }
  if (a->pool != NULL && a->rd != NULL) {
    po_reader_release(a->rd); /* the entries taken are copied */
    a->held = 0;
  }
  if (a->pool != NULL && a->running && a->o->strict && !a->halting) po_run_dispatch(a); /* --strict */
  if (output_failed(a)) {
    end_run(a);
    po_run_stop(a, out_status(a));
  }
}

/* ---- --readers K: K threads read the interface's K handles ---------------- */

/* One entry of reader rd into the observer or the pool, as on_idle does. */
static void feed(app *a, po_reader *rd, const po_rpkt *e)
{
  if (a->pool != NULL) {
    pool_take(a, rd, e);
    po_reader_release(rd);
    return;
  }
  if (po_obs_must_cut(a->obs, e->ts)) po_run_dispatch(a);
  unsigned n0, n;
  po_obs_batch(a->obs, &n0);
  po_obs_decoded(a->obs, e->ts, e->decoded, e->h, e->decoded == PO_OK ? &e->fk : NULL);
  po_obs_batch(a->obs, &n);
  if (n > n0) po_link_batch_set(n0, n, &e->link);
  po_reader_next(rd);
  if (n == 0) { /* an empty batch points into no ring */
    for (unsigned i = 0; i < a->nrd; i++) po_reader_release(a->rds[i]);
  } else if (po_obs_batch_full(a->obs) || ++a->held >= READ_AHEAD / 2) {
    po_run_dispatch(a); /* each reader holds fewer than READ_AHEAD / 2 */
  }
}

/* Take up to max packets from the readers, the earliest of their next ones
 * first (the kernel hands each socket its packets in order; across sockets
 * the order is approximate, and an older packet taken after a newer one is
 * counted reordered).  Returns how many, with *empty 1 when every ring was
 * found empty; -1 when a reader's error or end ended the run. */
static int take_readers(app *a, int max, int *empty)
{
  int k = 0;
  *empty = 0;
  while (k < max && a->running && !a->halting) {
    po_reader *rd = NULL;
    const po_rpkt *e = NULL;
    for (unsigned i = 0; i < a->nrd; i++) {
      const po_rpkt *x = po_reader_look(a->rds[i]);
      if (x != NULL && (e == NULL || x->rc <= 0 || x->ts < e->ts)) {
        e = x;
        rd = a->rds[i];
        if (x->rc <= 0) break;
      }
    }
    if (e == NULL) {
      *empty = 1;
      break;
    }
    if (e->rc <= 0) { /* the interface went away, or an error */
      int rc = e->rc;
      po_reader_next(rd);
      input_ended(a, rc, po_reader_error(rd));
      return -1;
    }
    feed(a, rd, e);
    k++;
    if (po_writer_failed(a->writer) || (a->pool != NULL && a->o->strict && po_pool_failed(a->pool))) break;
  }
  return k;
}

static void on_readers(uv_idle_t *h)
{
  app *a = h->data;
  int empty;
  if (take_readers(a, SLICE, &empty) < 0) return;
  if (empty && a->running) {
    po_run_dispatch(a); /* on a live link, records do not wait for a full batch */
    int more = 0;
    for (unsigned i = 0; i < a->nrd; i++) /* ask to be woken; one may have just produced */
      if (po_reader_peek(a->rds[i]) != NULL) more = 1;
    if (!more) uv_idle_stop(&a->idle);
  }
  if (a->pool != NULL && a->running && a->o->strict && !a->halting) po_run_dispatch(a); /* --strict */
  if (output_failed(a)) {
    end_run(a);
    po_run_stop(a, out_status(a));
  }
}

/* At a stop: the packets that came before it, also those in each kernel
 * ring's last block, which the kernel hands over when its timeout passes. */
static void drain_readers(app *a)
{
  struct timespec pause = { 0, 150 * 1000000L }, nap = { 0, 1000000L };
  /* twice: on a loaded machine a socket's block can be handed over late,
   * after its reader met the first request */
  for (int round = 0; round < 2; round++) {
    nanosleep(&pause, NULL);
    for (unsigned i = 0; i < a->nrd; i++) po_reader_drain(a->rds[i]);
    int settled = 0;
    unsigned taken = 0;
    for (unsigned k = 0; k < 5000 && taken < (1u << 20) && a->running && !a->halting;) { /* 5 s at most */
      int empty, n = take_readers(a, SLICE, &empty);
      if (n < 0) return;
      taken += (unsigned)n;
      if (!empty) continue;
      if (settled) break; /* every reader had met the request: its packets are taken */
      settled = 1;
      for (unsigned i = 0; i < a->nrd; i++) settled &= po_reader_drained(a->rds[i]);
      if (!settled) {
        nanosleep(&nap, NULL);
        k++;
      }
    }
  }
}

static void wake_loop(void *ud) { uv_async_send(&((app *)ud)->async); }

/* A regular file, named as it is or after a libtrace format ("pcapfile:x"):
 * its reads never wait for a writer. */
static int regular_file(const char *spec)
{
  struct stat st;
  if (stat(spec, &st) == 0) return S_ISREG(st.st_mode);
  const char *colon = strchr(spec, ':');
  return colon != NULL && stat(colon + 1, &st) == 0 && S_ISREG(st.st_mode);
}

/* With workers, a file's reader thread is the dispatcher (po_reader_start_deliver):
 * each packet goes from it to its worker, not through the loop.  Stop reading
 * when the output failed or, with --strict, a chain did. */
static int deliver(void *ud, po_rpkt *e)
{
  app *a = ud;
  po_pool_frame(a->pool, e->ts, e->decoded, e->h, e->decoded == PO_OK ? &e->fk : NULL, &e->link);
  return po_writer_failed(a->writer) || (a->o->strict && po_pool_failed(a->pool));
}

static void on_async(uv_async_t *h)
{
  app *a = h->data;
  if (a->nrd > 0 && a->running) {
    for (unsigned i = 0; i < a->nrd; i++) po_reader_woken(a->rds[i]);
    uv_idle_start(&a->idle, on_readers);
    return;
  }
  if (a->rd == NULL || !a->running) return;
  po_reader_woken(a->rd);
  uv_idle_start(&a->idle, on_idle);
}

static void on_readable(uv_poll_t *h, int status, int events);

/* Poll the live source once and take the packet it gives, if any; with
 * PO_SRC_WAIT, *fd is the descriptor to wait on (or -1). */
static int take_polled(app *a, int *fd, char *err, size_t errlen)
{
  double ts;
  uint16_t et;
  const uint8_t *l3;
  uint32_t cap;
  *fd = -1;
  int rc = po_source_poll(a->src, &ts, &et, &l3, &cap, fd, err, errlen);
  if (rc == PO_SRC_PACKET || rc == PO_SRC_MALFORMED) take(a, ts, et, l3, cap, rc == PO_SRC_MALFORMED);
  return rc;
}

/* Read what the live source has now; (re)arm the poll on its descriptor. */
static void pump(app *a)
{
  char err[512];
  for (int k = 0; k < SLICE && a->running && !a->halting; k++) {
    int fd;
    int rc = take_polled(a, &fd, err, sizeof err);
    if (rc == PO_SRC_PACKET || rc == PO_SRC_MALFORMED || rc == PO_SRC_SKIP) continue;
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
  po_run_dispatch(a); /* on a live link, records do not wait for a full batch */
  if (output_failed(a)) {
    end_run(a);
    po_run_stop(a, out_status(a));
  }
}

static void on_readable(uv_poll_t *h, int status, int events)
{
  (void)events;
  app *a = h->data;
  if (status < 0) {
    po_run_say(a, "%s: %s", a->o->source, uv_strerror(status));
    end_run(a);
    po_run_stop(a, 1);
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
  if (a->nrd > 0) {
    int empty;
    if (take_readers(a, SLICE, &empty) < 0) return;
    po_run_dispatch(a);
  } else {
    pump(a);
  }
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
    po_run_stop(a, out_status(a));
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
    po_run_dispatch(a);
    po_host_flush(a->host);
    flush_output(a);
  }
  if (output_failed(a)) {
    end_run(a);
    po_run_stop(a, out_status(a));
  }
}

static void on_stats_timer(uv_timer_t *h)
{
  app *a = h->data;
  if (!a->running) return;
  snapshot(a);
  report_stats(a, 0);
}

/* out opened or closed under out_mu: the signal thread interrupts a sink
 * (po_run_interrupt_output), never one being freed or half made. */
static void close_output(app *a)
{
  pthread_mutex_lock(&a->out_mu);
  if (a->out_open) po_out_close(&a->out);
  a->out_open = 0;
  pthread_mutex_unlock(&a->out_mu);
}

void po_run_interrupt_output(app *a)
{
  pthread_mutex_lock(&a->out_mu);
  if (a->out_open) po_out_interrupt(&a->out);
  pthread_mutex_unlock(&a->out_mu);
}

int po_run_open_output(app *a)
{
  close_output(a);
  pthread_mutex_lock(&a->out_mu);
  a->flush_failed = 0;
  po_sink_opts so = a->o->sink;
  so.diag = a->o->diag;
  so.ud = a->o->ud;
  char err[1024];
  int rc = po_out_open_sink(&a->out, a->o->output, &so, err, sizeof err);
  if (rc != PO_OK) {
    po_out_close(&a->out);
    pthread_mutex_unlock(&a->out_mu);
    if (po_sink_find(a->o->output) != NULL) po_run_say(a, "cannot open %s", err);
    else po_run_say(a, "cannot write %s: %s", a->o->output, err);
    return rc == PO_EUSAGE ? PO_EUSAGE : PO_EWRITE; /* a URI without a subject is a usage error */
  }
  a->out_open = 1;
  if (po_sig_stop_requested()) po_out_interrupt(&a->out); /* a signal came meanwhile */
  pthread_mutex_unlock(&a->out_mu);
  return PO_OK;
}

int po_run_start(app *a)
{
  char err[512];
  unsigned k = a->o->readers > 1 ? a->o->readers : 1;
  po_sig_opening(1);
  int rc;
  if (k > 1) {
    rc = po_source_open_fanout(a->srcs, k, a->o->source, a->o->filter, a->o->cfg.batch_size + 2, READ_AHEAD,
                               a->o->buffer_kib, err, sizeof err);
    a->src = a->srcs[0];
    if (rc == PO_OK) a->nrd = k;
  } else {
    rc = po_source_open(&a->src, a->o->source, a->o->filter,
                        a->o->cfg.batch_size + 2, READ_AHEAD, a->o->buffer_kib, err, sizeof err);
  }
  po_sig_opening(0);
  if (rc == PO_EUSAGE) {
    po_run_say(a, "--readers %u: %s", k, err);
    return rc;
  }
  if (rc == PO_EFILTER) {
    po_run_say(a, "%s", err); /* a usage error: the expression, not the source */
    return rc;
  }
  if (rc != PO_OK) {
    po_run_say(a, "cannot open %s: %s", a->o->source, err);
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
    if (made != PO_OK && made != PO_ENOMEM) po_run_say(a, "%s", err);
  } else if (made == PO_OK) {
    a->obs = po_obs_new(&a->o->cfg);
    if (a->obs == NULL || po_link_batch_reserve(a->o->cfg.batch_size + 2) != PO_OK) made = PO_ENOMEM;
  }
  if (made != PO_OK) {
    free_workers(a);
    if (made == PO_ENOMEM) po_run_say(a, "%s", po_strerror(PO_ENOMEM));
    close_source(a);
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
    if (a->nrd > 0)
      po_run_say(a, "listening on %s (%s, %u readers); Ctrl-C to stop", colon ? colon + 1 : uri, uri, a->nrd);
    else
      po_run_say(a, "listening on %s (%s); Ctrl-C to stop", colon ? colon + 1 : uri, uri);
  }
  if (a->obs != NULL) po_host_bind(a->host, a->obs, po_writer_stage(a->writer, 0), po_obs_stats(a->obs));
  if (a->nrd > 0) {
    for (unsigned i = 0; i < a->nrd; i++)
      if (po_reader_start(&a->rds[i], a->srcs[i], READ_AHEAD, wake_loop, a) != PO_OK) {
        po_run_say(a, "cannot start the reader threads");
        po_run_abort(a);
        return PO_ENOMEM;
      }
    uv_timer_start(&a->tick, on_tick, 1000, 1000);
    uv_idle_start(&a->idle, on_readers);
  } else if (a->live) {
    uv_timer_start(&a->tick, on_tick, 1000, 1000);
    pump(a);
  } else if ((a->pool != NULL && regular_file(a->o->source)
                  ? po_reader_start_deliver(&a->rd, a->src, READ_AHEAD, wake_loop, a, deliver, a)
                  : po_reader_start(&a->rd, a->src, READ_AHEAD, wake_loop, a)) != PO_OK) {
    po_run_say(a, "cannot start the reader thread");
    a->running = 0;
    return PO_ENOMEM;
  } else {
    uv_idle_start(&a->idle, on_idle);
    if (a->stream) uv_timer_start(&a->tick, on_stream_tick, 1000, 1000);
  }
  return PO_OK;
}

void po_run_stop(app *a, int status)
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
  po_sig_stop_thread(a); /* before its handle goes */
  close_handle((uv_handle_t *)&a->stop);
  close_handle((uv_handle_t *)&a->sighup);
  close_handle((uv_handle_t *)&a->async);
  po_watch_close(a);
}

/* A live capture's kernel ring hands a block of packets over when the block
 * fills or its timeout passes (libpcap's TPACKET_V3, 100 ms): at a stop, wait
 * for that once and take what came, so that the packets that arrived before
 * the signal are not left in the kernel. */
static void drain_live(app *a)
{
  if (!a->running || !a->live || a->src == NULL || a->halting) return;
  if (a->nrd > 0) {
    drain_readers(a);
    return;
  }
  struct timespec pause = { 0, 150 * 1000000L };
  nanosleep(&pause, NULL);
  char err[512];
  for (unsigned k = 0; k < (1u << 20) && a->running; k++) {
    int fd;
    int rc = take_polled(a, &fd, err, sizeof err);
    if (rc != PO_SRC_PACKET && rc != PO_SRC_MALFORMED && rc != PO_SRC_SKIP)
      break; /* nothing more now, the end, or an error: stop anyway */
  }
}

void po_run_stop_clean(app *a)
{
  drain_live(a);
  end_run(a); /* stop capturing, write every expiring then active record */
  output_failed(a);
  po_run_stop(a, a->out.err ? out_status(a) : 0);
}

int po_run(const po_run_opts *o)
{
  app *a = calloc(1, sizeof *a);
  if (a == NULL) return 1;
  a->o = o;
  /* The loop's descriptors come first: libtrace closes standard input at the
   * end of "-", and libuv must not be handed descriptor 0 after that. */
  uv_loop_init(&a->loop);
  pthread_mutex_init(&a->out_mu, NULL);
  po_sig_block(); /* before any thread starts */
  uv_idle_init(&a->loop, &a->idle);
  uv_timer_init(&a->loop, &a->tick);
  uv_timer_init(&a->loop, &a->stats_timer);
  uv_timer_init(&a->loop, &a->settle);
  uv_async_init(&a->loop, &a->async, on_async);
  a->async.data = a;
  a->idle.data = a->tick.data = a->stats_timer.data = a->settle.data = a;
  po_sig_start(a); /* SIGINT, SIGTERM and SIGHUP from here on, while loading too */

  char err[2048];
  int status = 0;
  po_stdguard_start(o->diag, o->ud); /* before libtrace prints anything */
  if (o->watch) po_watch_before_load(a);
  a->host = po_host_new(o->dirs, o->ndirs, o->diag, o->ud);
  if (a->host != NULL) {
    po_host_set_strict(a->host, o->strict);
    po_host_set_timeout(a->host, o->chain_timeout);
  }
  if (a->host == NULL) {
    po_run_say(a, "cannot start the Lua runtime");
    status = 1;
  } else if (po_host_load(a->host, o->scripts, o->nscripts, err, sizeof err) != PO_OK) {
    if (po_sig_stop_requested()) { /* a signal interrupted the load: a stop, not a script error */
      po_run_say(a, "stopped while loading the chains: nothing was read");
    } else if (o->watch) {
      po_run_say(a, "%s", err);
      po_run_say(a, "waiting for a fixed save of the chains (Ctrl-C to stop)");
      a->never_loaded = 1;
    } else {
      po_run_say(a, "%s", err);
      status = 3;
    }
  } else if ((status = po_run_open_output(a)) != PO_OK) {
    status = status == PO_EUSAGE ? 2 : 1;
  } else if (!po_sig_stop_requested() && (status = po_run_start(a)) != PO_OK) {
    status = status == PO_EFILTER || status == PO_EUSAGE ? 2 : 1;
  }
  if (status != 0) {
    po_run_stop(a, status);
  } else if (po_sig_stop_requested()) {
    po_run_stop_clean(a); /* it came while starting: stop before reading on */
  } else if (!a->stopped) {
    if (o->watch) po_watch_rearm(a);
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
  close_output(a);
  po_host_free(a->host);
  po_stdguard_stop();
  po_watch_forget(a);
  free(a);
  return status;
}
