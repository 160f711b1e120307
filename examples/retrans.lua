-- retrans - TCP segments with payload sent again, counted per direction
--
-- Fields (TCP flows; null on other flows):
--   retrans_fwd, retrans_rev   int: segments with payload whose sequence
--                              number lies before the highest one already
--                              sent in that direction
-- A segment counts when its first payload byte was already covered by an
-- earlier segment: a retransmission, or a segment that arrived out of order
-- after a later one (this chain cannot tell the two apart). Segments without
-- payload (pure ACKs, a repeated SYN or FIN) never count. Sequence numbers
-- are compared modulo 2^32, so a stream that wraps around is fine. A flow
-- seen from its middle starts counting at its first segment.
--
--   pathobs -c basic -c examples/retrans.lua examples/retrans.pcap
--
-- The highest sequence number sent so far is state the record should not
-- carry: it lives in two weak-keyed tables indexed by the record, and goes
-- away with the record once it is written.
local pathobs = require("pathobs")
local fields = require("pathobs.fields")

local null = pathobs.null
local RETRANS = fields.dir("retrans")
local SEQ_END = { [false] = setmetatable({}, { __mode = "k" }),
                  [true] = setmetatable({}, { __mode = "k" }) }
local WRAP, HALF = 4294967296, 2147483648

---@param rec PathobsRecord
---@param ip PathobsIP
local function retrans_flow(rec, ip)
  if ip.proto == 6 then
    fields.init(rec, RETRANS, 0)
  else
    fields.init(rec, RETRANS, null)
  end
end

---@param rec PathobsRecord
---@param tcp PathobsTCP
---@param rev boolean
local function retrans_segment(rec, tcp, rev)
  local seen = SEQ_END[rev]
  local seq = tcp.seq_nbr
  local len = tcp.payload_len
  if tcp.syn_flag then len = len + 1 end -- SYN and FIN use a sequence number
  if tcp.fin_flag then len = len + 1 end
  local last = seen[rec]
  local e = (seq + len) % WRAP
  if last == nil then
    seen[rec] = e
    return
  end
  -- how far seq lies before last, modulo 2^32 (0 .. 2^31-1 is "before")
  if tcp.payload_len > 0 then
    local behind = (last - seq) % WRAP
    if behind > 0 and behind < HALF then
      local k = RETRANS[rev]
      rec[k] = (tonumber(rec[k]) or 0) + 1 -- 0 if a non-TCP packet opened the flow (--aggregate)
    end
  end
  if (e - last) % WRAP < HALF then seen[rec] = e end
end

---@type PathobsChain
local chain = {
  new_flow = retrans_flow,
  tcp = retrans_segment,
  exports = { retrans_flow = retrans_flow, retrans_segment = retrans_segment },
}
return chain
