/* abi.h - the C/Lua contract, declared once: read by the C compiler (src/po.h) and by pathobs.core's ffi.cdef. */
/* Rules, so that the LuaJIT FFI reads this file as it is once its '#' lines
 * are dropped: plain C declarations only (no macros, no #define constants:
 * constants are enums), types from <stdint.h> and <stddef.h>, and every name
 * Lua needs declared here and nowhere else.  pathobs.core compares the layout
 * of every struct below with src/abi.c's table when it loads. */
#ifndef PO_ABI_H
#define PO_ABI_H

#include <stddef.h>
#include <stdint.h>

/* ---- opaque handles Lua passes back to C ------------------------------- */
typedef struct po_observer po_observer;
typedef struct po_json po_json;
typedef struct po_out po_out;

/* ---- constants: pathobs.core exports each PO_X as core.X --------------- */
/* Transport header fully captured: which one. */
enum { PO_L4_NONE = 0, PO_L4_TCP = 1, PO_L4_UDP = 2, PO_L4_ICMP = 3 };
/* What a batch entry asks Lua to do. */
enum { PO_OP_PKT = 0, PO_OP_NEW = 1, PO_OP_EMIT = 2,
       PO_OP_NEW_QUOTE = 3, /* a new flow opened by an ICMP error: the quoted packet is forward */
       PO_OP_PKT_LATE = 4   /* PO_OP_PKT whose timestamp is older than an earlier frame's:
                             * pkt_last moves only when it is later */ };
/* Kind of a flat record's value (po_fval.kind). */
enum { PO_FV_NULL = 0, PO_FV_NUMBER = 1, PO_FV_STRING = 2, PO_FV_FALSE = 3, PO_FV_TRUE = 4 };
/* A chain's verdict on a batch entry's flow, stored by Lua beside the batch
 * and applied by C after the batch (po_obs_apply_verdicts in po.h). */
enum { PO_VERDICT_NONE = 0, PO_VERDICT_COMPLETE = 1, PO_VERDICT_IGNORE = 2 };

/* ---- structs (each one listed field by field in src/abi.c) ------------- */
/* One decoded IP header: the packet's own, or the one quoted in an ICMP error. */
typedef struct po_hdr {
  const uint8_t *p;   /* first byte of the IP header; NULL when absent */
  uint32_t cap;       /* bytes captured from p to the end of the frame (or quotation) */
  uint32_t pkt_len;   /* length the header claims (v4 total length, v6 40 + payload length) */
  uint16_t hdr_len;   /* IP header bytes, IPv6 extension headers included */
  uint8_t version;    /* 4 or 6 */
  uint8_t proto;      /* transport protocol (IPv6: after extension headers; a later
                       * fragment: its Fragment header's next header, replaced by its
                       * first fragment's protocol when the observer matches it) */
  uint8_t l4;         /* PO_L4_*: transport fixed header completely captured */
  uint8_t frag;       /* 1: fragment with offset > 0 (no transport header) */
  uint16_t fh_off;    /* IPv6: offset of the fragment header, 0 when none */
} po_hdr;

/* One entry of a batch handed to Lua. */
typedef struct po_pkt {
  po_hdr h[2];        /* [0] the packet, [1] the quotation of an ICMP error */
  double ts;          /* timestamp, seconds since the epoch */
  uint32_t slot;      /* flow slot (1-based) */
  uint8_t op;         /* PO_OP_* */
  uint8_t rev;        /* 1: travels opposite to the flow's first packet */
  uint16_t gen;       /* generation of the slot when this entry was made */
} po_pkt;

/* Link layer of one packet, for Lua (pathobs.link): one per batch entry,
 * in an array beside the batch (po_link_batch), so that po_pkt keeps its size. */
typedef struct po_linkinfo {
  uint8_t dst[6];     /* destination MAC */
  uint8_t src[6];     /* source MAC */
  uint16_t vlan;      /* outermost 802.1Q/802.1ad VLAN id, 0xFFFF when none */
  uint8_t has_mac;    /* 1 when dst and src hold the frame's MACs */
  uint8_t pad_;
} po_linkinfo;

/* One value of a flat record (PO_FV_*; a string points into the Lua string). */
typedef struct po_fval {
  double num;
  const char *str;
  uint32_t len;
  int32_t kind;
} po_fval;

/* ---- layout table (abi.c) ---------------------------------------------- */
/* Row i of the table of shared struct fields: the struct's name, the field's,
 * its offset and size, and the struct's size.  1, or 0 past the last row. */
int po_abi_field(unsigned i, const char **type, const char **field, size_t *offset,
                 size_t *size, size_t *type_size);

/* ---- decode.c ---------------------------------------------------------- */
/* Decode the IP packet at l3 (cap captured bytes) into *h; when the packet is
 * an ICMP error that quotes a complete IP header, fill *q too (q->p != NULL).
 * Returns PO_OK or PO_ENOTIP / PO_EMALFORM. */
int po_decode(const uint8_t *l3, uint32_t cap, po_hdr *h, po_hdr *q);

/* ---- linkbatch.c ------------------------------------------------------- */
/* The link layer of batch entry i (kept by run.c as it fills the batch), or
 * NULL past the entries it holds. */
const po_linkinfo *po_link_batch(unsigned i);

/* ---- observer.c ---------------------------------------------------------- */
/* "src:sp -> dst:dp proto N" of a slot's flow in its forward direction. */
void po_obs_describe(const po_observer *o, uint32_t slot, char *buf, size_t len);

/* ---- json.c: flat records (see po.h's json.c section) ------------------ */
po_fval *po_json_flat(po_json *j, const char *const *keys, uint32_t n);
int po_json_flat_done(po_json *j, po_fval *v);
/* Keys owned by C, for flat records: po_json_key gives the copy of key
 * s[0..n) that j keeps until po_json_free (the same copy for the same bytes),
 * po_json_keys the same for an array of n such copies.  NULL when the key
 * needs cleaning (not UTF-8, or a NUL: such records go through the general
 * serialiser), when j holds as many keys as it may (a bound on the memory of
 * keys made of data), or without memory.  The writer thread never reads a
 * Lua string or Lua-owned memory for a flat record's keys. */
const char *po_json_key(po_json *j, const char *s, size_t n);
const char *const *po_json_keys(po_json *j, const char *const *keys, uint32_t n);

#endif
