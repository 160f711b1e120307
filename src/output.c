/* output.c - the JSON-lines sink: a file or stdout behind a 256 KiB buffer (or another sink, sink.c). */
#include "po.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OUT_BUF = 256 * 1024 };

int po_out_open(po_out *o, const char *path)
{
  memset(o, 0, sizeof *o);
  o->buf = malloc(OUT_BUF);
  if (o->buf == NULL) return PO_ENOMEM;
  o->cap = OUT_BUF;
  if (path == NULL || strcmp(path, "-") == 0 || po_stdout_names(path)) {
    o->fd = po_stdout_fd(); /* 1, or its private copy while stdguard.c holds 1 */
    o->name = "standard output";
    return PO_OK;
  }
  o->name = path;
  o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (o->fd < 0) {
    o->err = errno;
    return PO_EWRITE;
  }
  o->own = 1;
  return PO_OK;
}

static int write_all(po_out *o, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(o->fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      o->err = errno;
      return PO_EWRITE;
    }
    p += w;
    n -= (size_t)w;
  }
  return PO_OK;
}

int po_out_flush(po_out *o)
{
  if (o->ops != NULL) return o->ops->flush(o->impl);
  if (o->err) return PO_EWRITE;
  int rc = write_all(o, o->buf, o->len);
  o->len = 0;
  return rc;
}

int po_out_write(po_out *o, const char *p, size_t n)
{
  if (o->ops != NULL) return o->ops->write(o->impl, p, n);
  if (o->err) return PO_EWRITE;
  if (o->len + n > o->cap && po_out_flush(o) != PO_OK) return PO_EWRITE;
  if (n > o->cap) return write_all(o, p, n);
  memcpy(o->buf + o->len, p, n);
  o->len += n;
  return PO_OK;
}

void po_out_close(po_out *o)
{
  if (o->ops != NULL) o->ops->close(o->impl);
  o->ops = NULL;
  o->impl = NULL;
  if (o->own && o->fd >= 0) close(o->fd);
  free(o->buf);
  o->buf = NULL;
  o->fd = -1;
}
