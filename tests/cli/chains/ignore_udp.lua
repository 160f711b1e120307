-- ignore_udp - new_flow returns false for UDP: those flows are ignored
return {
  new_flow = function(rec, ip) if ip.proto == 17 then return false end end,
}
