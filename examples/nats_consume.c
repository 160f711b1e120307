/* nats_consume.c - read pathobs records from a JetStream stream into JSON lines, with a durable consumer.
 *
 * Build: cc -o nats_consume nats_consume.c $(pkg-config --cflags --libs libnats)
 * (the project's build makes it too: build/nats_consume).
 *
 *   nats_consume [-s nats://H:P[,nats://H:P...]] [--create SUBJECT] [--replicas N]
 *                [--duplicate-window SEC] [--idle SEC] [--count N] [--id] STREAM DURABLE
 *
 * Prints every record not yet acknowledged by the durable consumer DURABLE,
 * one per line, acknowledging each after it is written; run it again and it
 * goes on where it stopped.  --create makes STREAM for SUBJECT first (when it
 * does not exist), with N replicas and the duplicate window pathobs relies on.
 * --idle SEC stops after SEC seconds without a record (default: follow for
 * ever), --count N after N records; --id puts each record's Nats-Msg-Id and a tab before it. */
#define _POSIX_C_SOURCE 200809L
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, natsStatus s)
{
  const char *detail = nats_GetLastError(NULL);
  fprintf(stderr, "nats_consume: %s: %s%s%s\n", what, natsStatus_GetText(s),
          detail ? ": " : "", detail ? detail : "");
  return 1;
}

int main(int argc, char **argv)
{
  const char *servers = "nats://127.0.0.1:4222", *create = NULL;
  long replicas = 1, dupwin = 600, idle = -1, count = -1, seen = 0;
  int with_id = 0, i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--id") == 0) { with_id = 1; continue; }
    if (v == NULL) break;
    if (strcmp(a, "-s") == 0) servers = v;
    else if (strcmp(a, "--create") == 0) create = v;
    else if (strcmp(a, "--replicas") == 0) replicas = atol(v);
    else if (strcmp(a, "--duplicate-window") == 0) dupwin = atol(v);
    else if (strcmp(a, "--idle") == 0) idle = atol(v);
    else if (strcmp(a, "--count") == 0) count = atol(v);
    else break;
    i++;
  }
  if (argc - i != 2) {
    fprintf(stderr, "usage: nats_consume [-s URLS] [--create SUBJECT] [--replicas N] "
                    "[--duplicate-window SEC] [--idle SEC] [--count N] [--id] STREAM DURABLE\n");
    return 2;
  }
  const char *stream = argv[i], *durable = argv[i + 1];

  natsOptions *opts = NULL;
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  natsStatus s = natsOptions_Create(&opts);
  char *list = strdup(servers), *urls[16];
  int nurls = 0;
  for (char *u = strtok(list, ","); u != NULL && nurls < 16; u = strtok(NULL, ",")) urls[nurls++] = u;
  if (s == NATS_OK) s = natsOptions_SetServers(opts, (const char **)urls, nurls);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
  if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, NULL);
  if (s != NATS_OK) return fail(servers, s);

  jsStreamInfo *si = NULL;
  s = js_GetStreamInfo(&si, js, stream, NULL, NULL);
  if (s == NATS_NOT_FOUND && create != NULL) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream;
    cfg.Subjects = &create;
    cfg.SubjectsLen = 1;
    cfg.Replicas = replicas;
    cfg.Duplicates = (int64_t)dupwin * 1000000000; /* nanoseconds */
    s = js_AddStream(&si, js, &cfg, NULL, NULL);
  }
  if (s != NATS_OK) return fail(stream, s);
  if (si->Config->SubjectsLen < 1) return fail("the stream takes no subject", NATS_ERR);

  /* A durable pull consumer of everything the stream takes: the server
   * remembers what was acknowledged. */
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream;
  natsSubscription *sub = NULL;
  s = js_PullSubscribe(&sub, js, si->Config->Subjects[0], durable, NULL, &so, NULL);
  jsStreamInfo_Destroy(si);
  if (s != NATS_OK) return fail(durable, s);

  long quiet_ms = 0;
  while (count < 0 || seen < count) {
    natsMsgList list = { 0 };
    int want = count < 0 || count - seen > 256 ? 256 : (int)(count - seen);
    s = natsSubscription_Fetch(&list, sub, want, 1000, NULL);
    if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
      quiet_ms += 1000;
      if (idle >= 0 && quiet_ms >= idle * 1000) break;
      continue;
    }
    if (s != NATS_OK) return fail("fetch", s);
    quiet_ms = 0;
    for (int k = 0; k < list.Count; k++) {
      natsMsg *m = list.Msgs[k];
      const char *id = NULL;
      if (with_id && natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK) id = "-";
      if (with_id) printf("%s\t", id);
      fwrite(natsMsg_GetData(m), 1, (size_t)natsMsg_GetDataLength(m), stdout);
      putchar('\n');
      fflush(stdout);
      natsMsg_AckSync(m, NULL, NULL); /* written: the consumer moves past it */
      seen++;
    }
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(opts);
  free(list);
  nats_Close();
  return 0;
}
