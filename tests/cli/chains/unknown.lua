return {
  new_flw = function(rec, ip) end,
}
