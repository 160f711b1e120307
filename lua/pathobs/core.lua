-- pathobs.core: the C structures and functions the Lua side shares with the C core.
-- Declared once here; the layout must match src/po.h (tests/lua/test_abi.lua checks it).
local ffi = require("ffi")

ffi.cdef[[
typedef struct po_hdr {
  const uint8_t *p;
  uint32_t cap;
  uint32_t pkt_len;
  uint16_t hdr_len;
  uint8_t version;
  uint8_t proto;
  uint8_t l4;
  uint8_t frag;
  uint16_t fh_off;
} po_hdr;

typedef struct po_pkt {
  po_hdr h[2];
  double ts;
  uint32_t slot;
  uint8_t op;
  uint8_t rev;
  uint16_t gen;
} po_pkt;

typedef struct po_linkinfo {
  uint8_t dst[6];
  uint8_t src[6];
  uint16_t vlan;
  uint8_t has_mac;
  uint8_t pad_;
} po_linkinfo;
const po_linkinfo *po_link_batch(unsigned i);
size_t po_link_abi_layout(size_t *out, size_t n);

typedef struct po_observer po_observer;
void po_obs_describe(const po_observer *o, uint32_t slot, char *buf, size_t len);
int po_decode(const uint8_t *l3, uint32_t cap, po_hdr *h, po_hdr *q);
size_t po_abi_layout(size_t *out, size_t n);

typedef struct po_json po_json;
typedef struct po_out po_out;
typedef struct po_fval { double num; const char *str; uint32_t len; int32_t kind; } po_fval;
po_fval *po_json_flat(po_json *j, const char *const *keys, uint32_t n);
int po_json_flat_done(po_json *j, po_fval *v, po_out *out);
const char *po_json_key(po_json *j, const char *s, size_t n);
const char *const *po_json_keys(po_json *j, const char *const *keys, uint32_t n);

const char *inet_ntop(int af, const void *src, char *dst, uint32_t size);
]]

return {
  L4_NONE = 0, L4_TCP = 1, L4_UDP = 2, L4_ICMP = 3,
  OP_PKT = 0, OP_NEW = 1, OP_EMIT = 2, OP_NEW_QUOTE = 3, OP_PKT_LATE = 4,
  FV_NULL = 0, FV_NUMBER = 1, FV_STRING = 2, FV_FALSE = 3, FV_TRUE = 4,
  VERDICT_NONE = 0, VERDICT_COMPLETE = 1, VERDICT_IGNORE = 2,
}
