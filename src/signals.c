/* signals.c - SIGINT and SIGTERM stop the run cleanly (a second one at once), SIGHUP reloads the chains. */
#include "run_app.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* SIGINT and SIGTERM are blocked in every thread and taken here, not by a
 * libuv handler: that one only writes to a pipe the loop reads, and the loop
 * thread also runs the chains, so a chain that never returns would leave the
 * process deaf to them.  The first signal asks the loop to stop cleanly (every
 * record written); a second, while it has not finished, exits at once. */
static sigset_t stop_signals;
static atomic_int signals_seen;
static atomic_int signal_thread_quit;
static atomic_int opening;     /* the loop thread is in po_source_open, which can block */

void po_sig_opening(int on) { atomic_store(&opening, on); }

/* A stop was asked for: whatever is starting (a load, a source to open) need not. */
int po_sig_stop_requested(void) { return atomic_load(&signals_seen) > 0; }

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
    if (atomic_load(&signal_thread_quit)) return NULL; /* po_sig_stop_thread woke us */
    if (atomic_fetch_add(&signals_seen, 1) == 0) {
      first = monotonic_seconds();
      po_run_interrupt_output(a); /* a sink waiting for room waits no longer */
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
void po_sig_stop_thread(app *a)
{
  if (!a->sig_thread_on) return;
  a->sig_thread_on = 0;
  atomic_store(&signal_thread_quit, 1);
  pthread_kill(a->sig_thread, SIGTERM);
  pthread_join(a->sig_thread, NULL);
}

static void on_stop_signal(uv_async_t *h) { po_run_stop_clean(h->data); }

/* SIGHUP never ends pathobs (records would be lost): --watch and live
 * captures reload the chains; a file or pipe read once has nothing to reload. */
static void on_hup(uv_signal_t *h, int signum)
{
  (void)signum;
  app *a = h->data;
  if (a->o->watch || (a->live && a->running)) po_watch_reload(a);
  else po_run_say(a, "SIGHUP ignored: the chains reload on SIGHUP only under --watch or on a live capture");
}

/* Before any thread starts (the writer, the reader, libtrace's): they inherit the mask. */
void po_sig_block(void)
{
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
}

void po_sig_start(app *a)
{
  uv_signal_init(&a->loop, &a->sighup);
  uv_signal_start(&a->sighup, on_hup, SIGHUP); /* from the start: a SIGHUP while loading kills no run */
  uv_async_init(&a->loop, &a->stop, on_stop_signal);
  a->sighup.data = a->stop.data = a;
  /* From here on, not once started: loading the scripts and opening the source
   * can take long (a slow chain, "-" on a quiet pipe, a FIFO without a writer),
   * and a signal must work then as later.  It wakes a->stop, which exists. */
  if (pthread_create(&a->sig_thread, NULL, signal_main, a) == 0) a->sig_thread_on = 1;
  else pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL); /* no thread: let them kill */
}
