---@meta pathobs.dns
-- lua-language-server annotations for pathobs.dns (see ../pathobs.lua).
-- Loading the module needs libldns at run time (Debian: libldns3).

---"Is this a DNS response?" through ldns. Never raises on packet bytes.
---@class pathobs.dns
local dns = {}

---True when the bytes of `s` from offset `off` (0-based, default 0) are a
---complete, well-formed DNS message with the QR bit set.
---@param s string?
---@param off? integer
---@return boolean
function dns.is_response(s, off) end

---The same for a DNS-over-TCP payload: a 2-byte big-endian length, then
---exactly that many bytes of DNS message.
---@param s string?
---@return boolean
function dns.is_response_tcp(s) end

return dns
