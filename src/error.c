/* error.c - the text of each pathobs error code. */
#include "po.h"

const char *po_strerror(int err)
{
  switch (err) {
#define PO_X_(name, code, text) case code: return text;
    PO_ERRNO_MAP(PO_X_)
#undef PO_X_
  }
  return "unknown error";
}
