/* po.h - the one internal header of pathobs: error table, shared structs, module APIs. */
#ifndef PO_H
#define PO_H

#include <stddef.h>
#include <stdint.h>

/* ---- errors: one table, negative codes; po_strerror() names them ------- */
#define PO_ERRNO_MAP(X)                                                     \
  X(OK,        0,  "success")                                               \
  X(ENOMEM,   -1,  "out of memory")                                         \
  X(ESHORT,   -2,  "transport header too short for ports")                  \
  X(ENOTIP,   -3,  "not an IP packet")                                      \
  X(EFRAG,    -4,  "fragment whose first fragment was not seen")            \
  X(EMALFORM, -5,  "malformed IP header")                                   \
  X(EOPEN,    -6,  "cannot open source")                                    \
  X(EREAD,    -7,  "read error")                                            \
  X(EWRITE,   -8,  "write error")                                           \
  X(ESCRIPT,  -9,  "chain script error")                                    \
  X(EUSAGE,   -10, "usage error")                                           \
  X(EFILTER,  -11, "bad filter expression")                                 \
  X(EFULL,    -12, "flow table full")                                      \
  X(ELAYOUT,  -13, "Lua table not in the layout tabwalk.c reads")

enum {
#define PO_X_(name, code, text) PO_##name = code,
  PO_ERRNO_MAP(PO_X_)
#undef PO_X_
};
const char *po_strerror(int err);

/* ---- structures shared with Lua: enums PO_L4_* PO_OP_* PO_FV_*, po_hdr,
 *      po_pkt, po_linkinfo, po_fval and the functions Lua calls, declared once
 *      in lua/pathobs/abi.h (pathobs.core ffi.cdef's the same file and checks
 *      its layout against src/abi.c's table when it loads) ----------------- */
#include "../lua/pathobs/abi.h"

/* linkbatch.c (po_link_batch: abi.h) */
/* Room for n entries; 0, or PO_ENOMEM. */
int po_link_batch_reserve(unsigned n);
void po_link_batch_set(unsigned from, unsigned to, const po_linkinfo *li);
/* This thread's array is no longer needed (a worker thread ends). */
void po_link_batch_free(void);

/* ---- decode.c: IP and transport parsing, no I/O ----------------------- */
/* po_decode: abi.h */
/* A header whose length field says 0 takes the captured length as its
 * pkt_len (IPv4 total length 0, IPv6 payload length 0 without a Jumbo
 * Payload option: BIG TCP, segmentation offload), which is right when the
 * frame is whole.  A source that knows the frame was cut short calls this
 * with the IP packet's wire length (the frame's wire length less its link
 * header) after po_decode: such a header then takes that length instead.
 * Other headers (an IPv6 jumbogram's length is its option's) are left alone. */
void po_decode_wire(po_hdr *h, uint32_t wire);
/* Offset of the end of h's IP packet: what its header claims, clipped to the
 * capture (link padding is not part of the packet). */
uint32_t po_ip_end(const po_hdr *h);
/* ICMP type/code when h->proto is ICMP and 8 header bytes are captured, else -1. */
int po_icmp_is_error(const po_hdr *h);
/* 1 when next names an IPv6 extension header the decoder skips (hop-by-hop,
 * routing, fragment, destination options, AH).  A later fragment's h->proto
 * is its Fragment header's next header: one of these says that the transport
 * is only known from the first fragment. */
int po_ip6_ext(uint8_t next);
/* Fragment identification of h (IPv4 ident or IPv6 fragment header id),
 * and whether h is a first fragment with more to come. */
int po_frag_info(const po_hdr *h, uint32_t *id, int *first_of_many);

/* ---- link.c: link-layer headers of a frame, by pcap link type; no I/O ---- */
typedef struct po_link {
  uint32_t l3_off;     /* offset of the IP header in the frame */
  uint32_t l3_cap;     /* captured bytes from l3_off (trailing FCS removed) */
  uint16_t ethertype;  /* 0x0800 IPv4, 0x86DD IPv6; anything else: not IP */
  uint16_t vlan;       /* outermost 802.1Q/802.1ad VLAN id, 0xFFFF when none */
  int32_t mac_off;     /* offset of the 6-byte destination MAC (source MAC follows), -1 when none */
} po_link;
/* linktype: the pcap LINKTYPE_ value with its FCS bits as a pcap file header's
 * link-type field carries them (bits 0..25 the type, bits 28..31 the FCS length
 * in 16-bit words; a pcapng interface's if_fcslen option in bytes is passed as
 * (fcslen/2) << 28). wire: the frame's original length. PO_OK or PO_ENOTIP.
 * PO_OK when the link layer says the payload is IPv4 or IPv6 (l3_cap may then
 * be too short for an IP header, even 0: the IP decoder counts that short);
 * PO_ENOTIP for anything else, a link header cut short, an unknown link type.
 * Never reads outside frame[0..cap). docs/observer.md "Link layers" lists them. */
int po_link_decode(uint32_t linktype, const uint8_t *frame, uint32_t cap, uint32_t wire, po_link *out);

/* ---- flowkey.c: flow keys ---------------------------------------------- */
typedef struct po_key {
  uint8_t a[16];      /* the lower endpoint's address (v4 in the first 4 bytes) */
  uint8_t b[16];      /* the higher endpoint's address */
  uint16_t pa, pb;    /* their ports (0 without ports) */
  uint8_t version;
  uint8_t proto;
  uint8_t pad_[2];
} po_key;
/* Build the canonical key of h (or of its quotation, swapped, for ICMP
 * errors).  *swapped is 1 when the packet travels from b to a.  Returns PO_OK,
 * PO_ESHORT (ports not captured) or PO_EFRAG (a later fragment, of any
 * protocol: only its first fragment knows its flow, so the caller must look
 * it up in the fragment cache). */
int po_key_of(const po_hdr *h, const po_hdr *q, po_key *k, int *swapped);
/* 1 when h, keyed PO_OK by po_key_of with quotation q, is a first fragment of
 * more that the fragment cache must remember (any protocol, an ICMP error
 * keyed by its quotation too: its later fragments join the flow it joined). */
int po_key_frag_first(const po_hdr *h, const po_hdr *q);
/* The same key with given ports (for fragments matched to their first one). */
void po_key_make(po_key *k, int *swapped, uint8_t version, uint8_t proto,
                 const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp);
uint32_t po_key_hash(const po_key *k);
/* 1 when po_key_of keys a packet with quotation q by the quoted packet. */
int po_key_uses_quote(const po_hdr *q);
/* src/dst/ports of the flow's forward direction, for messages. */
void po_key_format(const po_key *k, int swapped, char *buf, size_t len);
/* A packet's key worked out ahead (by the reader thread): po_key_of's result
 * in rc, and when it is PO_OK the key, its hash, the direction, and whether
 * the packet is a first fragment the cache remembers (po_key_frag_first; its
 * later fragments find their flow through it): then the packet's addresses
 * are needed again, otherwise the loop thread never reads them. */
typedef struct po_fkey {
  po_key key;
  uint32_t hash;
  int8_t rc;
  uint8_t sw;
  uint8_t frag_first;
} po_fkey;
void po_key_ahead(const po_hdr h[2], po_fkey *fk);

/* ---- frag.c: first-fragment cache (bounded, direct mapped) ------------- */
typedef struct po_frag_cache po_frag_cache;
po_frag_cache *po_frag_new(unsigned size_log2);
void po_frag_free(po_frag_cache *fc);
/* Remember the first fragment h (id, addresses, h->proto) with the key it
 * was given and its direction against it (sw). */
void po_frag_put(po_frag_cache *fc, const po_hdr *h, uint32_t id, const po_key *k, int sw,
                 uint32_t now);
/* Find the first fragment of the later fragment h: IPv4 by (addresses,
 * protocol, id); IPv6 by (addresses, id) alone, whatever h's Fragment header
 * names as next header.  1 with its key, direction and own protocol, or 0. */
int po_frag_get(po_frag_cache *fc, const po_hdr *h, uint32_t id, uint32_t now,
                uint32_t max_age, po_key *k, int *sw, uint8_t *proto);

/* ---- counters (stats.c) ------------------------------------------------ */
typedef struct po_stats {
  uint64_t packets, dropped, shorts, non_ip, fragments;
  uint64_t flows, ignored, evicted, records, chain_errors;
  uint64_t reordered;  /* frames older than an earlier frame (timestamps going backwards) */
  /* a sink that counts deliveries (NATS): its counters, shown when set */
  int sink_counted;
  uint64_t published, acked, retried, undelivered;
} po_stats;
/* Human line "pathobs: N packets (...) -> N flows (...), N chain errors". */
int po_stats_line(const po_stats *s, char *buf, size_t len);
/* What a run's counters are about: the source and the wall-clock times (UNIX
 * seconds) when reading began and when the counters were taken. */
typedef struct po_stats_run {
  const char *source;
  double start, end;
} po_stats_run;
/* The same counters as one JSON object (caller frees); with run (may be
 * NULL) also "source", "start", "end" and "duration". */
char *po_stats_json(const po_stats *s, const po_stats_run *run);
/* Can the --stats file be written (in place, or as PATH.tmp renamed over it)?
 * 0, or the errno that says why not.  Leaves no file behind. */
int po_stats_writable(const char *path);


/* ---- observer.c: flow table, packet clock, lifecycle, batches; no I/O -- */
typedef struct po_config {
  uint32_t idle_timeout;    /* seconds, default 30 */
  uint32_t expiry_timeout;  /* seconds, default 5 */
  uint32_t max_flows;       /* bound on live records */
  uint32_t batch_size;      /* packets per call into Lua */
  int aggregate;            /* one flow per IP version */
} po_config;
void po_config_defaults(po_config *cfg);

typedef struct po_observer po_observer;
po_observer *po_obs_new(const po_config *cfg);
/* Records the clock wrote (po_obs_advance: idle and expired flows) or a
 * flush did, in order: their slots, which keep their keys (po_obs_describe)
 * and are not reused until po_obs_emitted_clear.  The host writes them before
 * the next batch's entries (whose new flows have other slots).  Evictions
 * are batch entries instead (PO_OP_EMIT), in order with the packets. */
const uint32_t *po_obs_emitted(const po_observer *o, unsigned *n);
void po_obs_emitted_clear(po_observer *o);
void po_obs_free(po_observer *o);
/* True when a frame at ts (any frame: IP or not, malformed too, since every
 * frame moves the clock) would advance the clock while the batch holds
 * entries: hand the batch to Lua first, then push the frame. */
int po_obs_must_cut(const po_observer *o, double ts);
/* Account for one captured frame: ethertype and l3 as libtrace gives them.
 * Every frame moves the packet clock (never backwards; an older one is
 * counted as reordered).  Returns PO_OK when the packet went into the batch
 * or was dropped for an ignored flow, else the reason it was skipped (also
 * counted). */
int po_obs_packet(po_observer *o, double ts, uint16_t ethertype, const uint8_t *l3,
                  uint32_t cap);
/* The same in two steps, so that decoding can run on another thread:
 * po_obs_decode (no observer state) fills h[0..1] and says whether the packet
 * is IP; po_obs_decoded takes that result and the headers. */
int po_obs_decode(uint16_t ethertype, const uint8_t *l3, uint32_t cap, po_hdr h[2]);
/* fk: the packet's key worked out ahead (po_key_ahead on h), or NULL. */
int po_obs_decoded(po_observer *o, double ts, int decoded, const po_hdr h[2], const po_fkey *fk);

/* For a dispatcher in front of several workers, po_obs_decoded in two
 * halves.  po_obs_front: on a front observer that holds no flows, what every
 * frame does (counted; the clock moves; *late: older than an earlier frame)
 * and the packet's key (later fragments through the front's cache: h[0]
 * gets its first fragment's protocol): PO_OK with *fk set, or why the packet
 * is skipped (counted).  po_obs_flow: the keyed packet into a worker's
 * observer, whose clock its caller moves with po_obs_advance. */
int po_obs_front(po_observer *o, double ts, int decoded, po_hdr h[2], const po_fkey *ahead,
                 po_fkey *fk, int *late);
int po_obs_flow(po_observer *o, double ts, int late, const po_hdr h[2], const po_fkey *fk);
/* The clock's whole seconds (0 before the first frame). */
uint32_t po_obs_clock(const po_observer *o);
po_pkt *po_obs_batch(po_observer *o, unsigned *n);
int po_obs_batch_full(const po_observer *o);
void po_obs_batch_reset(po_observer *o);
/* Move the clock to ceil(ts) (batch must be empty); emits what falls due. */
void po_obs_advance(po_observer *o, double ts);
/* End of input (batch must be empty): every expiring, then every active record. */
void po_obs_flush(po_observer *o);
/* The chains' verdicts (PO_VERDICT_*, abi.h): one byte per batch entry
 * beside the batch (index i for entry i), PO_VERDICT_NONE when the entry is
 * made.  Lua stores PO_VERDICT_COMPLETE when a chain returned false (the
 * record is written after the expiry timeout), PO_VERDICT_IGNORE when
 * new_flow did (the flow's packets are dropped until it is idle, and it is
 * not written).  po_obs_apply_verdicts applies them after the batch ran, in
 * entry order, to flows still active in the generation of their entry
 * (ignore counts stats.ignored); applying them twice changes nothing. */
uint8_t *po_obs_verdicts(po_observer *o);
void po_obs_apply_verdicts(po_observer *o);
po_stats *po_obs_stats(po_observer *o);
uint32_t po_obs_live(const po_observer *o);
/* po_obs_describe: abi.h */

typedef void (*po_diag_fn)(void *ud, const char *msg);
/* ---- stdguard.c: library printf()s kept off the records' standard output -- */
/* From now on fd 1 is a pipe whose lines go to diag ("libtrace: ...") once
 * each; the records' standard output is po_stdout_fd(). */
int po_stdguard_start(po_diag_fn diag, void *ud);
/* Read what is left, report repeated lines with their count. */
void po_stdguard_stop(void);
/* The descriptor of the records' standard output (1 without the guard). */
int po_stdout_fd(void);
/* 1 when path opens descriptor 1 while the guard holds it (/dev/stdout,
 * /dev/fd/1, /proc/self/fd/1, ...): such a path means the records' output. */
int po_stdout_names(const char *path);


/* ---- sink.c: where finished records go ----------------------------------
 * The writer hands a sink one record at a time (a JSON line, '\n' included),
 * in order, on its own thread.  po_out is the handle every writer holds: the
 * file sink of output.c inline (ops NULL), or a module chosen by the scheme of
 * -o's URI from sink.c's table (nats:// in sink_nats.c; a Kafka module would
 * be one more entry).  A module that delivers somewhere that can fail counts
 * what it published, what was acknowledged, what it sent again and what was
 * not delivered; its write blocks while its bounded buffer is full, which
 * slows the whole pipeline down to the source (a live source then drops at
 * capture).  Nothing is thrown away without being counted. */
typedef struct po_sink_counts {
  uint64_t published, acked, retried, undelivered;
} po_sink_counts;
typedef struct po_sink_opts {
  const char *observer;        /* this observer's name (default: host name) */
  const char *creds, *nkey;    /* NATS credentials file; "PUBKEY:SEEDFILE" */
  const char *tls_ca, *tls_cert, *tls_key;
  uint32_t buffer;             /* records held until acknowledged (0: default) */
  uint32_t drain_ms;           /* wait this long for acknowledgements at the end */
  po_diag_fn diag;             /* messages, from any thread */
  void *ud;
} po_sink_opts;
typedef struct po_sink_ops {
  const char *scheme;          /* "nats" matches nats://... and tls://... is its own */
  int (*open)(void **impl, const char *uri, const po_sink_opts *o, char *err, size_t errlen);
  /* One record; waits while the buffer is full (unless interrupted). */
  int (*write)(void *impl, const char *rec, size_t n);
  int (*flush)(void *impl);
  /* A stop was asked (any thread): writes wait no longer; a record that
   * finds no room is counted as not delivered. */
  void (*interrupt)(void *impl);
  /* Wait up to wait_ms for what is outstanding; count the rest not delivered. */
  void (*finish)(void *impl, uint32_t wait_ms);
  void (*counts)(void *impl, po_sink_counts *c);
  void (*close)(void *impl);
} po_sink_ops;
extern const po_sink_ops po_sink_nats;

/* ---- output.c: buffered JSON-lines sink (a file or stdout) -------------- */
typedef struct po_out {
  int fd, own;
  char *buf;
  size_t len, cap;
  int err;            /* errno of the first failed write, 0 when fine */
  const char *name;
  const po_sink_ops *ops;  /* another sink (sink.c), or NULL: this file sink */
  void *impl;
} po_out;
int po_out_open(po_out *o, const char *path); /* NULL or "-": stdout */
int po_out_write(po_out *o, const char *p, size_t n);
int po_out_flush(po_out *o);
void po_out_close(po_out *o);
/* sink.c: a file path as po_out_open takes it, or a URI of a sink module. */
int po_out_open_sink(po_out *o, const char *spec, const po_sink_opts *so, char *err,
                     size_t errlen);
/* The module -o's spec names by its scheme, or NULL (a file). */
const po_sink_ops *po_sink_find(const char *spec);
void po_out_interrupt(po_out *o);
void po_out_finish(po_out *o, uint32_t wait_ms);
/* 1 and the counters when the sink counts deliveries, else 0. */
int po_out_counts(po_out *o, po_sink_counts *c);

/* ---- json.c: Lua table -> one JSON line, through cJSON ------------------ */
typedef struct lua_State lua_State;
typedef struct po_json po_json;
po_json *po_json_new(void);
void po_json_free(po_json *j);
/* Serialise the value at stack index idx as one line (with '\n').  Returns
 * the text, valid until the next call, and its length in *len. */
const char *po_json_line(po_json *j, lua_State *L, int idx, size_t *len);
/* Keys of the last line's top-level object (0 when it was no object). */
size_t po_json_top_keys(const po_json *j);
/* Flat records (see record.lua): a record of string keys and scalar values
 * is walked in compiled Lua into an array of values, keys in sorted order; its
 * cJSON tree is built where the line is printed (the writer's thread).
 * po_json_flat gives room for n values beside the keys, or NULL without
 * memory; keys is an array po_json_keys gave (not copied: it lives until
 * po_json_free).  Lua fills the values (a string's str points into the Lua
 * string, which must live until po_json_flat_done returns); po_json_flat_done
 * copies them, then stages the record: 1 when it could not be made (out of
 * memory), else 0.  po_json_key, po_json_keys: the keys owned by C (abi.h). */
/* PO_FV_*, po_fval and the functions Lua calls: abi.h */
typedef struct po_flat { const char *const *keys; uint32_t n, pad; po_fval v[]; } po_flat;
typedef struct cJSON cJSON;
/* ---- numtext.c: the text of a number in a record -------------------------- */
/* Shortest decimal text that reads back as x (integers without a point), in
 * buf; its length. */
int po_num_text(char *buf, size_t len, double x);
/* The shared text of x when it is a small integer (0..4095), else NULL. */
const char *po_num_small(double x);
/* tabwalk.c: a record's values read from LuaJIT's table memory, for records
 * with the template's layout (record.lua).  Tables are what lua_topointer
 * gives.  po_tab_probe checks the layout on {n = 1.5, s = "xy", f = false,
 * t = true, z = null} and gives null's value.  po_tab_template maps the nodes
 * of sample (made from the template, every key set to true) to keys, the
 * template's keys sorted (matched by their bytes; kept alive by the caller:
 * po_json_keys's copies), or NULL.  po_tab_stage
 * stores the values of a record with that layout in sorted key order into
 * out[0..n-1] (strings point into the Lua strings), or PO_ELAYOUT. */
typedef struct po_tabtmpl po_tabtmpl;
int po_tab_probe(const void *table, uint64_t *null);
po_tabtmpl *po_tab_template(const void *sample, const char *const *keys, uint32_t n, uint64_t null);
void po_tab_template_free(po_tabtmpl *tm);
int po_tab_stage(const po_tabtmpl *tm, const void *table, po_fval *out);
/* Ask for a table's memory ahead of po_tab_stage: step 2 its header, step 1
 * (the header already fetched) its hash nodes. */
void po_tab_prefetch(const void *table, int step);
uint32_t po_tab_keys(const po_tabtmpl *tm);
const char *const *po_tab_key_names(const po_tabtmpl *tm);
/* Wait until the writer has written every record this po_json staged. */
void po_json_sync(po_json *j);
/* Serialise the value at idx and write it to out, or hand it to the writer:
 * 1 when it could not be made (out of memory), else 0. */
int po_json_write(po_json *j, lua_State *L, int idx);
typedef struct po_stage po_stage;
/* From now on stage finished records in st (NULL: print and write them at once). */
void po_json_attach(po_json *j, po_stage *st);
/* po_stage_round / po_stage_submit for the stage j stages into. */
int po_json_round(po_json *j, int flush);
void po_json_submit(po_json *j);

/* ---- writer.c: the writer thread: staged records -> lines -> the sink ---- */
/* Records go one way: a worker (its chains, its json.c) stages each record
 * in its own stage; the writer thread takes them from the stages in order,
 * prints them and writes them to out.  With one stage the order is the
 * staging order; with n, round by round: round r of stage 0, then of stage
 * 1, ..., where a worker closes a round with po_stage_round. */
typedef struct po_writer po_writer;
/* Start the thread over nstages stages; out is the thread's until po_writer_sync. */
po_writer *po_writer_new(po_out *out, unsigned nstages);
po_stage *po_writer_stage(po_writer *w, unsigned i);
unsigned po_writer_stages(const po_writer *w);
/* Memory for the record being built, freed once it is written (its page). */
void *po_stage_alloc(po_stage *s, size_t n);
/* Pages handed over so far (by the producer, or by po_writer_sync): memory
 * taken before it last changed is no longer the producer's to hand out. */
uint64_t po_stage_pages(const po_stage *s);
/* The record is complete: it goes out after those staged before.  Returns 1
 * when that handed the page over (memory from po_stage_alloc now belongs to
 * the thread), else 0 (memory left over may serve the next record). */
int po_stage_add(po_stage *s, cJSON *root);
/* The same for a flat record (its tree is built on the thread). */
int po_stage_add_flat(po_stage *s, po_flat *f);
/* Close the stage's current round (flush: the thread flushes out once every
 * stage closed it).  A no-op with one stage.  Returns as po_stage_add. */
int po_stage_round(po_stage *s, int flush);
/* Hand the part-full page over (before the producer waits for work). */
void po_stage_submit(po_stage *s);
/* Return when everything s staged is written. */
void po_stage_sync(po_stage *s);
/* Return when every page handed over is written to out (po_out_write; not
 * flushed).  The producers hand over their part-full pages first, through
 * json.c (po_json_submit, po_host_submit): json.c builds the next record in
 * the page it holds.  With stages, they must be idle, their rounds closed. */
void po_writer_sync(po_writer *w);
/* 1 once a write to out failed (out->err says why, after po_writer_sync). */
int po_writer_failed(po_writer *w);
/* Records the thread could not print (no memory) since the last call. */
uint64_t po_writer_lost(po_writer *w);
/* Write what is left, stop the thread, free everything. */
void po_writer_free(po_writer *w);

/* ---- reader.c: a thread reading and decoding a source ahead (a file, or
 *      one of the readers of an interface, po_source_open_fanout) --------- */
typedef struct po_rpkt {
  po_hdr h[2];        /* decoded headers (po_obs_decode) */
  double ts;
  int rc;             /* 1 a packet (a malformed one: decoded PO_EMALFORM), 0 the end, < 0 an error */
  int decoded;        /* po_obs_decode's result */
  po_fkey fk;         /* its key, when decoded is PO_OK */
  po_linkinfo link;   /* its link layer (po_source_link) */
} po_rpkt;
typedef struct po_reader po_reader;
typedef struct po_source po_source;
/* Start reading src (opened with a ring of at least depth packets) into a
 * ring of depth entries (rounded down to a power of two); wake(ud) is called from the thread when the loop
 * waits for entries.  A live src is read with po_source_poll, waiting in
 * poll(2) on its descriptor when nothing is ready. */
int po_reader_start(po_reader **out, po_source *src, unsigned depth, void (*wake)(void *ud),
                    void *ud);
/* The same, but every packet is handed to deliver(dud, e) on the reader's
 * thread (e and its bytes are valid during the call; deliver may change
 * e->h) instead of going through the ring, which then carries only the end
 * of the input or its error.  deliver returns 0, or not 0 to stop reading
 * (the loop then finds the end).  Only for a source whose reads end (a
 * regular file): po_reader_stop waits for such a thread to the end.  For the worker pool: the reader thread is
 * the dispatcher, one hand-over fewer per packet. */
int po_reader_start_deliver(po_reader **out, po_source *src, unsigned depth, void (*wake)(void *ud),
                            void *ud, int (*deliver)(void *dud, po_rpkt *e), void *dud);
/* The next entry, or NULL when none is ready (wake() will come). */
const po_rpkt *po_reader_peek(po_reader *r);
/* The next entry or NULL, without asking for wake() (po_reader_peek does). */
const po_rpkt *po_reader_look(po_reader *r);
void po_reader_woken(po_reader *r);
/* Live: ask the thread to read everything the kernel has ready now;
 * po_reader_drained is 1 once those packets are all in the ring (or the
 * thread has ended). */
void po_reader_drain(po_reader *r);
int po_reader_drained(po_reader *r);
void po_reader_next(po_reader *r);
/* Every entry taken so far is done with: the thread may reuse them. */
void po_reader_release(po_reader *r);
const char *po_reader_error(po_reader *r);
/* Stop the thread.  Returns 1 when it ended (all freed), 0 when it is stuck
 * in a read (a quiet pipe) and was left to the end of the process with its
 * source. */
int po_reader_stop(po_reader *r);

/* ---- lua_host.c: the LuaJIT state, chain scripts, batch dispatch -------- */
typedef struct po_host po_host;
/* dirs: folders searched for modules (?.lua, ?/init.lua), in order. */
po_host *po_host_new(const char *const *dirs, int ndirs, po_diag_fn diag, void *ud);
void po_host_free(po_host *h);
/* From any thread (the signal thread): every loop of a chain raises
 * "interrupted" at its next iteration, from now on. */
void po_host_interrupt(void);
/* Not 0 while chain loops must raise (loopcheck.lua calls it in every loop):
 * PO_STOP_SIGNAL after po_host_interrupt, PO_STOP_OVERRUN while a batch runs
 * past the --chain-timeout limit. */
enum { PO_STOP_SIGNAL = 1, PO_STOP_OVERRUN = 2 };
int po_host_stopped(void);
/* --chain-timeout: a batch whose chains run longer than seconds has its chain
 * loops interrupted (0: no limit).  Starts a watchdog thread. */
int po_host_set_timeout(po_host *h, double seconds);
/* --strict: the first chain error (not an interruption) ends the chains' work;
 * po_host_failed says it happened (the run should stop, its records written). */
void po_host_set_strict(po_host *h, int on);
int po_host_failed(po_host *h);
/* The end of a run: one line per place of chain errors to diag ("chain error
 * at FILE:LINE: N times"); returns how many were not interruptions, and
 * starts counting again. */
uint64_t po_host_error_report(po_host *h);
lua_State *po_host_state(po_host *h);
/* Where the host's messages go from now on. */
void po_host_set_diag(po_host *h, po_diag_fn diag, void *ud);
/* Load the scripts (resolved paths) and make them the chains.  On failure the
 * old chains stay and err holds "file:line: message". */
int po_host_load(po_host *h, const char *const *paths, int n, char *err, size_t errlen);
/* Point the Lua side at an observer and the stage records go to (one table
 * to dispatch.setup: its fields are listed there, in dispatch.lua); o NULL:
 * unbind (the run is over). */
void po_host_bind(po_host *h, po_observer *o, po_stage *stage, po_stats *st);
/* Close the host's round in its stage (po_stage_round); hand its part-full page over. */
void po_host_round(po_host *h, int flush);
void po_host_submit(po_host *h);
/* Tell the chains which worker they run in (pathobs.worker, 1-based) of how many. */
void po_host_set_worker(po_host *h, unsigned worker, unsigned workers);
/* Write the records emitted since the last batch, then run the chains over
 * the observer's batch, write what it emitted and apply the verdicts the
 * chains stored beside it (po_obs_apply_verdicts). */
int po_host_run_batch(po_host *h);
/* Write the records the observer's clock or flush wrote (po_obs_emitted)
 * now, and clear its list. */
void po_host_flush(po_host *h);
/* Forget every record, queued ones included (before a re-run). */
void po_host_reset(po_host *h);
/* Load the scripts again in the same state, modules they require included
 * (the runtime's own modules stay).  On failure the old chains stay. */
int po_host_reload(po_host *h, const char *const *paths, int n, char *err, size_t errlen);
/* Files of the modules loaded from the module folders, at most max. */
int po_host_module_files(po_host *h, char (*out)[4096], int max);

/* ---- pool.c: N worker threads behind one dispatcher (-j N) ---------------- */
typedef struct po_pool po_pool;
typedef struct po_pool_setup {
  unsigned workers;            /* N >= 1 */
  po_config cfg;               /* max_flows is shared out among the workers */
  const char *const *dirs;     /* module folders */
  int ndirs;
  const char *const *scripts;  /* chain scripts: each worker loads them */
  int nscripts;
  int strict;
  double chain_timeout;
  po_diag_fn diag;             /* called from the workers' threads, one at a time */
  void *ud;
} po_pool_setup;
/* Start the workers, worker i staging its records in writer's stage i (the
 * writer has set->workers stages).  On failure err says why (a script that
 * does not load: "file:line: message"). */
int po_pool_new(po_pool **out, const po_pool_setup *set, po_writer *writer, char *err, size_t errlen);
/* One frame, as po_obs_decoded takes it, plus its link layer: the packet is
 * copied, so h's bytes may go once this returns.  PO_OK or why it was skipped. */
int po_pool_frame(po_pool *p, double ts, int decoded, po_hdr h[2], const po_fkey *ahead,
                  const po_linkinfo *link);
/* Hand the packets so far to the workers (live: records do not wait for a
 * full round); flush: the writer flushes the sink once they are written. */
void po_pool_cut(po_pool *p, int flush);
/* Live: move every worker's clock to the wall clock now, and flush. */
void po_pool_tick(po_pool *p, double now);
/* Every worker loads the chain scripts again before its next packet. */
void po_pool_reload(po_pool *p);
/* The end of the input: every worker writes all its flows and stops. */
void po_pool_finish(po_pool *p);
/* --strict: a worker's chains failed. */
int po_pool_failed(po_pool *p);
/* The counters summed over the front and the workers (as of the last round
 * handed over, and each worker's last round done); safe from any thread.
 * The other functions are the dispatcher's: one thread at a time. */
void po_pool_stats(po_pool *p, po_stats *sum);
/* The chain error places of all workers, summed, to diag; returns the
 * errors that were not interruptions. */
uint64_t po_pool_error_report(po_pool *p);
/* Stop the workers (a run that did not finish writes nothing more). */
void po_pool_stop(po_pool *p);
/* Stop them and free everything.  Free the writer first: staged records
 * point at the keys each worker's json.c owns. */
void po_pool_free(po_pool *p);

/* ---- source.c: packets from libpcap (pcap, pcapng, interfaces) and libtrace -- */
typedef struct po_source po_source;
/* spec: a libtrace URI, a plain path (format sniffed), "-" (pcap, pcapng or
 * compressed pcap on stdin) or an interface.  ring: how many packets must
 * stay valid at once (a batch), plus read_ahead for a file (what a reader
 * thread holds ahead, po_reader_start).  buffer_kib: an interface's capture buffer
 * (0: libpcap's default).  On failure err says why. */
int po_source_open(po_source **out, const char *spec, const char *filter, unsigned ring,
                   unsigned read_ahead, unsigned buffer_kib, char *err, size_t errlen);
/* k (2..16) readers of one Linux interface: k libpcap handles on spec, each
 * with its own capture buffer (buffer_kib each) and the filter, joined to one
 * new PACKET_FANOUT group with PACKET_FANOUT_HASH (the kernel's symmetric flow
 * hash: both directions of a flow go to one handle, in order).  Each is read
 * by a reader thread (ring + read_ahead packets stay valid); the capture
 * starts once all have joined.  PO_EUSAGE when spec is not such an interface
 * (a file, a stream, a libtrace URI), PO_EOPEN when the kernel refuses. */
int po_source_open_fanout(po_source **out, unsigned k, const char *spec, const char *filter, unsigned ring,
                          unsigned read_ahead, unsigned buffer_kib, char *err, size_t errlen);
void po_source_close(po_source *s);
/* 1 when spec can be read only once and its first bytes not looked at
 * before libtrace reads them: "-" (standard input), or a path to a FIFO or a
 * character device (a shell's <(...) is /dev/fd/N on a pipe).  Such a source
 * is read as a pcap stream, as "-" is. */
int po_source_is_stream(const char *spec);
/* Next packet: 1 (PO_SRC_PACKET) with its fields set, PO_SRC_MALFORMED, 0 at
 * the end, PO_EREAD on error (err set).  The bytes stay valid for the next
 * ring-1 calls. */
int po_source_next(po_source *s, double *ts, uint16_t *ethertype, const uint8_t **l3,
                   uint32_t *cap, char *err, size_t errlen);
/* A live source (an interface): read it with po_source_poll when its
 * descriptor is readable. */
int po_source_live(const po_source *s);
enum { PO_SRC_WAIT = 0, PO_SRC_PACKET = 1, PO_SRC_SKIP = 2, PO_SRC_END = 3,
       PO_SRC_MALFORMED = 4 };
/* Live: PO_SRC_PACKET with the fields set; PO_SRC_WAIT when nothing is ready
 * (*fd: the descriptor to wait on, or -1 to retry soon); PO_SRC_SKIP for a
 * packet that does not count (call again); PO_SRC_END; or an error code.
 * Both: PO_SRC_MALFORMED for a record whose frame libtrace cannot measure (an
 * ERF record shorter than its own framing): only *ts is its own, the frame is
 * empty (*ethertype 0, *l3 NULL, *cap 0); count it as PO_EMALFORM. */
int po_source_poll(po_source *s, double *ts, uint16_t *ethertype, const uint8_t **l3,
                   uint32_t *cap, int *fd, char *err, size_t errlen);
/* Packets the capture layer reports as dropped (0 when it does not know). */
uint64_t po_source_dropped(po_source *s);
/* The length on the wire of the last packet's IP packet (its frame's wire
 * length less the link header), 0 when unknown: for po_decode_wire. */
uint32_t po_source_l3_wire(const po_source *s);
/* The link layer of the packet po_source_next/poll returned last. */
const po_linkinfo *po_source_link(const po_source *s);
/* "1, EN10MB" or the like: the source's link type, for messages. */
void po_source_describe_link(const po_source *s, char *buf, size_t len);
const char *po_source_uri(const po_source *s);

/* ---- paths.c: where the bundled lua/ and chains/ are; chain lookup ------- */
typedef struct po_paths {
  const char *dirs[64];   /* module folders, searched in order */
  int ndirs;
  const char *chain_dirs[64];
  int nchain_dirs;
  char data[2][4096];     /* bundled lua/ and chains/ */
} po_paths;
/* Bundled folders (installed share/pathobs next to the binary, else the
 * source tree the binary was built from), plus extra folders (-L) and
 * PATHOBS_PATH. */
int po_paths_init(po_paths *p, const char *const *extra, int nextra);
/* NAME (bundled or in an extra folder) or a path to a .lua file. */
int po_paths_chain(const po_paths *p, const char *name, char *out, size_t len);

/* ---- run.c: the libuv loop that drives source -> observer -> Lua -> sink
 * (with watch.c: --watch reloads; signals.c: SIGINT, SIGTERM, SIGHUP) ---- */
typedef struct po_run_opts {
  const char *source, *filter, *output, *stats_file;
  const char *const *scripts;  /* resolved chain script paths */
  int nscripts;
  const char *const *dirs;     /* module folders */
  int ndirs;
  po_config cfg;
  po_sink_opts sink;           /* for an output URI (nats://...) */
  int quiet, watch;
  int strict;                  /* stop at the first chain error, exit status 4 */
  double chain_timeout;        /* seconds one batch's chains may run, 0: no limit */
  uint32_t stats_interval;     /* seconds, 0: only at exit */
  uint32_t buffer_kib;         /* live capture buffer (-B), 0: the default */
  uint32_t workers;            /* -j: worker threads (0 or 1: the chains run on the loop thread) */
  uint32_t readers;            /* --readers: threads reading an interface through PACKET_FANOUT (0 or 1: the loop reads it) */
  po_diag_fn diag;             /* every message goes there */
  void *ud;
} po_run_opts;
/* Runs to the end of the input, or a signal; with watch, until a signal.
 * Returns the exit status (0, 1 runtime, 2 usage, 3 script, 4 chain errors). */
int po_run(const po_run_opts *opts);

#endif
