-- scalars - the same hard scalar values in every record; every second record
-- also holds a function, which only the C serialiser writes (the first record
-- goes through the Lua writer), so the two lines must differ by that key only
local null = require("pathobs").null
local n = 0
return {
  new_flow = function(rec)
    n = n + 1
    rec.zero, rec.negzero, rec.third, rec.big, rec.huge = 0, -0.0, 1 / 3, 2 ^ 53, 1e300
    rec.past53, rec.neg, rec.micro, rec.tiny, rec.ts = 2 ^ 53 + 2, -1.5, 123.456789, 1e-7, 1700000000.25
    rec.nan, rec.inf, rec.ninf = 0 / 0, 1 / 0, -1 / 0
    rec.yes, rec.no, rec.nothing = true, false, null
    rec.bytes = "\192\0\2\n\"\\\t/\127"
    rec.utf8 = "h\195\169 \226\130\172 \240\159\152\128"
    rec.empty = ""
    rec["ключ"] = 1
    rec["q\"uote"] = 2
    rec.A, rec.a, rec.aa, rec.B = 3, 4, 5, 6
    if n % 2 == 0 then rec.fn = print end
  end,
}
