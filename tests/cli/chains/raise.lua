-- raise - counts packets, and raises on every reverse packet (for error isolation tests)
return {
  new_flow = function(rec, ip) rec.n = 0 end,
  ip4 = function(rec, ip, rev)
    rec.n = rec.n + 1
    if rev then error("boom on reverse") end
  end,
  tcp = function(rec, tcp, rev) rec.t = (rec.t or 0) + 1 end,
}
