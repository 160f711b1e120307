---@meta pathobs
-- lua-language-server annotations for pathobs chain scripts: the header
-- objects, the record, the chain function signatures and the pathobs module.
--
-- This file is never run: it only describes what pathobs hands to a chain,
-- so that an editor offers completion and checks types. Point your editor's
-- lua-language-server at this folder (lua/types in the source tree,
-- PREFIX/share/pathobs/lua/types once installed), e.g. with a .luarc.json
-- next to your chains:
--
--   { "runtime": { "version": "LuaJIT" },
--     "workspace": { "library": ["/usr/local/share/pathobs/lua/types"] } }
--
-- examples/.luarc.json does this for the source tree; docs/lua-api.md
-- describes every field in prose.

---------------------------------------------------------------------------
-- The record and the null sentinel

---JSON `null`: store it where a field has no value yet (Lua tables cannot hold nil).
---@alias PathobsNull lightuserdata

---The flow record: one plain Lua table per flow, written as one JSON object.
---pathobs sets `pkt_first` and `pkt_last`; chains set every other field.
---Values: string, number, boolean, `pathobs.null`, or a table of those
---(keys 1..n: a JSON array; other keys: an object).
---@class PathobsRecord
---@field pkt_first number timestamp of the flow's first packet (seconds since the epoch)
---@field pkt_last number timestamp of its latest packet; during a chain call, of the current packet
---@field [string] any

---------------------------------------------------------------------------
-- Header objects. Each is a borrowed view onto the packet's bytes, valid only
-- during the call that received it: copy values into the record, never keep
-- the object. Fields are read-only; an unknown field name raises.

---Fields common to IPv4 and IPv6 header objects.
---@class PathobsIPCommon
---@field version integer 4 or 6
---@field proto integer transport protocol number (IPv6: after the extension headers; a later IPv6 fragment: its first fragment's)
---@field traffic_class integer IPv4 TOS byte / IPv6 traffic class: DSCP << 2 | ECN
---@field dscp integer traffic_class >> 2 (0..63)
---@field ecn integer traffic_class & 3: 0 not-ECT, 1 ECT(1), 2 ECT(0), 3 CE
---@field size integer bytes captured from the IP header to the end of the frame (link padding included)
---@field pkt_len integer length the header claims: IPv4 total length; IPv6 40 + payload length
---@field hdr_len integer IP header length in bytes (IPv6: 40 plus extension headers)
---@field payload_len integer pkt_len - hdr_len, never negative; not clipped to the capture
---@field payload string? the captured part of the payload; nil when there is none or none was captured
---@field seconds number packet timestamp, seconds since the epoch (microsecond precision)
---@field tcp PathobsTCP? the TCP header, or nil (not TCP, or not wholly captured)
---@field udp PathobsUDP? the UDP header, or nil (not UDP, or not wholly captured)
---@field icmp PathobsICMP? the ICMP (IPv6: ICMPv6) header, or nil

---An IPv4 header.
---@class PathobsIPv4: PathobsIPCommon
---@field src_prefix string source address as text, e.g. "192.0.2.1"
---@field dst_prefix string destination address as text
---@field src_addr string source address, 4 raw bytes
---@field dst_addr string destination address, 4 raw bytes
---@field ttl integer time to live
---@field hop_limit integer the same as ttl
---@field ident integer identification field
---@field has_rf boolean the reserved ("evil", RFC 3514) flag
---@field has_df boolean don't fragment
---@field has_mf boolean more fragments
---@field frag_offset integer fragment offset in bytes
---@field checksum integer header checksum as sent (not verified)

---An IPv6 header.
---@class PathobsIPv6: PathobsIPCommon
---@field src_prefix string source address as text, e.g. "2001:db8::1" (inet_ntop form)
---@field dst_prefix string destination address as text
---@field src_addr string source address, 16 raw bytes
---@field dst_addr string destination address, 16 raw bytes
---@field ttl integer hop limit
---@field hop_limit integer the same as ttl
---@field flow_label integer the 20-bit flow label
---@field next_hdr integer the fixed header's Next Header (proto is the one after the extension headers)
---@field icmp6 PathobsICMP? the same as icmp

---An IPv4 or IPv6 header: test `ip.version` to tell them apart.
---@alias PathobsIP PathobsIPv4|PathobsIPv6

---A TCP header.
---@class PathobsTCP
---@field src_port integer
---@field dst_port integer
---@field seq_nbr integer sequence number (0 .. 2^32-1)
---@field ack_nbr integer acknowledgment number
---@field doff integer data offset in 32-bit words (header length / 4)
---@field flags integer python-libtrace's 12 bits: reserved 0x800-0x200, AE (formerly NS) 0x100, CWR ECE URG ACK PSH RST SYN FIN = 0x80 .. 0x01
---@field fin_flag boolean
---@field syn_flag boolean
---@field rst_flag boolean
---@field psh_flag boolean
---@field ack_flag boolean
---@field urg_flag boolean
---@field ece_flag boolean
---@field cwr_flag boolean
---@field ae_flag boolean AE (Accurate ECN, 0x100; formerly NS)
---@field ns_flag boolean the same as ae_flag (its former name)
---@field window integer window field as sent (not scaled)
---@field checksum integer checksum as sent (not verified)
---@field urg_ptr integer urgent pointer
---@field payload_len integer payload bytes according to the IP length (never negative; padding is never payload)
---@field payload string? the captured part of the payload; nil when there is none or none was captured
---@field ip PathobsIP the IP header of the same packet (TTL, addresses, ...)
local PathobsTCP = {}

---Iterate over the TCP options in order: `for kind, value in tcp:options() do ... end`.
---`value` is the option's data without kind and length bytes. Stops at EOL and
---at a malformed length. One loop at a time per header object.
---@return fun(): integer?, string?
function PathobsTCP:options() end

---A UDP header.
---@class PathobsUDP
---@field src_port integer
---@field dst_port integer
---@field len integer the length field (header + payload) as sent
---@field checksum integer checksum as sent; 0 means none (IPv4)
---@field payload_len integer len - 8, bounded by the IP payload length, never negative
---@field payload string? the captured part of the payload; nil when there is none or none was captured
---@field ip PathobsIP the IP header of the same packet (TTL, addresses, ...)

---An ICMP or ICMPv6 header.
---@class PathobsICMP
---@field type integer
---@field code integer
---@field checksum integer checksum as sent (not verified)
---@field payload string? the captured bytes after the 8-byte ICMP header; nil when there are none
---@field quote PathobsIP? the quoted IP header of an error message, or nil
---@field ip PathobsIP the IP header of the same packet

---------------------------------------------------------------------------
-- Chain functions. Return false to end the flow (new_flow: to ignore it);
-- any other value, or none, carries on.

---`new_flow`: the first packet of a flow. `ip` is its IP header (for a flow
---opened by an ICMP error, the quoted header: the flow's forward direction).
---@alias PathobsNewFlowFn fun(rec: PathobsRecord, ip: PathobsIP): boolean?
---`ip4`: every IPv4 packet of the flow. `rev` is true for the reverse direction.
---@alias PathobsIP4Fn fun(rec: PathobsRecord, ip: PathobsIPv4, rev: boolean): boolean?
---`ip6`: every IPv6 packet of the flow.
---@alias PathobsIP6Fn fun(rec: PathobsRecord, ip: PathobsIPv6, rev: boolean): boolean?
---`icmp4`: every ICMPv4 packet; `q` is the quoted IP header of an error, or nil.
---@alias PathobsICMP4Fn fun(rec: PathobsRecord, ip: PathobsIPv4, q: PathobsIPv4?, rev: boolean): boolean?
---`icmp6`: every ICMPv6 packet; `q` is the quoted IP header of an error, or nil.
---@alias PathobsICMP6Fn fun(rec: PathobsRecord, ip: PathobsIPv6, q: PathobsIPv6?, rev: boolean): boolean?
---`tcp`: every packet with a whole TCP header.
---@alias PathobsTCPFn fun(rec: PathobsRecord, tcp: PathobsTCP, rev: boolean): boolean?
---`udp`: every packet with a whole UDP header.
---@alias PathobsUDPFn fun(rec: PathobsRecord, udp: PathobsUDP, rev: boolean): boolean?
---`l4`: every packet that is neither TCP nor UDP (ICMP included).
---@alias PathobsL4Fn fun(rec: PathobsRecord, ip: PathobsIP, rev: boolean): boolean?
---`flow_end`: once per record, just before it is written (fields whose name
---starts with `_` are scratch state and never written). false skips the
---later flow_end functions for that record.
---@alias PathobsFlowEndFn fun(rec: PathobsRecord): boolean?

---What a chain script returns: chain names to a function or a list of
---functions (run in list order), and `exports`, functions offered to other
---scripts through require. The seed's names (`new_flow_chain`, `ip4_chain`,
---...) are accepted by pathobs too.
---@class (exact) PathobsChain
---@field new_flow? PathobsNewFlowFn|PathobsNewFlowFn[]
---@field ip4? PathobsIP4Fn|PathobsIP4Fn[]
---@field ip6? PathobsIP6Fn|PathobsIP6Fn[]
---@field icmp4? PathobsICMP4Fn|PathobsICMP4Fn[]
---@field icmp6? PathobsICMP6Fn|PathobsICMP6Fn[]
---@field tcp? PathobsTCPFn|PathobsTCPFn[]
---@field udp? PathobsUDPFn|PathobsUDPFn[]
---@field l4? PathobsL4Fn|PathobsL4Fn[]
---@field flow_end? PathobsFlowEndFn|PathobsFlowEndFn[]
---@field exports? table<string, function>

---------------------------------------------------------------------------
-- The pathobs module: local pathobs = require("pathobs")

---@class pathobs
local pathobs = {}

---The JSON null sentinel.
---@type PathobsNull
pathobs.null = nil

---`src_port, dst_port` of a TCP, UDP, SCTP or UDP-Lite packet; `pathobs.null,
---pathobs.null` otherwise (the seed's extract_ports, which knew TCP and UDP only).
---@param ip PathobsIP
---@return integer|PathobsNull src_port
---@return integer|PathobsNull dst_port
function pathobs.extract_ports(ip) end

---The TCP options as `{[kind] = value}`, the first occurrence of each kind
---(value: the data bytes as a string). Never reads past the header, never
---loops on a malformed length. Creates a table: call it from new_flow or on
---SYNs, not on every packet.
---@param tcp PathobsTCP?
---@return table<integer, string>
function pathobs.tcp_options(tcp) end

---The bytes of `s` as lowercase hexadecimal text, two digits a byte, with
---`sep` between the bytes: `hex("\192\0\2\10")` is `"c000020a"`,
---`hex(mac, ":")` is `"02:00:5e:10:00:01"`. `nil` gives `nil`; any other
---type raises. For binary fields in records.
---@param s string?
---@param sep? string
---@return string?
function pathobs.hex(s, sep) end

-- TCP flag bits
pathobs.TCP_FIN = 0x01
pathobs.TCP_SYN = 0x02
pathobs.TCP_RST = 0x04
pathobs.TCP_PSH = 0x08
pathobs.TCP_ACK = 0x10
pathobs.TCP_URG = 0x20
pathobs.TCP_ECE = 0x40
pathobs.TCP_CWR = 0x80
---AE (Accurate ECN; formerly NS): tcp.flags has 12 bits
pathobs.TCP_AE = 0x100
---SYN ACK
pathobs.TCP_SA = 0x12
---SYN ECE CWR: a SYN asking for ECN
pathobs.TCP_SEC = 0xc2
---SYN ACK ECE CWR
pathobs.TCP_SAEC = 0xd2
---SYN ACK ECE: a SYN+ACK agreeing to ECN
pathobs.TCP_SAE = 0x52

-- TCP option kinds
pathobs.TO_EOL = 0
pathobs.TO_NOP = 1
pathobs.TO_MSS = 2
pathobs.TO_WS = 3
pathobs.TO_SACKOK = 4
pathobs.TO_SACK = 5
pathobs.TO_TS = 8
pathobs.TO_MPTCP = 30
pathobs.TO_FASTOPEN = 34
pathobs.TO_EXPA = 254
pathobs.TO_EXPB = 255
---The experiment ID of TCP Fast Open in options 254/255 (RFC 6994)
pathobs.TO_EXID_FASTOPEN = 0xf989

-- ICMP types
pathobs.ICMP4_UNREACHABLE = 3
pathobs.ICMP4_TTLEXCEEDED = 11
pathobs.ICMP6_UNREACHABLE = 1
pathobs.ICMP6_TTLEXCEEDED = 3

return pathobs
