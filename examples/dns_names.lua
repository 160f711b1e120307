-- dns_names - the name a DNS flow asked for and what came back (UDP and TCP)
--
-- Fields (flows to or from port 53; every one null on other flows):
--   dns_qname    string: the query name of the flow's first DNS message, in
--                presentation form with its trailing dot ("www.example.com.")
--   dns_qtype    string: its query type ("A", "AAAA", "TXT", ..., "TYPE65280")
--   dns_rcode    string: the response code of the first response ("NOERROR",
--                "NXDOMAIN", ...); null while no response was seen
--   dns_answers  number: how many answer records that response holds
--   dns_addrs    array of strings: the addresses of its A and AAAA answers;
--                null when it has none
--   dns_error    string: why the first payload that was not a DNS message
--                was refused (a DNS-over-TCP message split over segments
--                is refused too: there is no reassembly)
--   dns_bad      string: the first 16 bytes of that payload, in hex
-- Messages are read by libldns (pathobs.dns.parse, parse_tcp), never by a
-- hand-written parser; reading stops at the first response, so a flow costs
-- one or two parses whatever its length.
--
--   pathobs -c basic -c examples/dns_names.lua examples/dns_names.pcap
local pathobs = require("pathobs")
local dns = require("pathobs.dns")

local null, hex = pathobs.null, pathobs.hex
local parse, parse_tcp = dns.parse, dns.parse_tcp
local sub = string.sub
local TYPE_A, TYPE_AAAA = 1, 28

local function names_flow(rec, ip)
  rec.dns_qname, rec.dns_qtype, rec.dns_rcode = null, null, null
  rec.dns_answers, rec.dns_addrs = null, null
  rec.dns_error, rec.dns_bad = null, null
end

-- Copy what the record wants out of one parse result (m, or nil and err).
local function note(rec, payload, m, err)
  if m == nil then
    if rec.dns_error == null then
      rec.dns_error, rec.dns_bad = err, hex(sub(payload, 1, 16))
    end
    return
  end
  if rec.dns_qname == null and m.qname ~= nil then
    rec.dns_qname, rec.dns_qtype = m.qname, m.qtype_name
  end
  if m.qr then
    rec.dns_rcode, rec.dns_answers = m.rcode_name, m.ancount
    local answers, addrs, n = m.answers, {}, 0
    for i = 1, #answers do
      local a = answers[i]
      if a.type == TYPE_A or a.type == TYPE_AAAA then
        n = n + 1
        addrs[n] = a.rdata
      end
    end
    if n > 0 then rec.dns_addrs = addrs end
  end
end

-- Only until the first response, and only for packets with a payload.
local function names_udp(rec, udp, rev)
  if rec.dns_rcode ~= null or udp.payload_len == 0 then return end
  if udp.src_port ~= 53 and udp.dst_port ~= 53 then return end
  local payload = udp.payload
  if payload == nil then return end
  note(rec, payload, parse(payload, 0, true))
end

-- Over TCP each message follows its 2-byte length; this reads the first
-- message of each segment.
local function names_tcp(rec, tcp, rev)
  if rec.dns_rcode ~= null or tcp.payload_len == 0 then return end
  if tcp.src_port ~= 53 and tcp.dst_port ~= 53 then return end
  local payload = tcp.payload
  if payload == nil then return end
  local m, err = parse_tcp(payload, 0, true)
  note(rec, payload, m, err)
end

return {
  new_flow = names_flow,
  udp = names_udp,
  tcp = names_tcp,
}
