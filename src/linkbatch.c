/* linkbatch.c - the link layer (VLAN, MACs) of each batch entry, beside the batch, for pathobs.link. */
#include "po.h"

#include <stdlib.h>

/* One run at a time fills the batch, so one array serves: entry i of the
 * batch Lua runs over is entry i here (run.c sets it as packets go in). */
static po_linkinfo *links;
static unsigned nlinks;

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

void po_link_batch_set(unsigned from, unsigned to, const po_linkinfo *li)
{
  if (to > nlinks && po_link_batch_reserve(to + to / 2 + 64) != PO_OK) to = nlinks;
  for (unsigned i = from; i < to; i++) links[i] = *li;
}

const po_linkinfo *po_link_batch(unsigned i) { return i < nlinks ? &links[i] : NULL; }
