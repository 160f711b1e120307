/* run.c - the libuv loop: reads the source in slices, feeds observer and Lua, serves signals. */
#include "po.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

enum { SLICE = 8192 }; /* packets read per loop iteration before signals are served */

typedef struct run {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_signal_t sigint, sigterm;
  po_source *src;
  po_observer *obs;
  po_host *host;
  po_out *out;
  po_stats *st;
  po_diag_fn diag;
  void *ud;
  int status, done, bad_filter;
} run;

static void say(run *r, const char *fmt, const char *a, const char *b)
{
  char msg[1024];
  snprintf(msg, sizeof msg, fmt, a, b);
  r->diag(r->ud, msg);
}

static void dispatch(run *r)
{
  po_host_run_batch(r->host);
}

static void close_handles(run *r)
{
  uv_idle_stop(&r->idle);
  uv_close((uv_handle_t *)&r->idle, NULL);
  uv_close((uv_handle_t *)&r->sigint, NULL);
  uv_close((uv_handle_t *)&r->sigterm, NULL);
}

static void finish(run *r, int status)
{
  if (r->done) return;
  r->done = 1;
  dispatch(r);
  po_obs_flush(r->obs);
  if (po_out_flush(r->out) != PO_OK && status == 0) status = 1;
  r->status = status;
  close_handles(r);
}

static int output_failed(run *r)
{
  if (!r->out->err) return 0;
  say(r, "write error on %s: %s", r->out->name, strerror(r->out->err));
  return 1;
}

static void on_idle(uv_idle_t *h)
{
  run *r = h->data;
  char err[512];
  for (int k = 0; k < SLICE; k++) {
    double ts;
    uint16_t et;
    const uint8_t *l3;
    uint32_t cap;
    int rc = po_source_next(r->src, &ts, &et, &l3, &cap, err, sizeof err);
    if (rc == 0) {
      finish(r, 0);
      break;
    }
    if (rc == PO_EFILTER) {
      r->bad_filter = 1;
      finish(r, 2);
      r->diag(r->ud, err);
      break;
    }
    if (rc < 0) {
      /* keep what was read: write every record, then say why the input ended */
      finish(r, 1);
      say(r, "%s: %s", po_source_uri(r->src), err);
      break;
    }
    if (po_obs_must_cut(r->obs, ts)) dispatch(r);
    po_obs_packet(r->obs, ts, et, l3, cap);
    if (po_obs_batch_full(r->obs)) dispatch(r);
    if (r->out->err) break;
  }
  if (output_failed(r)) {
    r->out->len = 0; /* what is left cannot be written */
    finish(r, 1);
  }
}

static void on_signal(uv_signal_t *h, int signum)
{
  (void)signum;
  finish(h->data, 0);
}

int po_run(po_run_opts *opts, po_host *host, po_out *out, po_stats *st, po_diag_fn diag,
           void *ud)
{
  run r;
  memset(&r, 0, sizeof r);
  r.host = host;
  r.out = out;
  r.diag = diag;
  r.ud = ud;
  /* The loop's descriptors come first: libtrace closes standard input at the
   * end of "-", and libuv must not be handed descriptor 0 after that. */
  uv_loop_init(&r.loop);
  uv_idle_init(&r.loop, &r.idle);
  uv_signal_init(&r.loop, &r.sigint);
  uv_signal_init(&r.loop, &r.sigterm);
  r.idle.data = r.sigint.data = r.sigterm.data = &r;

  char err[512];
  int rc = po_source_open(&r.src, opts->source, opts->filter, opts->cfg.batch_size + 2, err,
                          sizeof err);
  if (rc != PO_OK) {
    say(&r, "cannot open %s: %s", opts->source, err);
    r.status = 1;
  } else if ((r.obs = po_obs_new(&opts->cfg, po_host_emit, host)) == NULL) {
    say(&r, "%s%s", po_strerror(PO_ENOMEM), "");
    r.status = 1;
  }
  if (r.status != 0) {
    close_handles(&r);
  } else {
    opts->opened = 1;
    po_host_bind(host, r.obs, out, po_obs_stats(r.obs));
    uv_idle_start(&r.idle, on_idle);
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    uv_signal_start(&r.sigterm, on_signal, SIGTERM);
  }
  uv_run(&r.loop, UV_RUN_DEFAULT);
  uv_loop_close(&r.loop);

  if (r.bad_filter) opts->opened = 0; /* a usage error: no counters */
  if (r.obs != NULL) {
    po_stats *s = po_obs_stats(r.obs);
    s->dropped = po_source_dropped(r.src);
    *st = *s;
  }
  po_obs_free(r.obs);
  po_source_close(r.src);
  return r.status;
}
