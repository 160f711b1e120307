-- pathobs: the runtime module for chain authors (null, helpers, protocol constants).
local headers = require("pathobs.headers")

local M = {}

-- The worker these chains run in (1..workers; -j N runs N workers, each with
-- its own Lua state: a chain's module-level state is per worker).
M.worker, M.workers = 1, 1

-- The JSON null sentinel (a NULL light userdata from the C core).
M.null = require("pathobs.null")

-- TCP flags.
M.TCP_FIN, M.TCP_SYN, M.TCP_RST, M.TCP_PSH = 0x01, 0x02, 0x04, 0x08
M.TCP_ACK, M.TCP_URG, M.TCP_ECE, M.TCP_CWR = 0x10, 0x20, 0x40, 0x80
M.TCP_AE = 0x100  -- AE (formerly NS): tcp.flags has 12 bits, as in python-libtrace
M.TCP_SA = 0x12   -- SYN ACK
M.TCP_SEC = 0xc2  -- SYN ECE CWR
M.TCP_SAEC = 0xd2 -- SYN ACK ECE CWR
M.TCP_SAE = 0x52  -- SYN ACK ECE

-- TCP option kinds.
M.TO_EOL, M.TO_NOP, M.TO_MSS, M.TO_WS, M.TO_SACKOK, M.TO_SACK = 0, 1, 2, 3, 4, 5
M.TO_TS, M.TO_MPTCP, M.TO_FASTOPEN, M.TO_EXPA, M.TO_EXPB = 8, 30, 34, 254, 255
M.TO_EXID_FASTOPEN = 0xf989

-- ICMP types.
M.ICMP4_UNREACHABLE, M.ICMP4_TTLEXCEEDED = 3, 11
M.ICMP6_UNREACHABLE, M.ICMP6_TTLEXCEEDED = 1, 3

local null = M.null

-- Binary strings as lowercase hex: hex("\1\255") is "01ff", hex(s, ":") separates bytes.
M.hex = require("pathobs.hex")

-- src_port, dst_port of a TCP, UDP, SCTP or UDP-Lite packet; null, null
-- otherwise.  A TCP header cut short (an ICMP error's quotation, a small
-- snaplen) still gives its ports when their four bytes are there, as they are
-- in the flow's key (which has the ports of all four protocols).
function M.extract_ports(ip)
  local t = ip.tcp or ip.udp
  if t ~= nil then return t.src_port, t.dst_port end
  local proto = ip.proto
  if proto == 6 or proto == 17 or proto == 132 or proto == 136 then
    local sp, dp = headers.ports(ip)
    if sp ~= nil then return sp, dp end
  end
  return null, null
end

local function keep_first(opts, kind, value)
  if opts[kind] == nil then opts[kind] = value end
end

-- {[kind] = value string} for the first occurrence of each option kind.
-- Never reads past the header and never loops on a malformed length.
function M.tcp_options(tcp)
  local opts = {}
  if tcp ~= nil then headers.each_option(tcp, keep_first, opts) end
  return opts
end

return M
