/* abi.c - every field of the structs shared with Lua (lua/pathobs/abi.h) as the C compiler lays it out, for pathobs.core's check at load. */
#include "po.h"

/* One line per field of every struct in abi.h: a field added there and not
 * here is reported by pathobs.core when it loads (tests/lua/test_abi.lua). */
#define PO_ABI_FIELDS(X)                                                            \
  X(po_hdr, p) X(po_hdr, cap) X(po_hdr, pkt_len) X(po_hdr, hdr_len) X(po_hdr, version) \
  X(po_hdr, proto) X(po_hdr, l4) X(po_hdr, frag) X(po_hdr, fh_off)                  \
  X(po_pkt, h) X(po_pkt, ts) X(po_pkt, slot) X(po_pkt, op) X(po_pkt, rev) X(po_pkt, gen) \
  X(po_linkinfo, dst) X(po_linkinfo, src) X(po_linkinfo, vlan) X(po_linkinfo, has_mac) \
  X(po_linkinfo, pad_)                                                              \
  X(po_fval, num) X(po_fval, str) X(po_fval, len) X(po_fval, kind)

static const struct {
  const char *type, *field;
  size_t offset, size, type_size;
} fields[] = {
#define PO_X_(T, F) { #T, #F, offsetof(T, F), sizeof(((T *)0)->F), sizeof(T) },
  PO_ABI_FIELDS(PO_X_)
#undef PO_X_
};

int po_abi_field(unsigned i, const char **type, const char **field, size_t *offset,
                 size_t *size, size_t *type_size)
{
  if (i >= sizeof fields / sizeof fields[0]) return 0;
  *type = fields[i].type;
  *field = fields[i].field;
  *offset = fields[i].offset;
  *size = fields[i].size;
  *type_size = fields[i].type_size;
  return 1;
}
