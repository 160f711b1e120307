/* stats.c - the counters: the human line at exit and the --stats JSON object. */
#include "po.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int po_stats_line(const po_stats *s, char *buf, size_t len)
{
  int n = snprintf(buf, len,
                  "%llu packets (%llu dropped, %llu short, %llu non-ip, %llu fragments, %llu reordered) -> "
                  "%llu flows (%llu ignored, %llu evicted), %llu chain errors",
                  (unsigned long long)s->packets, (unsigned long long)s->dropped,
                  (unsigned long long)s->shorts, (unsigned long long)s->non_ip,
                  (unsigned long long)s->fragments, (unsigned long long)s->reordered,
                  (unsigned long long)s->flows,
                  (unsigned long long)s->ignored, (unsigned long long)s->evicted,
                  (unsigned long long)s->chain_errors);
  if (s->sink_counted && n >= 0 && (size_t)n < len)
    n += snprintf(buf + n, len - (size_t)n,
                  "; records %llu published, %llu acknowledged, %llu retried, %llu not delivered",
                  (unsigned long long)s->published, (unsigned long long)s->acked,
                  (unsigned long long)s->retried, (unsigned long long)s->undelivered);
  return n;
}

static double millis(double t) { return round(t * 1000) / 1000; }

char *po_stats_json(const po_stats *s, const po_stats_run *run)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  /* sorted keys, like the records */
  cJSON_AddNumberToObject(o, "chain_errors", (double)s->chain_errors);
  cJSON_AddNumberToObject(o, "dropped", (double)s->dropped);
  if (run != NULL) cJSON_AddNumberToObject(o, "duration", millis(millis(run->end) - millis(run->start)));
  if (run != NULL) cJSON_AddNumberToObject(o, "end", millis(run->end));
  cJSON_AddNumberToObject(o, "evicted", (double)s->evicted);
  cJSON_AddNumberToObject(o, "flows", (double)s->flows);
  cJSON_AddNumberToObject(o, "fragments", (double)s->fragments);
  cJSON_AddNumberToObject(o, "ignored", (double)s->ignored);
  cJSON_AddNumberToObject(o, "non_ip", (double)s->non_ip);
  cJSON_AddNumberToObject(o, "packets", (double)s->packets);
  cJSON_AddNumberToObject(o, "records", (double)s->records);
  cJSON_AddNumberToObject(o, "reordered", (double)s->reordered);
  cJSON_AddNumberToObject(o, "short", (double)s->shorts);
  if (run != NULL && run->source != NULL) cJSON_AddStringToObject(o, "source", run->source);
  if (run != NULL) cJSON_AddNumberToObject(o, "start", millis(run->start));
  if (s->sink_counted) { /* a sink that awaits acknowledgements (NATS) */
    cJSON *k = cJSON_AddObjectToObject(o, "sink");
    if (k != NULL) {
      cJSON_AddNumberToObject(k, "acknowledged", (double)s->acked);
      cJSON_AddNumberToObject(k, "not_delivered", (double)s->undelivered);
      cJSON_AddNumberToObject(k, "published", (double)s->published);
      cJSON_AddNumberToObject(k, "retried", (double)s->retried);
    }
  }
  char *txt = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return txt;
}

int po_stats_writable(const char *path)
{
  char tmp[4200];
  struct stat st;
  int fd;
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* a device, a FIFO, a link: in place */
    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) return 0; /* opening would wait for a reader */
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    close(fd);
    return 0;
  }
  /* a regular file or none: written as PATH.tmp, then renamed over PATH */
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) return ENAMETOOLONG;
  int existed = lstat(tmp, &st) == 0;
  fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  close(fd);
  if (!existed) unlink(tmp);
  return 0;
}
