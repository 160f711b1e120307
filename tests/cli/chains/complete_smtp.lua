-- complete_smtp - ends the port-25 flow at its first packet; a missing return value carries on
return {
  tcp = {
    function(rec, tcp, rev) rec.seen = (rec.seen or 0) + 1 end,
    function(rec, tcp, rev) if tcp.dst_port == 25 or tcp.src_port == 25 then return false end end,
    function(rec, tcp, rev) rec.after = (rec.after or 0) + 1 end,
  },
}
