/* linkbatch.c - the link layer (VLAN, MACs) of each batch entry, beside the batch, for pathobs.link. */
#include "po.h"

#include <stdlib.h>

/* One array per thread (the loop thread with one worker, else each worker's
 * thread): entry i of the batch Lua runs over on this thread is entry i here
 * (set as packets go in). */
static _Thread_local po_linkinfo *links; /* per thread: each worker has its batch */
static _Thread_local unsigned nlinks;

int po_link_batch_reserve(unsigned n)
{
  if (n <= nlinks) return PO_OK;
  po_linkinfo *l = realloc(links, (size_t)n * sizeof *l);
  if (l == NULL) return PO_ENOMEM;
  for (unsigned i = nlinks; i < n; i++) {
    l[i] = (po_linkinfo){ .vlan = 0xFFFF };
  }
  links = l;
  nlinks = n;
  return PO_OK;
}

void po_link_batch_free(void)
{
  free(links);
  links = NULL;
  nlinks = 0;
}

void po_link_batch_set(unsigned from, unsigned to, const po_linkinfo *li)
{
  if (to > nlinks && po_link_batch_reserve(to + to / 2 + 64) != PO_OK) to = nlinks;
  for (unsigned i = from; i < to; i++) links[i] = *li;
}

const po_linkinfo *po_link_batch(unsigned i) { return i < nlinks ? &links[i] : NULL; }
