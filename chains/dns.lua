-- dns - whether a valid DNS response came back (UDP or TCP); completes the flow
--
-- Fields:
--   dns_response_valid  bool: a reverse-direction UDP payload, or TCP payload
--                       after its 2-byte length prefix, parsed (ldns) as a
--                       complete, well-formed DNS message with QR set
-- The tcp and udp functions return false (flow complete) once
-- dns_response_valid is true. Over TCP the length prefix must equal the rest
-- of the segment (one whole message per segment). Needs libldns at run time.
local dns = require("pathobs.dns")

local is_response, is_response_tcp = dns.is_response, dns.is_response_tcp

local function dns_flow(rec, ip)
  rec.dns_response_valid = false
  return true
end

local function dns_tcp(rec, tcp, rev)
  if rev and tcp.payload_len > 0 and is_response_tcp(tcp.payload) then
    rec.dns_response_valid = true
  end
  return not rec.dns_response_valid
end

local function dns_udp(rec, udp, rev)
  if rev and udp.payload_len > 0 and is_response(udp.payload) then
    rec.dns_response_valid = true
  end
  return not rec.dns_response_valid
end

return {
  new_flow = dns_flow,
  tcp = dns_tcp,
  udp = dns_udp,
  exports = { dns_flow = dns_flow, dns_tcp = dns_tcp, dns_udp = dns_udp },
}
