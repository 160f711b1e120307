-- huge - records of 100 KB each, to fill a pipe
local pad = string.rep("x", 100000)
return { new_flow = function(rec) rec.pad = pad end }
