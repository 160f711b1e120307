/* stats.c - the counters: the human line at exit and the --stats JSON object. */
#include "po.h"

#include <cjson/cJSON.h>
#include <stdio.h>

int po_stats_line(const po_stats *s, char *buf, size_t len)
{
  return snprintf(buf, len,
                  "%llu packets (%llu dropped, %llu short, %llu non-ip, %llu fragments, %llu reordered) -> "
                  "%llu flows (%llu ignored, %llu evicted), %llu chain errors",
                  (unsigned long long)s->packets, (unsigned long long)s->dropped,
                  (unsigned long long)s->shorts, (unsigned long long)s->non_ip,
                  (unsigned long long)s->fragments, (unsigned long long)s->reordered,
                  (unsigned long long)s->flows,
                  (unsigned long long)s->ignored, (unsigned long long)s->evicted,
                  (unsigned long long)s->chain_errors);
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
  cJSON_AddNumberToObject(o, "reordered", (double)s->reordered);
  cJSON_AddNumberToObject(o, "short", (double)s->shorts);
  char *txt = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return txt;
}
