-- pathobs.link: the link layer of a packet (VLAN id, MAC addresses) where the capture has them.
--
-- Each function takes a header object the chain was handed for the packet
-- (ip, tcp, udp, icmp, or an ICMP error's quotation: the frame is the same)
-- and reads the link layer the source decoded for that batch entry.  nil when
-- the frame has no such field (raw IP, Linux cooked, loopback, no VLAN tag).
local ffi = require("ffi")
local core = require("pathobs.core") -- po_linkinfo, po_link_batch
local C = ffi.C
local format, error, type = string.format, error, type

local M = {}

local function info(hdr)
  local i = hdr ~= nil and hdr.i or nil
  if type(i) ~= "number" and type(i) ~= "cdata" then
    error("pathobs.link: pass the packet's header object (ip, tcp, udp or icmp)", 3)
  end
  if i < 0 then error("pathobs.link: a header object read after the call that received it", 3) end
  local li = C.po_link_batch(i)
  if li == nil then return nil end
  return li
end

local function mac(m)
  return format("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
end

-- Outermost 802.1Q / 802.1ad VLAN id (0..4095), or nil.
function M.vlan(hdr)
  local li = info(hdr)
  if li == nil or li.vlan == 0xFFFF then return nil end
  return li.vlan
end

-- Source / destination MAC address as "aa:bb:cc:dd:ee:ff", or nil.
function M.src_mac(hdr)
  local li = info(hdr)
  if li == nil or li.has_mac == 0 then return nil end
  return mac(li.src)
end

function M.dst_mac(hdr)
  local li = info(hdr)
  if li == nil or li.has_mac == 0 then return nil end
  return mac(li.dst)
end

-- python-libtrace's spellings
M.vlan_id = M.vlan
M.src_macaddr = M.src_mac
M.dst_macaddr = M.dst_mac

local _ = core
return M
