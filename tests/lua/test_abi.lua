-- test_abi.lua - the FFI declarations of po_hdr, po_pkt, po_fval and po_linkinfo (and its kinds) match the C compiler's layout.
local ffi = require("ffi")
local t = require("t")
local core = require("pathobs.core")

local want = {
  ffi.sizeof("po_hdr"), ffi.offsetof("po_hdr", "cap"), ffi.offsetof("po_hdr", "pkt_len"),
  ffi.offsetof("po_hdr", "hdr_len"), ffi.offsetof("po_hdr", "version"),
  ffi.offsetof("po_hdr", "proto"), ffi.offsetof("po_hdr", "l4"), ffi.offsetof("po_hdr", "frag"),
  ffi.offsetof("po_hdr", "fh_off"),
  ffi.sizeof("po_pkt"), ffi.offsetof("po_pkt", "ts"), ffi.offsetof("po_pkt", "slot"),
  ffi.offsetof("po_pkt", "op"), ffi.offsetof("po_pkt", "rev"), ffi.offsetof("po_pkt", "gen"),
  ffi.sizeof("po_fval"), ffi.offsetof("po_fval", "num"), ffi.offsetof("po_fval", "str"),
  ffi.offsetof("po_fval", "len"), ffi.offsetof("po_fval", "kind"),
  core.FV_NULL, core.FV_NUMBER, core.FV_STRING, core.FV_FALSE, core.FV_TRUE,
}
local out = ffi.new("size_t[32]")
local n = tonumber(ffi.C.po_abi_layout(out, 32))
t.eq(n, #want, "number of layout facts")
for i = 1, #want do t.eq(tonumber(out[i - 1]), want[i], "layout fact " .. i) end

-- po_linkinfo (linkbatch.c), beside the batch for pathobs.link
local lwant = {
  ffi.sizeof("po_linkinfo"), ffi.offsetof("po_linkinfo", "dst"), ffi.offsetof("po_linkinfo", "src"),
  ffi.offsetof("po_linkinfo", "vlan"), ffi.offsetof("po_linkinfo", "has_mac"),
}
local ln = tonumber(ffi.C.po_link_abi_layout(out, 32))
t.eq(ln, #lwant, "number of po_linkinfo layout facts")
for i = 1, #lwant do t.eq(tonumber(out[i - 1]), lwant[i], "po_linkinfo layout fact " .. i) end
t.done()
