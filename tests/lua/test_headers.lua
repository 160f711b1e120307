-- test_headers.lua - every field of the IPv4, IPv6, TCP, UDP and ICMP header objects.
local t = require("t")
local P = require("pkt")
local pathobs = require("pathobs")

-- IPv4 address strings are cached by address: addresses that share a cache
-- slot, in turn, and every value of an octet
do
  local headers = require("pathobs.headers")
  local function src_of(a)
    local ip = P.decode(P.ip4{ src = a, dst = "198.51.100.2", proto = 17, payload = P.udp{ sp = 1, dp = 2 } }, 1)
    return ip.src_prefix
  end
  local function num(a)
    local b1, b2, b3, b4 = a:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  end
  -- two more addresses in the slot of 10.0.0.1
  local slot, same = headers.addr_slot(num("10.0.0.1")), {}
  for k = 1, 4000000 do
    local a = num("10.0.0.1") + k * 4099
    if headers.addr_slot(a) == slot then
      same[#same + 1] = ("%d.%d.%d.%d"):format(math.floor(a / 2^24), math.floor(a / 2^16) % 256,
        math.floor(a / 2^8) % 256, a % 256)
      if #same == 2 then break end
    end
  end
  t.eq(#same, 2, "addresses that share a slot")
  for _ = 1, 3 do
    t.eq(src_of("10.0.0.1"), "10.0.0.1", "cached address")
    t.eq(src_of(same[1]), same[1], "same slot, other address")
    t.eq(src_of(same[2]), same[2], "same slot, third address")
  end
  -- one network's clients and another's servers are spread over the slots
  local used, n = {}, 0
  for i = 1, 3000 do
    for _, base in ipairs({ num("10.0.0.0"), num("198.18.0.0") }) do
      local s = headers.addr_slot(base + i)
      if not used[s] then used[s] = true; n = n + 1 end
    end
  end
  t.ok(n > 5000, "6000 addresses in more than 5000 slots (" .. n .. ")")
  local bad = 0
  for o = 0, 255 do
    local a = "172." .. o .. "." .. (255 - o) .. "." .. o
    if src_of(a) ~= a or src_of(a) ~= a then bad = bad + 1 end
  end
  t.eq(bad, 0, "addresses read back")
end

-- IPv6 address strings are remembered by address until the cache fills up
-- and is emptied: every one reads back right before, across and after that,
-- including the forms inet_ntop writes differently (zero runs, mapped IPv4)
do
  local headers = require("pathobs.headers")
  local function src_of(a)
    local ip = P.decode(P.ip6{ src = a, nh = 17, payload = P.udp{ sp = 1, dp = 2 } }, 1)
    return ip.src_prefix
  end
  local special = { "::", "::1", "2001:db8::", "fe80::1:0:0:1", "2001:0:0:1::1", "::ffff:192.0.2.7",
    "2001:db8:0:0:1:0:0:1", "ff02::1:ff00:1" }
  local expect = { "::", "::1", "2001:db8::", "fe80::1:0:0:1", "2001:0:0:1::1", "::ffff:192.0.2.7",
    "2001:db8::1:0:0:1", "ff02::1:ff00:1" }
  local bad, n = 0, headers.V6CACHE + 500
  for round = 1, 2 do
    for i = 1, n do
      local a = ("2001:db8:%x:%x::%x"):format(math.floor(i / 65536), i % 65536, round)
      if src_of(a) ~= a then bad = bad + 1 end
      if i % 4000 == 1 then
        for k = 1, #special do
          if src_of(special[k]) ~= expect[k] then bad = bad + 1 end
        end
      end
    end
    for i = n, 1, -997 do -- the ones still cached and the ones dropped when it was emptied
      local a = ("2001:db8:%x:%x::%x"):format(math.floor(i / 65536), i % 65536, round)
      if src_of(a) ~= a then bad = bad + 1 end
    end
  end
  t.eq(bad, 0, "IPv6 addresses read back through the cache")
end

-- Two IPv6 addresses in one slot of the cache, differing in one 32-bit word
-- (each word in turn): each reads back as itself, again and again
do
  local headers = require("pathobs.headers")
  local function ip_of(a)
    return P.decode(P.ip6{ src = a, nh = 17, payload = P.udp{ sp = 1, dp = 2 } }, 1)
  end
  local base = { 0x2001, 0xdb8, 0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666 }
  local function addr(g, v)
    local groups = {}
    for k = 1, 8 do groups[k] = ("%x"):format(k == g and v or base[k]) end
    return table.concat(groups, ":")
  end
  local pairs_found, bad = 0, 0
  for g = 1, 8, 2 do -- groups 1, 3, 5, 7: one in each 32-bit word
    local first = {}
    for v = 1, 0xffff do
      local a = addr(g, v)
      local slot = headers.v6_slot_of(ip_of(a).src_addr)
      local other = first[slot]
      if other then
        pairs_found = pairs_found + 1
        for _ = 1, 3 do
          if ip_of(a).src_prefix ~= a then bad = bad + 1 end
          if ip_of(other).src_prefix ~= other then bad = bad + 1 end
        end
        break
      end
      first[slot] = a
    end
  end
  t.eq(pairs_found, 4, "an address pair sharing a slot for each word")
  t.eq(bad, 0, "addresses sharing a slot read back")
end

-- IPv4 + TCP with options, payload and Ethernet padding
do
  local opts = "\2\4\5\180" .. "\1" .. "\3\3\7" .. "\4\2" .. "\8\10" .. P.u32(7) .. P.u32(9) .. "\0\0"
  local seg = P.tcp{ sp = 40000, dp = 443, seq = 4000000000, ack = 123456789, flags = 0xd2,
    window = 65535, options = opts, payload = "hello", checksum = 0xbeef, urg = 3 }
  local pkt = P.ip4{ src = "192.0.2.1", dst = "198.51.100.2", proto = 6, tos = 0xb9, ttl = 57,
    ident = 0xabcd, flags = 0x4 + 0x2, checksum = 0x1234, payload = seg }
  local ip = P.decode(pkt .. string.rep("\0", 7), 1500000000.25)
  t.eq(ip.version, 4, "version")
  t.eq(ip.src_prefix, "192.0.2.1", "src_prefix")
  t.eq(ip.dst_prefix, "198.51.100.2", "dst_prefix")
  t.eq(ip.src_addr, "\192\0\2\1", "src_addr")
  t.eq(ip.dst_addr, "\198\51\100\2", "dst_addr")
  t.eq(ip.proto, 6, "proto")
  t.eq(ip.traffic_class, 0xb9, "traffic_class")
  t.eq(ip.dscp, 0xb9 / 4 - 0.25, "dscp")
  t.eq(ip.ecn, 1, "ecn")
  t.eq(ip.ttl, 57, "ttl")
  t.eq(ip.hop_limit, 57, "hop_limit")
  t.eq(ip.size, #pkt + 7, "size includes padding")
  t.eq(ip.pkt_len, #pkt, "pkt_len")
  t.eq(ip.hdr_len, 20, "hdr_len")
  t.eq(ip.payload_len, #seg, "payload_len")
  t.eq(ip.payload, seg, "payload (no padding)")
  t.eq(ip.seconds, 1500000000.25, "seconds")
  t.eq(ip.ident, 0xabcd, "ident")
  t.eq(ip.has_rf, true, "has_rf")
  t.eq(ip.has_df, true, "has_df")
  t.eq(ip.has_mf, false, "has_mf")
  t.eq(ip.frag_offset, 0, "frag_offset")
  t.eq(ip.checksum, 0x1234, "checksum")
  t.eq(ip.udp, nil, "udp of a TCP packet")
  t.eq(ip.icmp, nil, "icmp of a TCP packet")
  local tcp = ip.tcp
  t.ok(tcp ~= nil, "tcp")
  t.eq(tcp.src_port, 40000, "src_port")
  t.eq(tcp.dst_port, 443, "dst_port")
  t.eq(tcp.seq_nbr, 4000000000, "seq_nbr above 2^31")
  t.eq(tcp.ack_nbr, 123456789, "ack_nbr")
  t.eq(tcp.doff, 11, "doff (22 option bytes padded to 24)")
  t.eq(tcp.flags, 0xd2, "flags")
  t.eq(tcp.syn_flag, true, "syn")
  t.eq(tcp.ack_flag, true, "ack")
  t.eq(tcp.ece_flag, true, "ece")
  t.eq(tcp.cwr_flag, true, "cwr")
  t.eq(tcp.fin_flag, false, "fin")
  t.eq(tcp.rst_flag, false, "rst")
  t.eq(tcp.psh_flag, false, "psh")
  t.eq(tcp.urg_flag, false, "urg")
  t.eq(tcp.window, 65535, "window")
  t.eq(tcp.checksum, 0xbeef, "tcp checksum")
  t.eq(tcp.urg_ptr, 3, "urg_ptr")
  t.eq(tcp.payload_len, 5, "tcp payload_len")
  t.eq(tcp.payload, "hello", "tcp payload")
  local kinds = {}
  for kind, value in tcp:options() do kinds[#kinds + 1] = kind .. "=" .. #value end
  t.eq(table.concat(kinds, ","), "2=2,3=1,4=0,8=8", "options in order, NOP skipped, EOL ends")
  local o = pathobs.tcp_options(tcp)
  t.eq(o[pathobs.TO_MSS], "\5\180", "tcp_options MSS")
  t.eq(o[pathobs.TO_WS], "\7", "tcp_options WS")
  t.eq(o[pathobs.TO_SACKOK], "", "tcp_options SACK-permitted")
  t.eq(o[pathobs.TO_TS], P.u32(7) .. P.u32(9), "tcp_options TS")
  local sp, dp = pathobs.extract_ports(ip)
  t.eq(sp, 40000, "extract_ports src")
  t.eq(dp, 443, "extract_ports dst")
  t.raises(function() return ip.nonsense end, "no field 'nonsense'", "unknown IPv4 field")
  t.raises(function() return tcp.nonsense end, "no field 'nonsense'", "unknown TCP field")
  t.raises(function() ip.ttl = 3 end, "read-only", "assigning a field")
end

-- fragments, evil bit, payload cut by the capture
do
  local pkt = P.ip4{ proto = 17, flags = 0x1 + 0x4, frag = 1480, payload = string.rep("x", 100) }
  local ip = P.decode(pkt)
  t.eq(ip.has_rf, true, "evil bit")
  t.eq(ip.has_mf, true, "has_mf")
  t.eq(ip.frag_offset, 1480, "frag_offset in bytes")
  t.eq(ip.udp, nil, "no UDP object in a non-first fragment")
  ip = P.decode(P.ip4{ proto = 17, payload = P.udp{ payload = string.rep("y", 50) } }, 0, 40)
  t.eq(ip.payload_len, 58, "payload_len from the header, not the capture")
  t.eq(#ip.payload, 20, "payload clipped to the capture")
  t.eq(ip.udp.payload_len, 50, "udp payload_len not clipped")
  t.eq(#ip.udp.payload, 12, "udp payload clipped")
  t.eq(ip.size, 40, "size is what was captured")
end

-- UDP
do
  local ip = P.decode(P.ip6{ nh = 17, tc = 0x2e, flow = 0xabcde, hlim = 3,
    payload = P.udp{ sp = 5353, dp = 53, checksum = 0, payload = "abc" } })
  t.eq(ip.version, 6, "v6 version")
  t.eq(ip.src_prefix, "2001:db8::1", "v6 src_prefix")
  t.eq(ip.dst_prefix, "2001:db8::2", "v6 dst_prefix")
  t.eq(#ip.src_addr, 16, "v6 src_addr")
  t.eq(ip.traffic_class, 0x2e, "v6 traffic_class")
  t.eq(ip.dscp, 0x0b, "v6 dscp")
  t.eq(ip.ecn, 2, "v6 ecn")
  t.eq(ip.flow_label, 0xabcde, "flow_label")
  t.eq(ip.ttl, 3, "v6 hop limit as ttl")
  t.eq(ip.hop_limit, 3, "hop_limit")
  t.eq(ip.next_hdr, 17, "next_hdr")
  t.eq(ip.pkt_len, 40 + 11, "v6 pkt_len")
  t.eq(ip.hdr_len, 40, "v6 hdr_len")
  local udp = ip.udp
  t.eq(udp.src_port, 5353, "udp src_port")
  t.eq(udp.dst_port, 53, "udp dst_port")
  t.eq(udp.len, 11, "udp len")
  t.eq(udp.checksum, 0, "udp checksum")
  t.eq(udp.payload_len, 3, "udp payload_len")
  t.eq(udp.payload, "abc", "udp payload")
  t.eq(ip.tcp, nil, "tcp of a UDP packet")
  local sp, dp = pathobs.extract_ports(ip)
  t.eq(sp, 5353, "extract_ports udp")
  -- a UDP length larger than the IP payload is bounded by it
  ip = P.decode(P.ip4{ proto = 17, payload = P.udp{ len = 500, payload = "abcd" } })
  t.eq(ip.udp.payload_len, 4, "udp payload_len bounded by IP")
end

-- IPv6 extension headers: proto and hdr_len after them
do
  local hbh = "\60\0" .. string.rep("\0", 6)
  local dst = "\6\1" .. string.rep("\0", 14)
  local ip = P.decode(P.ip6{ nh = 0, payload = hbh .. dst .. P.tcp{ flags = 2 } })
  t.eq(ip.next_hdr, 0, "next_hdr is the fixed header's")
  t.eq(ip.proto, 6, "proto after extension headers")
  t.eq(ip.hdr_len, 64, "hdr_len counts extension headers")
  t.ok(ip.tcp ~= nil and ip.tcp.syn_flag, "tcp after extension headers")
  t.eq(ip.payload_len, 20, "payload after extension headers")
end

-- ICMP with a quotation
do
  local syn = P.ip4{ src = "10.0.0.1", dst = "192.0.2.9", proto = 6, tos = 3,
    payload = P.tcp{ sp = 1234, dp = 80, flags = 2 } }
  local ip = P.decode(P.ip4{ src = "192.0.2.9", dst = "10.0.0.1", proto = 1,
    payload = P.icmp{ type = 3, code = 3, checksum = 0x7777, payload = syn:sub(1, 28) } })
  local icmp = ip.icmp
  t.eq(icmp.type, 3, "icmp type")
  t.eq(icmp.code, 3, "icmp code")
  t.eq(icmp.checksum, 0x7777, "icmp checksum")
  t.eq(icmp.payload, syn:sub(1, 28), "icmp payload")
  local q = icmp.quote
  t.ok(q ~= nil, "quote")
  t.eq(q.src_prefix, "10.0.0.1", "quote src")
  t.eq(q.dst_prefix, "192.0.2.9", "quote dst")
  t.eq(q.proto, 6, "quote proto")
  t.eq(q.ecn, 3, "quote ecn")
  t.eq(q.pkt_len, 40, "quote pkt_len as claimed")
  t.eq(q.size, 28, "quote size as quoted")
  t.eq(q.tcp, nil, "quoted TCP header incomplete")
  local qsp, qdp = pathobs.extract_ports(q)
  t.eq(qsp, 1234, "extract_ports of a quote with 8 bytes of TCP: src")
  t.eq(qdp, 80, "extract_ports of a quote with 8 bytes of TCP: dst")
  t.eq(ip.src_prefix, "192.0.2.9", "outer header unchanged by the quote")
  local sp, dp = pathobs.extract_ports(ip)
  t.eq(sp, pathobs.null, "extract_ports of ICMP: null")
  t.eq(dp, pathobs.null, "extract_ports of ICMP: null")
  -- quotations too short for the ports, and a TCP header cut by the snaplen
  local short = P.decode(P.ip4{ proto = 1,
    payload = P.icmp{ type = 3, code = 3, payload = syn:sub(1, 22) } }).icmp.quote
  t.eq(short.proto, 6, "quote with 2 bytes of TCP: proto")
  t.eq(pathobs.extract_ports(short), pathobs.null, "extract_ports of a quote with 2 bytes of TCP: null")
  local cut = P.decode(syn, 0, 24)
  t.eq(cut.tcp, nil, "TCP header cut at 4 bytes")
  t.eq(select(2, pathobs.extract_ports(cut)), 80, "extract_ports of a cut TCP header: its ports")
  t.eq(pathobs.extract_ports(P.decode(syn, 0, 23)), pathobs.null, "extract_ports of 3 bytes of TCP: null")
  -- Ethernet padding after the IP packet is not a transport header: no ports
  -- unless the IP length claims them (and the capture holds them)
  local padded = P.ip4{ proto = 6, total = 20, payload = string.rep("\18\52\86\120", 6) }
  t.eq(pathobs.extract_ports(P.decode(padded)), pathobs.null, "extract_ports of padding: null")
  padded = P.ip4{ proto = 6, total = 23, payload = string.rep("\18\52\86\120", 6) }
  t.eq(pathobs.extract_ports(P.decode(padded)), pathobs.null, "extract_ports of 3 bytes and padding: null")
  padded = P.ip4{ proto = 6, total = 24, payload = string.rep("\18\52\86\120", 6) }
  t.eq(select(2, pathobs.extract_ports(P.decode(padded))), 0x5678, "extract_ports of 4 bytes and padding")
  padded = P.ip6{ nh = 17, plen = 2, payload = string.rep("\18\52\86\120", 6) }
  t.eq(pathobs.extract_ports(P.decode(padded)), pathobs.null, "extract_ports of IPv6 padding: null")
  local frag = P.decode(P.ip4{ proto = 6, frag = 8, payload = P.tcp{ sp = 1, dp = 2 } })
  t.eq(pathobs.extract_ports(frag), pathobs.null, "extract_ports of a non-first fragment: null")
  -- echo: no quote
  ip = P.decode(P.ip4{ proto = 1, payload = P.icmp{ type = 8 } })
  t.eq(ip.icmp.quote, nil, "no quote in an echo request")
  t.eq(ip.icmp.payload, nil, "empty ICMP payload is nil")
  -- ICMPv6 quoting UDP: quoted UDP header is complete
  local inner = P.ip6{ nh = 17, payload = P.udp{ sp = 1, dp = 2 } }
  ip = P.decode(P.ip6{ nh = 58, payload = P.icmp{ type = 1, code = 4, payload = inner } })
  t.eq(ip.icmp6.type, 1, "icmp6 synonym")
  t.eq(ip.icmp.quote.udp.dst_port, 2, "quoted UDP port")
  t.eq(ip.icmp.quote.version, 6, "quote version")
end

-- TCP options that lie: zero length, one, overrunning; data offset below 5 and past the capture
do
  local function opts_of(options, doff)
    local ip = P.decode(P.ip4{ payload = P.tcp{ options = options, doff = doff } })
    local out = {}
    for kind, value in ip.tcp:options() do out[#out + 1] = kind .. ":" .. #value end
    return table.concat(out, ","), pathobs.tcp_options(ip.tcp)
  end
  t.eq(opts_of("\2\0\5\180"), "", "zero length stops the parser")
  t.eq(opts_of("\2\1\5\180"), "", "length one stops the parser")
  t.eq(opts_of("\3\3\7\2\40\0\0\0"), "3:1", "overrunning length stops after the good option")
  t.eq(opts_of("\2\3\5\0"), "2:1", "a one-byte MSS is returned as it is")
  t.eq(opts_of("\1\1\1\1"), "", "NOPs only")
  local ip = P.decode(P.ip4{ payload = P.tcp{ doff = 3, payload = "abc" } })
  t.eq(ip.tcp.doff, 3, "lying doff reported")
  t.eq(ip.tcp.payload_len, 3, "payload after 20 bytes when doff < 5")
  t.eq(select("#", ip.tcp:options()), 3, "options iterator triple")
  local n = 0
  for _ in ip.tcp:options() do n = n + 1 end
  t.eq(n, 0, "no options when doff < 5")
  -- doff 15 but only 23 bytes of TCP captured: options clipped
  local seg = P.tcp{ doff = 15, options = "\2\4\5\180" .. string.rep("\1", 36) }
  ip = P.decode(P.ip4{ payload = seg }, 0, 20 + 23)
  local got = {}
  for kind, value in ip.tcp:options() do got[#got + 1] = kind end
  t.eq(#got, 0, "an option past the capture is not read")
  ip = P.decode(P.ip4{ payload = seg }, 0, 20 + 28)
  got = {}
  for kind in ip.tcp:options() do got[#got + 1] = kind end
  t.eq(table.concat(got, ","), "2", "an option inside the capture is read")
  t.eq(ip.tcp.payload_len, 0, "payload_len never negative")
  t.eq(ip.tcp.payload, nil, "no payload")
end

-- a TCP header cut short: no TCP object, ports still keyed
do
  local ip = P.decode(P.ip4{ payload = P.tcp{} }, 0, 30)
  t.eq(ip.tcp, nil, "tcp of a cut header")
  t.eq(ip.proto, 6, "proto of a cut header")
end

-- Objects kept past their batch raise STALE instead of reading another entry
do
  local headers = require("pathobs.headers")
  local ip = P.decode(P.ip4{ proto = 1, payload = P.icmp{ type = 3, code = 3,
    payload = P.ip4{ proto = 6, payload = P.tcp{ sp = 7, dp = 8 } } } })
  local q, icmp = ip.icmp.quote, ip.icmp
  local tcp = q.tcp
  t.eq(tcp.src_port, 7, "quoted tcp before release")
  headers.release()
  for _, case in ipairs({ { ip, "ttl" }, { q, "ttl" }, { icmp, "type" }, { tcp, "src_port" }, { tcp, "syn_flag" },
                          { ip, "seconds" }, { q, "seconds" }, { icmp, "quote" }, { tcp, "payload" } }) do
    local ok, err = pcall(function() return case[1][case[2]] end)
    t.ok(not ok and err == headers.STALE, "released object raises STALE: " .. case[2])
  end
  t.ok(tostring(headers.STALE):find("after the call that received it", 1, true), "STALE says what happened")
  t.eq(P.decode(P.ip4{ ttl = 9 }).ttl, 9, "a new packet's object works again")
end

-- tcp.flags has python-libtrace's 12 bits: an AccECN SYN (AE CWR ECE SYN) is
-- 0x1c2 = 450, the reserved bits show too, and the data offset is untouched
do
  local ip = P.decode(P.ip4{ payload = P.tcp{ flags = 0x1c2 } })
  t.eq(ip.tcp.flags, 450, "AccECN SYN flags")
  t.eq(ip.tcp.ae_flag, true, "ae_flag")
  t.eq(ip.tcp.ns_flag, true, "ns_flag (its former name)")
  t.eq(ip.tcp.doff, 5, "doff beside AE")
  t.eq(bit.band(ip.tcp.flags, pathobs.TCP_AE), pathobs.TCP_AE, "TCP_AE")
  ip = P.decode(P.ip4{ payload = P.tcp{ flags = 0xe12 } })
  t.eq(ip.tcp.flags, 0xe12, "reserved bits 0x200-0x800")
  t.eq(ip.tcp.ae_flag, false, "no AE")
end

-- Every kind of header object raises "no field" (and "read-only") at the
-- line that read it, not inside pathobs/headers.lua
do
  local v4 = P.decode(P.ip4{ proto = 17, payload = P.udp{} })
  local kinds = {
    { "IPv4", function() return v4 end },
    { "UDP", function() return P.decode(P.ip4{ proto = 17, payload = P.udp{} }).udp end },
    { "TCP", function() return P.decode(P.ip4{ payload = P.tcp{} }).tcp end },
    { "ICMP", function() return P.decode(P.ip4{ proto = 1, payload = P.icmp{} }).icmp end },
    { "IPv6", function() return P.decode(P.ip6{ nh = 17, payload = P.udp{} }) end },
    { "IPv4", function() -- a quoted header
      return P.decode(P.ip4{ proto = 1, payload = P.icmp{ type = 3,
        payload = P.ip4{ proto = 6, payload = P.tcp{} } } }).icmp.quote end },
    { "TCP", function() -- a quoted header's TCP
      return P.decode(P.ip4{ proto = 1, payload = P.icmp{ type = 3,
        payload = P.ip4{ proto = 6, payload = P.tcp{} } } }).icmp.quote.tcp end },
  }
  local here = debug.getinfo(1, "S").short_src
  for _, k in ipairs(kinds) do
    local obj = k[2]()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() return obj.nonexistent end)
    t.eq(ok, false, k[1] .. ": unknown field raises")
    t.eq(err, ("%s:%d: %s header has no field 'nonexistent'"):format(here, line, k[1]),
      k[1] .. ": error at the reading line")
    line = debug.getinfo(1, "l").currentline + 1
    ok, err = pcall(function() obj.x = 1 end)
    t.eq(err, ("%s:%d: %s header is read-only (field 'x')"):format(here, line, k[1]),
      k[1] .. ": write error at the writing line")
  end
end

-- tcp.ip, udp.ip, icmp.ip: the packet's own IP header object (the same
-- preallocated one), for a packet and for a quotation
do
  local ip = P.decode(P.ip4{ ttl = 33, src = "192.0.2.7", payload = P.tcp{ sp = 1, dp = 2 } })
  local tcp = ip.tcp
  t.ok(rawequal(tcp.ip, ip), "tcp.ip is the IP object")
  t.eq(tcp.ip.ttl, 33, "tcp.ip.ttl")
  t.eq(tcp.ip.src_prefix, "192.0.2.7", "tcp.ip.src_prefix")
  ip = P.decode(P.ip6{ hlim = 7, src = "2001:db8::9", nh = 17, payload = P.udp{} })
  t.eq(ip.udp.ip.hop_limit, 7, "udp.ip.hop_limit on IPv6")
  t.eq(ip.udp.ip.src_prefix, "2001:db8::9", "udp.ip.src_prefix on IPv6")
  t.eq(ip.udp.ip.version, 6, "udp.ip.version")
  ip = P.decode(P.ip4{ ttl = 50, proto = 1, payload = P.icmp{ type = 3,
    payload = P.ip4{ ttl = 3, proto = 17, payload = P.udp{ sp = 9, dp = 10 } } } })
  t.eq(ip.icmp.ip.ttl, 50, "icmp.ip.ttl")
  local q = ip.icmp.quote
  t.eq(q.udp.ip.ttl, 3, "a quotation's udp.ip is the quoted header")
  t.ok(rawequal(q.udp.ip, q), "the same object as the quote")
  t.eq(ip.ttl, 50, "the packet's object still reads the packet")
end

-- SCTP and UDP-Lite: extract_ports gives their ports, as the flow key has them
do
  for _, proto in ipairs({ 132, 136 }) do
    local ip = P.decode(P.ip4{ proto = proto, payload = P.u16(2905) .. P.u16(36412) .. string.rep("\0", 8) })
    local sp, dp = pathobs.extract_ports(ip)
    t.eq(sp, 2905, "extract_ports src of proto " .. proto)
    t.eq(dp, 36412, "extract_ports dst of proto " .. proto)
    ip = P.decode(P.ip6{ nh = proto, payload = P.u16(5) .. P.u16(6) .. string.rep("\0", 8) })
    sp, dp = pathobs.extract_ports(ip)
    t.eq(sp, 5, "IPv6 extract_ports of proto " .. proto)
    t.eq(dp, 6, "IPv6 extract_ports of proto " .. proto)
  end
  local ip = P.decode(P.ip4{ proto = 47, payload = string.rep("\1", 12) })
  t.eq(pathobs.extract_ports(ip), pathobs.null, "GRE has no ports")
end

t.done()
