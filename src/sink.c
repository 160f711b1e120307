/* sink.c - the table of sink modules chosen by -o's URI scheme, and the calls every sink answers. */
#include "po.h"

#include <stdio.h>
#include <string.h>

/* A Kafka module (librdkafka) would be one more line here. */
static const po_sink_ops *const sinks[] = { &po_sink_nats };

const po_sink_ops *po_sink_find(const char *spec)
{
  if (spec == NULL) return NULL;
  for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++) {
    size_t n = strlen(sinks[i]->scheme);
    if (strncmp(spec, sinks[i]->scheme, n) == 0 && strncmp(spec + n, "://", 3) == 0)
      return sinks[i];
  }
  if (strncmp(spec, "tls://", 6) == 0) return &po_sink_nats; /* NATS over TLS */
  return NULL;
}

int po_out_open_sink(po_out *o, const char *spec, const po_sink_opts *so, char *err,
                     size_t errlen)
{
  const po_sink_ops *ops = po_sink_find(spec);
  if (ops == NULL) {
    int rc = po_out_open(o, spec);
    if (rc != PO_OK) snprintf(err, errlen, "%s", strerror(o->err));
    return rc;
  }
  memset(o, 0, sizeof *o);
  o->fd = -1;
  o->name = spec;
  int rc = ops->open(&o->impl, spec, so, err, errlen);
  if (rc != PO_OK) return rc;
  o->ops = ops;
  return PO_OK;
}

void po_out_interrupt(po_out *o)
{
  if (o->ops != NULL && o->ops->interrupt != NULL) o->ops->interrupt(o->impl);
}

void po_out_finish(po_out *o, uint32_t wait_ms)
{
  if (o->ops != NULL && o->ops->finish != NULL) o->ops->finish(o->impl, wait_ms);
}

int po_out_counts(po_out *o, po_sink_counts *c)
{
  memset(c, 0, sizeof *c);
  if (o->ops == NULL || o->ops->counts == NULL) return 0;
  o->ops->counts(o->impl, c);
  return 1;
}
