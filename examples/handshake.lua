-- handshake - TCP handshake round-trip times, worked out when the flow ends
--
-- Fields (milliseconds, or null when the flow lacks one of the packets):
--   rtt_server_ms   SYN to SYN-ACK: from the observer to the server and back
--   rtt_client_ms   SYN-ACK to the client's ACK: to the client and back
-- The two add up to the client's RTT when the observer sits near neither end.
-- The packet times are scratch state: fields whose name starts with "_" are
-- never written.  flow_end turns them into the two results just before the
-- record is written.
--
--   pathobs -c basic -c examples/handshake.lua examples/sample.pcap
local pathobs = require("pathobs")

local null = pathobs.null
local floor = math.floor

---@param rec PathobsRecord
local function new_flow(rec)
  rec.rtt_server_ms, rec.rtt_client_ms = null, null
end

-- rec.pkt_last is the time of the packet being run.
---@param rec PathobsRecord
---@param tcp PathobsTCP
local function tcp(rec, tcp, rev)
  if tcp.syn_flag then
    if not rev and not tcp.ack_flag then
      if rec._syn == nil then rec._syn = rec.pkt_last end
    elseif rev and tcp.ack_flag and rec._syn ~= nil and rec._synack == nil then
      rec._synack = rec.pkt_last
    end
  elseif not rev and tcp.ack_flag and rec._synack ~= nil and rec._ack == nil then
    rec._ack = rec.pkt_last
  end
end

local function ms(from, to)
  if from == nil or to == nil then return null end
  return floor((to - from) * 1e6 + 0.5) / 1e3
end

---@param rec PathobsRecord
local function flow_end(rec)
  rec.rtt_server_ms = ms(rec._syn, rec._synack)
  rec.rtt_client_ms = ms(rec._synack, rec._ack)
end

return { new_flow = new_flow, tcp = tcp, flow_end = flow_end }
