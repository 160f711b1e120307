-- weird - stores values JSON cannot hold as they are
local ffi = require("ffi")
local null = require("pathobs").null
return {
  new_flow = function(rec, ip)
    rec.nan, rec.inf = 0 / 0, 1 / 0
    rec.bytes = ip.src_addr
    rec.fn = print
    rec.list = { 1, 2.5, "x", null, { a = true } }
    rec.cyc = {}
    rec.cyc.me = rec.cyc
    rec.big = ffi.new("uint64_t", 12345678901234ULL)
    rec.nothing = null
  end,
}
