/* stats.c - the counters: the human line at exit and the --stats JSON object. */
#include "po.h"

#include <cjson/cJSON.h>
#include <stdio.h>

int po_stats_line(const po_stats *s, char *buf, size_t len)
{
  int n = snprintf(buf, len,
                  "%llu packets (%llu dropped, %llu short, %llu non-ip, %llu fragments) -> "
                  "%llu flows (%llu ignored, %llu evicted), %llu chain errors",
                  (unsigned long long)s->packets, (unsigned long long)s->dropped,
                  (unsigned long long)s->shorts, (unsigned long long)s->non_ip,
                  (unsigned long long)s->fragments, (unsigned long long)s->flows,
                  (unsigned long long)s->ignored, (unsigned long long)s->evicted,
                  (unsigned long long)s->chain_errors);
  if (s->sink_counted && n >= 0 && (size_t)n < len)
    n += snprintf(buf + n, len - (size_t)n,
                  "; records %llu published, %llu acknowledged, %llu retried, %llu not delivered",
                  (unsigned long long)s->published, (unsigned long long)s->acked,
                  (unsigned long long)s->retried, (unsigned long long)s->undelivered);
  return n;
}

char *po_stats_json(const po_stats *s)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  /* sorted keys, like the records */
  cJSON_AddNumberToObject(o, "chain_errors", (double)s->chain_errors);
  cJSON_AddNumberToObject(o, "dropped", (double)s->dropped);
  cJSON_AddNumberToObject(o, "evicted", (double)s->evicted);
  cJSON_AddNumberToObject(o, "flows", (double)s->flows);
  cJSON_AddNumberToObject(o, "fragments", (double)s->fragments);
  cJSON_AddNumberToObject(o, "ignored", (double)s->ignored);
  cJSON_AddNumberToObject(o, "non_ip", (double)s->non_ip);
  cJSON_AddNumberToObject(o, "packets", (double)s->packets);
  cJSON_AddNumberToObject(o, "records", (double)s->records);
  cJSON_AddNumberToObject(o, "short", (double)s->shorts);
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
