/* run_app.h - the state of a run that run.c, watch.c and signals.c share (private to them). */
#ifndef PO_RUN_APP_H
#define PO_RUN_APP_H

#include "po.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

enum {
  MAX_FILES = 256,       /* watched files */
  MAX_READERS = 16,      /* --readers */
};

typedef char path_t[4096];

typedef struct seen_file {     /* a watched file as it was before a load */
  char *path;
  struct stat st;
  int ok;                      /* stat() succeeded */
} seen_file;

struct watch;                  /* a watched folder (watch.c) */

typedef struct app {           /* one per po_run */
  const po_run_opts *o;
  uv_loop_t loop;
  uv_idle_t idle;              /* file sources: read a slice per iteration */
  uv_poll_t poll;              /* live sources: read when the descriptor is readable */
  uv_timer_t tick;             /* live sources: wall clock and output flush, every second */
  uv_timer_t stats_timer;      /* --stats-interval */
  uv_timer_t settle;           /* --watch: reload once the editor is done */
  uv_signal_t sighup;
  uv_async_t async;            /* the reader thread has packets again */
  uv_async_t stop;             /* SIGINT or SIGTERM came (see signals.c) */
  pthread_t sig_thread;
  pthread_mutex_t out_mu;      /* out while it is opened or closed: the signal thread interrupts it */
  int sig_thread_on;
  struct watch *watch[MAX_FILES]; /* one per folder holding a watched file */
  int nwatch;
  path_t files[MAX_FILES];     /* scripts and the modules they loaded */
  int nfiles;
  seen_file seen[2 * MAX_FILES]; /* the scripts and files[] before the current load */
  int nseen;
  struct timespec load_start;  /* when it began, on the clock of file times */

  po_host *host;
  po_source *src;
  po_reader *rd;               /* file sources: reads ahead on the other core */
  unsigned nrd;                /* --readers K > 1: the interface's K handles and their readers */
  po_source *srcs[MAX_READERS]; /* (src is srcs[0]) */
  po_reader *rds[MAX_READERS];
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

/* ---- run.c: the run itself ---- */
/* A message to the diagnostics callback. */
void po_run_say(app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the batch so far to the chains. */
void po_run_dispatch(app *a);
/* Open the source and start reading it (the chains are loaded). */
int po_run_start(app *a);
/* Drop the current run without writing anything (a re-run replaces it). */
void po_run_abort(app *a);
/* Open (again) the output the records go to. */
int po_run_open_output(app *a);
/* The sink stops waiting for room (the signal thread, at the first stop signal). */
void po_run_interrupt_output(app *a);
/* Close every handle: the loop ends; status, if not 0, is the exit status. */
void po_run_stop(app *a, int status);
/* A stop was asked for (a signal, --strict): every record written, then po_run_stop. */
void po_run_stop_clean(app *a);

/* ---- watch.c: --watch, watching the chain files and reloading ---- */
/* Note the files as they are before the chains load. */
void po_watch_before_load(app *a);
/* After a load: watch the files it read; reload again if one changed meanwhile. */
void po_watch_rearm(app *a);
/* Load the chains again (a save under --watch, or SIGHUP). */
void po_watch_reload(app *a);
/* Forget the files noted by po_watch_before_load. */
void po_watch_forget(app *a);
/* Close the file watches. */
void po_watch_close(app *a);

/* ---- signals.c: SIGINT, SIGTERM and SIGHUP ---- */
/* Block SIGINT and SIGTERM in this thread and in those it starts. */
void po_sig_block(void);
/* The SIGHUP handler, the stop handle and the thread that takes SIGINT/SIGTERM. */
void po_sig_start(app *a);
/* End the signal thread (before a->stop closes). */
void po_sig_stop_thread(app *a);
/* A stop was asked for: whatever is starting (a load, a source to open) need not. */
int po_sig_stop_requested(void);
/* on: the loop thread is in po_source_open, which can block (a signal then exits). */
void po_sig_opening(int on);

#endif
