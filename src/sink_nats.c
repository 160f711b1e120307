/* sink_nats.c - the NATS JetStream sink: each record one message, acknowledged by the stream, sent again until it is. */
#include "po.h"

#include <cjson/cJSON.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Every record gets a sequence number and stays in a ring of `cap` slots until
 * the stream acknowledges it.  It is published as a plain NATS request: the
 * record's JSON as the body, a Nats-Msg-Id header unique to this observer, this
 * run and the sequence, and a reply subject ending in the sequence, on which
 * JetStream answers {"stream":..,"seq":..} (or an error, or "no responders"
 * while no stream leader is there).  A record is sent again when its answer has
 * not come within ACK_WAIT_MS, when the answer was an error (after RETRY_MS,
 * doubling with each error in a row up to 16 times that),
 * and soon after a reconnect; JetStream drops the copies its duplicate window
 * still remembers, so the stream holds each record once.
 *
 * libnats 3.4 has js_PublishMsgAsync, but its pending messages have no time
 * limit and can only be taken back all at once: a message whose answer was lost
 * with a connection would wait for ever.  Hence the table of our own; the
 * library still does the connection, reconnects, TLS, credentials and the
 * reply subscription.
 *
 * When the ring is full the writer's thread waits in write, the writer's pages
 * fill, and the loop waits for them: a file source is read more slowly, a live
 * source drops packets at capture (counted there).  After an interrupt (a stop
 * signal) or once the connection is closed for good, a record that finds no
 * room is counted as not delivered instead.  At the end, finish waits a bounded
 * time for the answers still to come and counts the rest as not delivered. */

enum {
  DEFAULT_BUFFER = 32768,  /* records awaiting their acknowledgement */
  ACK_WAIT_MS = 3000,      /* no answer this long: send again */
  RETRY_MS = 250,          /* after an error answer or a failed publish */
  RECONNECT_GRACE_MS = 1000, /* after a reconnect, what has no answer by then goes again */
  TICK_MS = 100,
  DIAG_EVERY_MS = 10000,   /* the same complaint at most this often */
};

typedef struct slot {
  uint64_t seq;            /* 0: acknowledged (or given up) */
  char *data;
  uint32_t len, cap;
  uint32_t errors;         /* error answers in a row: the wait before the next try grows */
  int64_t due;             /* send again at this time (ms, monotonic) */
} slot;

typedef struct po_nats {
  natsOptions *opts;
  natsConnection *nc;
  natsSubscription *sub;
  char *subject;
  char inbox[96];          /* "_INBOX.<nuid>.": the answers' subjects, then the sequence */
  char idpfx[160];         /* "<observer>-<run>-": the message IDs, then the sequence */
  slot *ring;
  uint64_t cap, next, tail; /* next sequence to give; oldest not acknowledged */
  uint64_t outstanding;
  po_sink_counts c;
  int interrupted, dead, stop;
  char last_err[256];
  int64_t last_diag;
  po_diag_fn diag;
  void *ud;
  char *servers_text;      /* for messages */
  pthread_mutex_t mu;
  pthread_cond_t room, done, tick;
  pthread_t thread;
  int thread_on;
} po_nats;

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(po_nats *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(po_nats *s, const char *fmt, ...)
{
  if (s->diag == NULL) return;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  s->diag(s->ud, msg);
}

/* Publish the record in sl (mu held).  A failure (disconnected and the
 * library's reconnect buffer full, or closed) leaves it for a later try. */
static void publish(po_nats *s, slot *sl, int64_t now)
{
  char reply[128], id[200];
  snprintf(reply, sizeof reply, "%s%llu", s->inbox, (unsigned long long)sl->seq);
  snprintf(id, sizeof id, "%s%llu", s->idpfx, (unsigned long long)sl->seq);
  natsMsg *m = NULL;
  natsStatus st = natsMsg_Create(&m, s->subject, reply, sl->data, (int)sl->len);
  if (st == NATS_OK) st = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
  if (st == NATS_OK) st = natsConnection_PublishMsg(s->nc, m);
  natsMsg_Destroy(m);
  sl->due = now + (st == NATS_OK ? ACK_WAIT_MS : RETRY_MS);
}

/* The oldest outstanding sequence moves past those acknowledged (mu held). */
static void advance_tail(po_nats *s)
{
  while (s->tail < s->next && s->ring[s->tail % s->cap].seq != s->tail) s->tail++;
}

static void on_answer(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
  (void)nc;
  (void)sub;
  po_nats *s = closure;
  const char *subj = natsMsg_GetSubject(msg);
  size_t il = strlen(s->inbox);
  uint64_t seq = subj != NULL && strlen(subj) > il ? strtoull(subj + il, NULL, 10) : 0;
  char why[256] = "";
  int ok = 0;
  if (natsMsg_IsNoResponders(msg)) {
    snprintf(why, sizeof why, "no stream answers on %s (none takes that subject, or it has no leader now)",
             s->subject);
  } else {
    cJSON *j = cJSON_ParseWithLength(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
    cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (e != NULL) {
      cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "description");
      snprintf(why, sizeof why, "the stream refused a record: %s",
               cJSON_IsString(d) ? d->valuestring : "(no description)");
    } else if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "seq"))) {
      ok = 1;
    } else {
      snprintf(why, sizeof why, "unexpected answer to a record");
    }
    cJSON_Delete(j);
  }
  natsMsg_Destroy(msg);
  int64_t now = now_ms();
  int tell = 0;
  pthread_mutex_lock(&s->mu);
  slot *sl = seq != 0 ? &s->ring[seq % s->cap] : NULL;
  if (sl != NULL && sl->seq == seq) {
    if (ok) {
      sl->seq = 0;
      s->c.acked++;
      s->outstanding--;
      advance_tail(s);
      pthread_cond_broadcast(&s->room);
      if (s->outstanding == 0) pthread_cond_broadcast(&s->done);
    } else { /* 250 ms, doubling up to 4 s: a leader election takes seconds */
      sl->due = now + ((int64_t)RETRY_MS << (sl->errors < 4 ? sl->errors : 4));
      sl->errors++;
      if (strcmp(why, s->last_err) != 0 || now - s->last_diag >= DIAG_EVERY_MS) {
        snprintf(s->last_err, sizeof s->last_err, "%s", why);
        s->last_diag = now;
        tell = 1;
      }
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (tell) say(s, "nats: %s; sending it again", why);
}

/* Send again what is due, while connected. */
static void *retry_main(void *arg)
{
  po_nats *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += TICK_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&s->tick, &s->mu, &ts);
    if (s->stop || s->outstanding == 0) continue;
    if (natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED) continue;
    int64_t now = now_ms();
    for (uint64_t q = s->tail; q < s->next; q++) {
      slot *sl = &s->ring[q % s->cap];
      if (sl->seq != q || now < sl->due) continue;
      publish(s, sl, now);
      s->c.retried++;
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
  (void)nc;
  po_nats *s = closure;
  pthread_mutex_lock(&s->mu);
  uint64_t n = s->outstanding;
  int quiet = s->stop;
  pthread_mutex_unlock(&s->mu);
  if (!quiet)
    say(s, "nats: disconnected from %s; %llu record%s wait for acknowledgement, reconnecting",
        s->servers_text, (unsigned long long)n, n == 1 ? "" : "s");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
  po_nats *s = closure;
  char url[256] = "";
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  int64_t soon = now_ms() + RECONNECT_GRACE_MS;
  pthread_mutex_lock(&s->mu);
  for (uint64_t q = s->tail; q < s->next; q++) {
    slot *sl = &s->ring[q % s->cap];
    if (sl->seq == q && sl->due > soon) sl->due = soon;
  }
  pthread_mutex_unlock(&s->mu);
  say(s, "nats: connected to %s", url);
}

static void on_closed(natsConnection *nc, void *closure)
{
  (void)nc;
  po_nats *s = closure;
  pthread_mutex_lock(&s->mu);
  int quiet = s->stop;
  s->dead = 1;
  pthread_cond_broadcast(&s->room);
  pthread_cond_broadcast(&s->done);
  pthread_mutex_unlock(&s->mu);
  if (!quiet) say(s, "nats: the connection to %s is closed for good", s->servers_text);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
  (void)nc;
  (void)sub;
  say(closure, "nats: %s", natsStatus_GetText(err));
}

/* A subject token may hold no '.', space, '*' or '>'. */
static void clean_token(char *t)
{
  for (; *t; t++)
    if (*t == '.' || *t == ' ' || *t == '\t' || *t == '*' || *t == '>') *t = '_';
}

/* "nats://[user:pw@]h1[:p1],h2[:p2]/SUBJECT" (or tls://): the server URLs and
 * the subject, with {observer} replaced. */
static int parse_uri(po_nats *s, const char *uri, const char *observer, char ***urls, int *nurls,
                     char *err, size_t errlen)
{
  const char *scheme_end = strstr(uri, "://");
  const char *auth = scheme_end + 3;
  const char *slash = strchr(auth, '/');
  int tls = strncmp(uri, "tls://", 6) == 0;
  if (slash == NULL || slash == auth || slash[1] == 0) {
    snprintf(err, errlen, "%s: give the servers and a subject, as nats://HOST[:PORT][,HOST[:PORT]...]/SUBJECT", uri);
    return PO_EUSAGE;
  }
  /* the subject */
  const char *tmpl = slash + 1;
  size_t need = strlen(tmpl) + 1;
  for (const char *p = strstr(tmpl, "{observer}"); p; p = strstr(p + 1, "{observer}"))
    need += strlen(observer);
  s->subject = malloc(need);
  if (s->subject == NULL) return PO_ENOMEM;
  char *o = s->subject;
  for (const char *p = tmpl; *p;) {
    if (strncmp(p, "{observer}", 10) == 0) {
      o += sprintf(o, "%s", observer);
      p += 10;
    } else {
      *o++ = *p++;
    }
  }
  *o = 0;
  for (const char *p = s->subject; *p; p++)
    if (*p == ' ' || *p == '\t' || *p == '*' || *p == '>' || (*p == '.' && (p[1] == '.' || p[1] == 0)) ||
        (p == s->subject && *p == '.')) {
      snprintf(err, errlen, "%s: '%s' is not a subject to publish on (tokens separated by single dots, no wildcards or spaces)",
               uri, s->subject);
      return PO_EUSAGE;
    }
  /* the servers */
  size_t alen = (size_t)(slash - auth);
  s->servers_text = malloc(alen + 1);
  if (s->servers_text == NULL) return PO_ENOMEM;
  memcpy(s->servers_text, auth, alen);
  s->servers_text[alen] = 0;
  int n = 1;
  for (size_t i = 0; i < alen; i++) n += auth[i] == ',';
  char **u = calloc((size_t)n, sizeof *u);
  if (u == NULL) return PO_ENOMEM;
  *urls = u;
  *nurls = 0;
  const char *p = auth;
  while (p < slash) {
    const char *e = memchr(p, ',', (size_t)(slash - p));
    if (e == NULL) e = slash;
    if (e == p) {
      snprintf(err, errlen, "%s: an empty server in the list", uri);
      return PO_EUSAGE;
    }
    size_t len = (size_t)(e - p) + 8;
    u[*nurls] = malloc(len);
    if (u[*nurls] == NULL) return PO_ENOMEM;
    snprintf(u[*nurls], len, "%s://%.*s", tls ? "tls" : "nats", (int)(e - p), p);
    (*nurls)++;
    p = e + 1;
  }
  return PO_OK;
}

static void nats_close(void *impl);

static int fail_st(po_nats *s, natsStatus st, const char *what, char *err, size_t errlen)
{
  const char *detail = nats_GetLastError(NULL);
  snprintf(err, errlen, "%s: %s%s%s", what, natsStatus_GetText(st), detail ? ": " : "",
           detail ? detail : "");
  nats_close(s);
  return PO_EOPEN;
}

static int nats_open(void **impl, const char *uri, const po_sink_opts *so, char *err, size_t errlen)
{
  po_nats *s = calloc(1, sizeof *s);
  if (s == NULL) return PO_ENOMEM;
  s->diag = so->diag;
  s->ud = so->ud;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->room, NULL);
  pthread_cond_init(&s->done, NULL);
  pthread_cond_init(&s->tick, NULL);
  s->cap = so->buffer ? so->buffer : DEFAULT_BUFFER;
  s->next = s->tail = 1;
  s->ring = calloc(s->cap, sizeof *s->ring);
  if (s->ring == NULL) {
    nats_close(s);
    return PO_ENOMEM;
  }

  char observer[128];
  if (so->observer != NULL && so->observer[0]) snprintf(observer, sizeof observer, "%s", so->observer);
  else if (gethostname(observer, sizeof observer) != 0 || observer[0] == 0) snprintf(observer, sizeof observer, "pathobs");
  observer[sizeof observer - 1] = 0;
  clean_token(observer);
  uint64_t run = 0;
  if (getrandom(&run, sizeof run, 0) != (ssize_t)sizeof run)
    run = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid() ^ (uint64_t)now_ms() << 40;
  snprintf(s->idpfx, sizeof s->idpfx, "%s-%016llx-", observer, (unsigned long long)run);

  char **urls = NULL;
  int nurls = 0;
  int rc = parse_uri(s, uri, observer, &urls, &nurls, err, errlen);
  natsStatus st = NATS_OK;
  if (rc == PO_OK) {
    char name[200];
    snprintf(name, sizeof name, "pathobs %s", observer);
    st = natsOptions_Create(&s->opts);
    if (st == NATS_OK) st = natsOptions_SetServers(s->opts, (const char **)urls, nurls);
    if (st == NATS_OK) st = natsOptions_SetName(s->opts, name);
    if (st == NATS_OK) st = natsOptions_SetNoRandomize(s->opts, true);
    if (st == NATS_OK) st = natsOptions_SetMaxReconnect(s->opts, -1);
    if (st == NATS_OK) st = natsOptions_SetReconnectWait(s->opts, 250);
    if (st == NATS_OK) st = natsOptions_SetTimeout(s->opts, 2000);
    if (st == NATS_OK) st = natsOptions_SetPingInterval(s->opts, 2000);
    if (st == NATS_OK) st = natsOptions_SetMaxPingsOut(s->opts, 2);
    if (st == NATS_OK) st = natsOptions_SetRetryOnFailedConnect(s->opts, true, on_reconnected, s);
    if (st == NATS_OK) st = natsOptions_SetDisconnectedCB(s->opts, on_disconnected, s);
    if (st == NATS_OK) st = natsOptions_SetReconnectedCB(s->opts, on_reconnected, s);
    if (st == NATS_OK) st = natsOptions_SetClosedCB(s->opts, on_closed, s);
    if (st == NATS_OK) st = natsOptions_SetErrorHandler(s->opts, on_error, s);
  }
  for (int i = 0; i < nurls; i++) free(urls[i]);
  free(urls);
  if (rc != PO_OK) {
    nats_close(s);
    return rc;
  }
  if (st != NATS_OK) return fail_st(s, st, "nats options", err, errlen);
  if (so->creds != NULL && access(so->creds, R_OK) != 0) { /* else the connection would just keep failing */
    snprintf(err, errlen, "%s: cannot read the credentials file", so->creds);
    nats_close(s);
    return PO_EOPEN;
  }
  if (so->creds != NULL && (st = natsOptions_SetUserCredentialsFromFiles(s->opts, so->creds, NULL)) != NATS_OK)
    return fail_st(s, st, so->creds, err, errlen);
  if (so->nkey != NULL) {
    const char *colon = strchr(so->nkey, ':');
    if (colon == NULL || colon == so->nkey || colon[1] == 0) {
      snprintf(err, errlen, "--nats-nkey wants PUBLIC_KEY:SEED_FILE, not '%s'", so->nkey);
      nats_close(s);
      return PO_EUSAGE;
    }
    char pub[128];
    snprintf(pub, sizeof pub, "%.*s", (int)(colon - so->nkey), so->nkey);
    if (access(colon + 1, R_OK) != 0) {
      snprintf(err, errlen, "%s: cannot read the NKey seed file", colon + 1);
      nats_close(s);
      return PO_EOPEN;
    }
    if ((st = natsOptions_SetNKeyFromSeed(s->opts, pub, colon + 1)) != NATS_OK)
      return fail_st(s, st, so->nkey, err, errlen);
  }
  if (so->tls_ca != NULL || so->tls_cert != NULL || so->tls_key != NULL) {
    if ((so->tls_cert != NULL) != (so->tls_key != NULL)) {
      snprintf(err, errlen, "--nats-tls-cert and --nats-tls-key go together");
      nats_close(s);
      return PO_EUSAGE;
    }
    if ((st = natsOptions_SetSecure(s->opts, true)) != NATS_OK)
      return fail_st(s, st, "TLS", err, errlen);
    if (so->tls_ca != NULL && (st = natsOptions_LoadCATrustedCertificates(s->opts, so->tls_ca)) != NATS_OK)
      return fail_st(s, st, so->tls_ca, err, errlen);
    if (so->tls_cert != NULL &&
        (st = natsOptions_LoadCertificatesChain(s->opts, so->tls_cert, so->tls_key)) != NATS_OK)
      return fail_st(s, st, so->tls_cert, err, errlen);
  }

  /* Not reachable now: records wait in the ring while the library keeps trying. */
  st = natsConnection_Connect(&s->nc, s->opts);
  if (st == NATS_NOT_YET_CONNECTED) {
    say(s, "nats: %s not reachable yet; records wait while it is tried again", s->servers_text);
    st = NATS_OK;
  }
  if (st != NATS_OK) return fail_st(s, st, s->servers_text, err, errlen);
  char nuid[64];
  natsInbox *inbox = NULL;
  if ((st = natsInbox_Create(&inbox)) != NATS_OK) return fail_st(s, st, "inbox", err, errlen);
  snprintf(nuid, sizeof nuid, "%s", inbox);
  natsInbox_Destroy(inbox);
  snprintf(s->inbox, sizeof s->inbox, "%s.", nuid);
  char wild[112];
  snprintf(wild, sizeof wild, "%s*", s->inbox);
  if ((st = natsConnection_Subscribe(&s->sub, s->nc, wild, on_answer, s)) != NATS_OK)
    return fail_st(s, st, "subscribing to the acknowledgements", err, errlen);
  natsSubscription_SetPendingLimits(s->sub, -1, -1); /* an answer is never dropped */
  if (pthread_create(&s->thread, NULL, retry_main, s) != 0) {
    snprintf(err, errlen, "cannot start the NATS retry thread");
    nats_close(s);
    return PO_ENOMEM;
  }
  s->thread_on = 1;
  *impl = s;
  return PO_OK;
}

static int nats_write(void *impl, const char *rec, size_t n)
{
  po_nats *s = impl;
  if (n > 0 && rec[n - 1] == '\n') n--; /* the message is the record; a line is the consumer's choice */
  pthread_mutex_lock(&s->mu);
  while (!s->interrupted && !s->dead && s->next - s->tail >= s->cap)
    pthread_cond_wait(&s->room, &s->mu);
  if (s->next - s->tail >= s->cap || n > UINT32_MAX) {
    s->c.undelivered++;
    pthread_mutex_unlock(&s->mu);
    return PO_OK;
  }
  slot *sl = &s->ring[s->next % s->cap];
  if (sl->cap < n || sl->data == NULL) {
    char *d = realloc(sl->data, n ? n : 1);
    if (d == NULL) {
      s->c.undelivered++;
      pthread_mutex_unlock(&s->mu);
      return PO_OK;
    }
    sl->data = d;
    sl->cap = (uint32_t)(n ? n : 1);
  }
  memcpy(sl->data, rec, n);
  sl->len = (uint32_t)n;
  sl->errors = 0;
  sl->seq = s->next++;
  s->outstanding++;
  s->c.published++;
  publish(s, sl, now_ms());
  pthread_mutex_unlock(&s->mu);
  return PO_OK;
}

static int nats_flush(void *impl)
{
  (void)impl; /* the library's flusher sends what is buffered */
  return PO_OK;
}

static void nats_interrupt(void *impl)
{
  po_nats *s = impl;
  pthread_mutex_lock(&s->mu);
  s->interrupted = 1;
  pthread_cond_broadcast(&s->room);
  pthread_mutex_unlock(&s->mu);
}

static void nats_finish(void *impl, uint32_t wait_ms)
{
  po_nats *s = impl;
  natsConnection_FlushTimeout(s->nc, 200);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += wait_ms / 1000;
  until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
  pthread_mutex_lock(&s->mu);
  while (s->outstanding > 0 && !s->dead)
    if (pthread_cond_timedwait(&s->done, &s->mu, &until) != 0) break;
  for (uint64_t q = s->tail; q < s->next; q++) {
    slot *sl = &s->ring[q % s->cap];
    if (sl->seq != q) continue;
    sl->seq = 0;
    s->c.undelivered++;
  }
  s->outstanding = 0;
  s->tail = s->next;
  pthread_cond_broadcast(&s->room);
  pthread_mutex_unlock(&s->mu);
}

static void nats_counts(void *impl, po_sink_counts *c)
{
  po_nats *s = impl;
  pthread_mutex_lock(&s->mu);
  *c = s->c;
  pthread_mutex_unlock(&s->mu);
}

static void nats_close(void *impl)
{
  po_nats *s = impl;
  if (s == NULL) return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_broadcast(&s->tick);
  pthread_mutex_unlock(&s->mu);
  if (s->thread_on) pthread_join(s->thread, NULL);
  if (s->sub != NULL) {
    natsSubscription_Unsubscribe(s->sub);
    natsSubscription_Destroy(s->sub);
  }
  if (s->nc != NULL) {
    natsConnection_Close(s->nc);
    natsConnection_Destroy(s->nc);
  }
  natsOptions_Destroy(s->opts);
  /* the library's threads may still be in a callback that points at s */
  if (s->nc != NULL) nats_CloseAndWait(2000);
  if (s->ring != NULL)
    for (uint64_t i = 0; i < s->cap; i++) free(s->ring[i].data);
  free(s->ring);
  free(s->subject);
  free(s->servers_text);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->room);
  pthread_cond_destroy(&s->done);
  pthread_cond_destroy(&s->tick);
  free(s);
}

const po_sink_ops po_sink_nats = {
  .scheme = "nats",
  .open = nats_open,
  .write = nats_write,
  .flush = nats_flush,
  .interrupt = nats_interrupt,
  .finish = nats_finish,
  .counts = nats_counts,
  .close = nats_close,
};
