---@meta pathobs.dns
-- lua-language-server annotations for pathobs.dns (see ../pathobs.lua and
-- docs/lua-api.md). Loading the module needs libldns at run time (Debian: libldns3).

---DNS messages read by libldns. Bad bytes never raise: `parse` and
---`parse_tcp` return `nil` and a reason; wrong argument types raise.
---@class pathobs.dns
local dns = {}

---One resource record of a parsed message.
---@class PathobsDNSRecord
---@field name string owner name, presentation form with the trailing dot ("www.example.com.")
---@field type integer record type (1 A, 28 AAAA, 5 CNAME, ...)
---@field type_name string "A", "AAAA", ...; "TYPE65280" for types ldns has no name for
---@field class integer record class (1 IN)
---@field class_name string "IN", "CH", ...; "CLASS4000" for others
---@field ttl integer TTL in seconds
---@field rdata string the data in presentation form ("192.0.2.1", "10 mail.example.com."); RFC 3597's "\# N hex" when ldns cannot print it

---A parsed DNS message.
---@class PathobsDNSMessage
---@field id integer message ID
---@field flags integer the 16-bit flags word as sent
---@field qr boolean a response
---@field aa boolean authoritative answer
---@field tc boolean truncated
---@field rd boolean recursion desired
---@field ra boolean recursion available
---@field ad boolean authentic data
---@field cd boolean checking disabled
---@field opcode integer 0 QUERY, 4 NOTIFY, 5 UPDATE, ...
---@field opcode_name string "QUERY", "NOTIFY", ...; "OPCODE3" for others
---@field rcode integer response code; with EDNS, the OPT record's upper bits added (BADVERS 16)
---@field rcode_name string "NOERROR", "NXDOMAIN", "SERVFAIL", ...; "RCODE16" for others
---@field qdcount integer questions, as the header says
---@field ancount integer answer records, as the header says
---@field nscount integer authority records, as the header says
---@field arcount integer additional records, as the header says (the OPT record included)
---@field qname string? first question's name, presentation form with the trailing dot; nil without a question
---@field qtype integer? first question's type
---@field qtype_name string? its name ("AAAA")
---@field qclass integer? first question's class
---@field qclass_name string? its name ("IN")
---@field edns_udp_size integer? EDNS UDP payload size; nil without an OPT record
---@field edns_version integer? EDNS version
---@field edns_do boolean? the DNSSEC OK bit
---@field answers PathobsDNSRecord[]? answer section (only when records is true)
---@field authority PathobsDNSRecord[]? authority section (only when records is true)
---@field additional PathobsDNSRecord[]? additional section without the OPT record (only when records is true)

---The DNS message in the bytes of `s` from offset `off` (0-based, default 0)
---to the end: a UDP payload. `records = true` adds the record lists.
---@param s string?
---@param off? integer
---@param records? boolean
---@return PathobsDNSMessage? msg
---@return string? err why the bytes are not a DNS message
function dns.parse(s, off, records) end

---The DNS-over-TCP message whose 2-byte length prefix is at offset `off`
---(default 0) of `s`: the message and the offset just after it (`#s` when it
---was the last), or `nil` and why. A prefix that claims more bytes than
---there are is an error.
---@param s string?
---@param off? integer
---@param records? boolean
---@return PathobsDNSMessage? msg
---@return integer|string next_or_err
function dns.parse_tcp(s, off, records) end

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
