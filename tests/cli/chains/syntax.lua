return {
  tcp = function(rec, tcp, rev)
    local x = = 1
  end,
}
