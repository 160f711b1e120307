/* watch.c - --watch: watches the chain scripts and their modules, and loads them again when one is saved. */
#include "run_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

enum {
  SETTLE_MS = 150,       /* quiet time after a file event before reloading */
};

typedef struct watch {
  uv_fs_event_t h;             /* first: the handle's address is the struct's */
  path_t dir;
} watch;

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

void po_watch_close(app *a)
{
  for (int i = 0; i < a->nwatch; i++) uv_close((uv_handle_t *)&a->watch[i]->h, free_watch);
  a->nwatch = 0;
}

/* Watch the folders of the files: an editor that saves by writing a new file
 * and renaming it over the old one replaces the inode a file watch holds. */
static void arm_watches(app *a)
{
  po_watch_close(a);
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
      po_run_say(a, "cannot watch %s: %s", dir, uv_strerror(rc));
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

void po_watch_forget(app *a)
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

void po_watch_before_load(app *a)
{
  po_watch_forget(a);
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
void po_watch_rearm(app *a)
{
  if (!a->o->watch) { /* a SIGHUP reload of a live capture: no file watches */
    po_watch_forget(a);
    return;
  }
  arm_watches(a);
  if (changed_while_loading(a)) uv_timer_start(&a->settle, on_settled, SETTLE_MS, 0);
  po_watch_forget(a);
}

void po_watch_reload(app *a)
{
  char err[2048];
  if (a->stopped) return;
  po_watch_before_load(a);
  if (a->live && a->running) {
    /* between two batches: no packet sees a mix of old and new chains */
    po_run_dispatch(a);
    if (po_host_reload(a->host, a->o->scripts, a->o->nscripts, err, sizeof err) != PO_OK) {
      po_run_say(a, "%s", err);
      po_run_say(a, "reload refused; the previous chains keep running");
      return;
    }
    if (a->pool != NULL) po_pool_reload(a->pool); /* each worker, before its next packet */
    po_run_say(a, "chains reloaded; flows from now on run the new chains, those already open end under the old ones");
  } else {
    po_host *h = po_host_new(a->o->dirs, a->o->ndirs, a->o->diag, a->o->ud);
    if (h == NULL) {
      po_run_say(a, "cannot start a new Lua state for the reload");
      return;
    }
    po_host_set_strict(h, a->o->strict);
    po_host_set_timeout(h, a->o->chain_timeout);
    if (po_host_load(h, a->o->scripts, a->o->nscripts, err, sizeof err) != PO_OK) {
      po_run_say(a, "%s", err);
      po_run_say(a, "reload refused; waiting for the next change");
      po_host_free(h);
      return;
    }
    if (po_sig_stop_requested()) { /* a signal came while loading: keep the output as it is */
      po_host_free(h);
      return;
    }
    po_run_abort(a);
    po_host_free(a->host);
    a->host = h;
    if (po_run_open_output(a) != PO_OK) {
      po_run_stop(a, 1);
      return;
    }
    if (a->never_loaded) {
      a->never_loaded = 0;
      po_run_say(a, "chains loaded; running %s", a->o->source);
    } else {
      po_run_say(a, "chains reloaded; running %s again", a->o->source);
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
    if (po_run_start(a) != PO_OK) {
      po_run_stop(a, 1);
      return;
    }
  }
  po_watch_rearm(a);
}

static void on_settled(uv_timer_t *h) { po_watch_reload(h->data); }

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
