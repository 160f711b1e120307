/* main.c - the pathobs command line: options, chain lookup, exit status. */
#include "po.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libtrace.h>
#include <luajit.h>
#include <malloc.h>
#include <nats/nats.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#ifndef PO_VERSION
#define PO_VERSION "0.1.0"
#endif
#ifndef PO_DOC_DIR
#define PO_DOC_DIR "/usr/local/share/doc/pathobs"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SCRIPT = 3, MAX_CHAINS = 64, MAX_LDIRS = 32 };

static const char usage_text[] =
  "Usage: pathobs [OPTIONS] SOURCE [FILTER...]\n"
  "       pathobs [OPTIONS] -r FILE | -i IFACE [FILTER...]\n"
  "Group packets into bidirectional flows, run Lua chain functions over them\n"
  "and write one JSON record per flow.\n"
  "\n"
  "Source:\n"
  "  SOURCE                   a capture file (pcap, pcapng, ERF, gzip/bzip2/xz pcap),\n"
  "                           - for stdin (pcap, pcapng), an interface name (any), or a\n"
  "                           libtrace URI (pcapfile:F, pcap:F, erf:F, int:IF, ring:IF,\n"
  "                           pcapint:IF, ...)\n"
  "  -r, --read FILE          read FILE (a capture file, - or a FIFO), never an interface\n"
  "  -i, --interface IFACE    capture live on IFACE (same as SOURCE int:IFACE)\n"
  "  -f, --filter EXPR        BPF filter applied to every packet\n"
  "  -B, --buffer-size KIB    live capture buffer in KiB (default 131072: 128 MiB)\n"
  "      --readers K          read the interface with K threads (1 to 16, default 1),\n"
  "                           its packets spread by flow (Linux PACKET_FANOUT); each\n"
  "                           has its own -B buffer (K times the memory)\n"
  "  FILTER...                the same, as the words after the source (tcpdump-style):\n"
  "                           pathobs -r x.pcap tcp port 80; not together with -f\n"
  "\n"
  "Chains:\n"
  "  -c, --chain NAME|FILE    chain script, repeatable, run in order (default: basic)\n"
  "  -L, --lua-path DIR       extra folder for chains and modules, repeatable\n"
  "      --list-chains        list the chains (bundled, -L, PATHOBS_PATH) and exit\n"
  "      --watch              reload the chains when their files change (and on SIGHUP)\n"
  "      --strict             stop at the first chain error (records written, exit 4)\n"
  "      --chain-timeout SEC  interrupt the chain loops of a batch that runs over SEC\n"
  "\n"
  "Flows:\n"
  "      --idle-timeout SEC   complete a flow idle this long (default 30)\n"
  "      --expiry-timeout SEC write a completed record this much later (default 5)\n"
  "      --max-flows N        bound on live records; the one idle longest is written\n"
  "                           early (default 4194304)\n"
  "      --aggregate          one flow per IP version for all packets\n"
  "  -j, --workers N          run the chains in N worker threads, each with its own\n"
  "                           Lua state and share of the flows (default 1, at most 64)\n"
  "\n"
  "Output:\n"
  "  -w, -o, --output FILE    JSON lines to FILE (default: standard output); never\n"
  "                           the input file.  Or each record as one message to a\n"
  "                           NATS JetStream stream: FILE is then\n"
  "                           nats://HOST[:PORT][,HOST[:PORT]...]/SUBJECT (tls:// for\n"
  "                           TLS); {observer} in SUBJECT is the observer's name\n"
  "      --stats FILE         write the counters, source and run times as JSON at exit\n"
  "      --stats-interval SEC also write the counters every SEC seconds\n"
  "  -q, --quiet              no counters line on standard error\n"
  "  -h, --help               this text\n"
  "  -V, --version            versions of pathobs and its libraries\n"
  "\n"
  "NATS JetStream (-o nats://...; see docs/scale-out.md):\n"
  "      --observer NAME      this observer's name, in message IDs and {observer}\n"
  "                           (default: the host name)\n"
  "      --nats-creds FILE    credentials file (user JWT and NKey seed)\n"
  "      --nats-nkey PUB:SEED NKey public key and the file holding its seed\n"
  "      --nats-tls-ca FILE   CA certificates to trust (turns TLS on)\n"
  "      --nats-tls-cert FILE client certificate (with --nats-tls-key)\n"
  "      --nats-tls-key FILE  its private key\n"
  "      --nats-buffer N      records held until the stream acknowledges them; when\n"
  "                           full, input waits (live: drops at capture) (default 32768)\n"
  "      --nats-drain SEC     at the end, wait this long for acknowledgements; what is\n"
  "                           still unacknowledged is not delivered (exit 1) (default 30)\n"
  "\n"
  "Environment: PATHOBS_PATH=DIR:DIR adds folders like -L.\n"
  "Exit status: 0 success (also when the reader of standard output goes away),\n"
  "1 runtime failure (a record not delivered to NATS included), 2 usage error,\n"
  "3 chain script error, 4 chain errors while running (every record written).\n"
  "SIGINT/SIGTERM: stop, writing every record (a chain in a loop is interrupted);\n"
  "another one a second or more later exits at once (130/143).  SIGHUP: a live\n"
  "capture reloads its chains; a file run ignores it (with --watch: reload and\n"
  "run again).\n"
  "\n"
  "Example:\n"
  "  pathobs -c basic -c tcp -w flows.jsonl -r capture.pcap tcp port 443\n"
  "\n";

/* The installed documentation: next to the binary (BIN/../share/doc/pathobs,
 * wherever the prefix was moved), else the configured install folder. */
static void print_help(void)
{
  char exe[4096], probe[4200];
  const char *dir = PO_DOC_DIR;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
  if (slash != NULL) {
    *slash = 0;
    snprintf(probe, sizeof probe, "%s/../share/doc/pathobs/cli.md", exe);
    struct stat st;
    if (stat(probe, &st) == 0) {
      probe[strlen(probe) - strlen("/cli.md")] = 0;
      dir = realpath(probe, exe) ? exe : probe;
    }
  }
  fputs(usage_text, stdout);
  printf("More in pathobs(1) and in %s (cli.md, writing-chains.md, ...).\n", dir);
}

static void diag(void *ud, const char *msg)
{
  (void)ud;
  fprintf(stderr, "pathobs: %s\n", msg);
}

static int usage_error(const char *fmt, const char *arg)
{
  fprintf(stderr, "pathobs: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry 'pathobs --help' for more information.\n");
  return EXIT_USAGE;
}

/* "--sta" names more than one long option. */
static int ambiguous(const char *arg, const struct option *opts)
{
  if (strncmp(arg, "--", 2) != 0) return 0;
  size_t n = strcspn(arg + 2, "=");
  int matches = 0;
  for (; opts->name != NULL; opts++) matches += strncmp(opts->name, arg + 2, n) == 0;
  return matches > 1;
}

static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v > max) return -1;
  *out = (uint32_t)v;
  return 0;
}

static void print_version(void)
{
  printf("pathobs %s\n", PO_VERSION);
  printf("libtrace %d.%d.%d\n", LIBTRACE_API_VERSION >> 16, (LIBTRACE_API_VERSION >> 8) & 0xff,
         LIBTRACE_API_VERSION & 0xff);
  printf("%s\n", LUAJIT_VERSION);
  printf("libuv %s\n", uv_version_string());
  printf("cJSON %s\n", cJSON_Version());
  printf("libnats %s\n", nats_GetVersion());
  printf("%s\n", pcap_lib_version());
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

/* The chains of one folder with the first line of their header comment. */
static int list_folder(const char *dir, const char *label)
{
  struct dirent **ents;
  int n = scandir(dir, &ents, NULL, by_name);
  if (n < 0) {
    fprintf(stderr, "pathobs: cannot list %s: %s\n", dir, strerror(errno));
    return EXIT_RUNTIME;
  }
  for (int i = 0; i < n; i++) {
    const char *name = ents[i]->d_name;
    size_t len = strlen(name);
    if (len > 4 && strcmp(name + len - 4, ".lua") == 0) {
      char path[4600], line[512] = "";
      snprintf(path, sizeof path, "%s/%s", dir, name);
      FILE *f = fopen(path, "r");
      if (f && fgets(line, sizeof line, f)) line[strcspn(line, "\r\n")] = 0;
      if (f) fclose(f);
      const char *desc = line;
      if (strncmp(desc, "--", 2) == 0) desc += 2;
      while (*desc == ' ' || *desc == '-') desc++;
      /* "basic - text": keep the text */
      const char *sep = strstr(desc, " - ");
      if (sep && (size_t)(sep - desc) <= len) desc = sep + 3;
      if (label) printf("%-10.*s %s (%s)\n", (int)(len - 4), name, desc, label);
      else printf("%-10.*s %s\n", (int)(len - 4), name, desc);
    }
    free(ents[i]);
  }
  free(ents);
  return 0;
}

/* Bundled chains, then those of -L folders and PATHOBS_PATH, marked with their folder. */
static int list_chains(const po_paths *p)
{
  int rc = list_folder(p->data[1], NULL);
  for (int i = 0; i < p->nchain_dirs; i++)
    if (p->chain_dirs[i] != p->data[1] && list_folder(p->chain_dirs[i], p->chain_dirs[i]) != 0)
      rc = EXIT_RUNTIME;
  return rc;
}

/* The words after the source are a BPF filter, as in tcpdump ("tcp port 80"). */
static int trailing_filter(po_run_opts *ro, int n, char **words)
{
  static char expr[8192];
  struct stat st;
  if (ro->filter != NULL)
    return usage_error("a filter both with -f and after the source ('%s'): give one", words[0]);
  /* "pathobs a.pcap b.pcap": a second capture, not a filter */
  if ((strchr(words[0], '/') || strchr(words[0], '.')) && stat(words[0], &st) == 0)
    return usage_error("one SOURCE only (got also '%s'; the words after it are a filter)", words[0]);
  size_t len = 0;
  for (int i = 0; i < n; i++) {
    size_t w = strlen(words[i]);
    if (len + w + 2 > sizeof expr) return usage_error("%s", "filter expression too long");
    if (i > 0) expr[len++] = ' ';
    memcpy(expr + len, words[i], w);
    len += w;
  }
  expr[len] = 0;
  ro->filter = expr;
  return 0;
}

/* A path as a file name: "pcapfile:x.pcap" is x.pcap. */
static int stat_path(const char *path, struct stat *st)
{
  if (stat(path, st) == 0) return 0;
  const char *colon = strchr(path, ':');
  return colon != NULL && colon[1] != 0 ? stat(colon + 1, st) : -1;
}

/* Do two paths name the same existing file (whatever links or "./" lead there)? */
static int same_file(const char *out, const char *in)
{
  struct stat a, b;
  if (out == NULL || in == NULL || strcmp(out, "-") == 0 || strcmp(in, "-") == 0) return 0;
  if (stat(out, &a) != 0 || stat_path(in, &b) != 0) return 0;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && !S_ISCHR(a.st_mode);
}

/* A SOURCE that is neither a file nor an interface: say both (a mistyped
 * interface is not "No such file or directory"); -r FILE must be a file. */
static int check_source(const char *src, int positional, int read_file)
{
  struct stat st;
  if (strcmp(src, "-") == 0 || stat(src, &st) == 0) return 0;
  if (read_file && strchr(src, ':') == NULL) {
    fprintf(stderr, "pathobs: cannot open %s: %s\n", src, strerror(errno));
    return EXIT_RUNTIME;
  }
  if (positional && errno == ENOENT && strchr(src, ':') == NULL && strcmp(src, "any") != 0 &&
      (strlen(src) >= IF_NAMESIZE || if_nametoindex(src) == 0)) {
    fprintf(stderr, "pathobs: no such file or interface: %s\n", src);
    return EXIT_RUNTIME;
  }
  return 0;
}

int main(int argc, char **argv)
{
  enum { O_IDLE = 256, O_EXPIRY, O_MAXFLOWS, O_AGGREGATE, O_STATS, O_LIST, O_STATS_INTERVAL, O_WATCH, O_STRICT,
         O_CHAIN_TIMEOUT,
         O_OBSERVER, O_NATS_CREDS, O_NATS_NKEY, O_NATS_CA, O_NATS_CERT, O_NATS_KEY, O_NATS_BUFFER,
         O_NATS_DRAIN, O_READERS };
  static const struct option longopts[] = {
    { "chain", required_argument, NULL, 'c' },
    { "output", required_argument, NULL, 'o' },
    { "filter", required_argument, NULL, 'f' },
    { "idle-timeout", required_argument, NULL, O_IDLE },
    { "expiry-timeout", required_argument, NULL, O_EXPIRY },
    { "max-flows", required_argument, NULL, O_MAXFLOWS },
    { "aggregate", no_argument, NULL, O_AGGREGATE },
    { "workers", required_argument, NULL, 'j' },
    { "stats", required_argument, NULL, O_STATS },
    { "stats-interval", required_argument, NULL, O_STATS_INTERVAL },
    { "watch", no_argument, NULL, O_WATCH },
    { "read", required_argument, NULL, 'r' },
    { "strict", no_argument, NULL, O_STRICT },
    { "chain-timeout", required_argument, NULL, O_CHAIN_TIMEOUT },
    { "interface", required_argument, NULL, 'i' },
    { "buffer-size", required_argument, NULL, 'B' },
    { "readers", required_argument, NULL, O_READERS },
    { "quiet", no_argument, NULL, 'q' },
    { "lua-path", required_argument, NULL, 'L' },
    { "list-chains", no_argument, NULL, O_LIST },
    { "observer", required_argument, NULL, O_OBSERVER },
    { "nats-creds", required_argument, NULL, O_NATS_CREDS },
    { "nats-nkey", required_argument, NULL, O_NATS_NKEY },
    { "nats-tls-ca", required_argument, NULL, O_NATS_CA },
    { "nats-tls-cert", required_argument, NULL, O_NATS_CERT },
    { "nats-tls-key", required_argument, NULL, O_NATS_KEY },
    { "nats-buffer", required_argument, NULL, O_NATS_BUFFER },
    { "nats-drain", required_argument, NULL, O_NATS_DRAIN },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  /* Chains can recurse through C (string.gsub callbacks, table.sort comparators):
   * LuaJIT raises "stack overflow" only at 65500 Lua stack slots, and reaching them
   * that way takes more than the usual 8 MB of C stack, so a runaway recursion would
   * crash instead.  The main thread's stack grows on demand up to RLIMIT_STACK. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < ((rlim_t)64 << 20)) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= ((rlim_t)64 << 20)
                    ? ((rlim_t)64 << 20) : rl.rlim_max;
    setrlimit(RLIMIT_STACK, &rl);
  }
#ifdef M_TRIM_THRESHOLD
  /* libwandio reads a file through a 1 MiB buffer that it frees when it is used up
   * and allocates again for the next read.  glibc would give each one fresh pages
   * (a page fault per 4 KiB, a quarter of a million for 1 GB of capture): keep such
   * blocks in the heap and what is freed at its top for the next one. */
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
  const char *chains[MAX_CHAINS], *ldirs[MAX_LDIRS];
  int nchains = 0, nldirs = 0, list = 0, read_file = 0;
  po_run_opts ro;
  memset(&ro, 0, sizeof ro);
  po_config_defaults(&ro.cfg);
  ro.buffer_kib = 128 * 1024; /* bursts of 64 KiB loopback frames: see docs/live.md */
  ro.sink.drain_ms = 30000;

  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":c:o:w:r:f:qL:hVi:B:j:", longopts, NULL)) != -1) {
    switch (c) {
    case 'c':
      if (nchains == MAX_CHAINS) return usage_error("too many chains (at most %s)", "64");
      chains[nchains++] = optarg;
      break;
    case 'o':
    case 'w':
      /* "pathobs -w -c x.lua ..." from the days when -w was --watch */
      if (optarg[0] == '-' && optarg[1] != 0)
        return usage_error("-o/-w FILE writes the records to FILE; '%s' looks like an option "
                           "(reloading the chains is --watch)", optarg);
      ro.output = optarg;
      break;
    case 'f': ro.filter = optarg; break;
    case O_IDLE:
      if (parse_uint(optarg, 7 * 86400, &ro.cfg.idle_timeout))
        return usage_error("--idle-timeout wants whole seconds up to 604800, not '%s'", optarg);
      break;
    case O_EXPIRY:
      if (parse_uint(optarg, 7 * 86400, &ro.cfg.expiry_timeout))
        return usage_error("--expiry-timeout wants whole seconds up to 604800, not '%s'", optarg);
      break;
    case O_MAXFLOWS:
      if (parse_uint(optarg, 1u << 30, &ro.cfg.max_flows) || ro.cfg.max_flows == 0)
        return usage_error("--max-flows wants a number from 1 to 1073741824, not '%s'", optarg);
      break;
    case O_AGGREGATE: ro.cfg.aggregate = 1; break;
    case 'j':
      if (parse_uint(optarg, 64, &ro.workers) || ro.workers == 0)
        return usage_error("-j/--workers wants a number from 1 to 64, not '%s'", optarg);
      break;
    case O_STATS: ro.stats_file = optarg; break;
    case O_STATS_INTERVAL:
      if (parse_uint(optarg, 86400, &ro.stats_interval) || ro.stats_interval == 0)
        return usage_error("--stats-interval wants whole seconds from 1 to 86400, not '%s'", optarg);
      break;
    case O_WATCH: ro.watch = 1; break;
    case O_STRICT: ro.strict = 1; break;
    case O_CHAIN_TIMEOUT: {
      char *end;
      errno = 0;
      ro.chain_timeout = strtod(optarg, &end);
      if (errno || end == optarg || *end || !(ro.chain_timeout > 0 && ro.chain_timeout <= 86400))
        return usage_error("--chain-timeout wants seconds above 0, up to 86400, not '%s'", optarg);
      break;
    }
    case O_OBSERVER: ro.sink.observer = optarg; break;
    case O_NATS_CREDS: ro.sink.creds = optarg; break;
    case O_NATS_NKEY: ro.sink.nkey = optarg; break;
    case O_NATS_CA: ro.sink.tls_ca = optarg; break;
    case O_NATS_CERT: ro.sink.tls_cert = optarg; break;
    case O_NATS_KEY: ro.sink.tls_key = optarg; break;
    case O_NATS_BUFFER:
      if (parse_uint(optarg, 1u << 24, &ro.sink.buffer) || ro.sink.buffer == 0)
        return usage_error("--nats-buffer wants a number of records from 1 to 16777216, not '%s'", optarg);
      break;
    case O_NATS_DRAIN: {
      uint32_t sec;
      if (parse_uint(optarg, 86400, &sec))
        return usage_error("--nats-drain wants whole seconds up to 86400, not '%s'", optarg);
      ro.sink.drain_ms = sec * 1000;
      break;
    }
    case 'i': { /* always live: a file of that name in the current folder is not read */
      static char live[4096];
      if (ro.source != NULL) return usage_error("%s", "one source only: -r FILE or -i IFACE");
      snprintf(live, sizeof live, "int:%s", optarg);
      ro.source = live;
      break;
    }
    case 'B':
      if (parse_uint(optarg, 2097151, &ro.buffer_kib) || ro.buffer_kib < 64)
        return usage_error("--buffer-size wants KiB from 64 to 2097151, not '%s'", optarg);
      break;
    case O_READERS:
      if (parse_uint(optarg, 16, &ro.readers) || ro.readers == 0)
        return usage_error("--readers wants a number from 1 to 16, not '%s'", optarg);
      break;
    case 'r':
      if (ro.source != NULL) return usage_error("%s", "one source only: -r FILE or -i IFACE");
      ro.source = optarg;
      read_file = 1;
      break;
    case 'q': ro.quiet = 1; break;
    case 'L': {
      struct stat st;
      if (nldirs == MAX_LDIRS) return usage_error("too many --lua-path folders (at most %s)", "32");
      if (stat(optarg, &st) != 0 || !S_ISDIR(st.st_mode))
        return usage_error("-L %s: no such folder", optarg);
      ldirs[nldirs++] = optarg;
      break;
    }
    case O_LIST: list = 1; break;
    case 'h': print_help(); return 0;
    case 'V': print_version(); return 0;
    case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
    default: return usage_error(ambiguous(argv[optind - 1], longopts) ? "option '%s' is ambiguous"
                                                                      : "unknown option '%s'",
                                argv[optind - 1]);
    }
  }

  po_paths paths;
  po_paths_init(&paths, ldirs, nldirs);
  if (list) return list_chains(&paths);
  int positional = ro.source == NULL; /* SOURCE, not -r or -i */
  if (positional) {
    if (optind == argc) return usage_error("%s", "no SOURCE given");
    ro.source = argv[optind++];
  }
  if (optind < argc) {
    int rc = trailing_filter(&ro, argc - optind, argv + optind);
    if (rc != 0) return rc;
  }
  if (nchains == 0) chains[nchains++] = "basic";

  static char resolved[MAX_CHAINS][4096];
  const char *scripts[MAX_CHAINS];
  for (int i = 0; i < nchains; i++) {
    if (po_paths_chain(&paths, chains[i], resolved[i], sizeof resolved[i]) != PO_OK) {
      fprintf(stderr, "pathobs: %s: chain script not found (bundled chains: pathobs --list-chains)\n",
              chains[i]);
      return EXIT_SCRIPT;
    }
    scripts[i] = resolved[i];
  }
  struct stat sst;
  if (ro.readers > 1 && (read_file || po_source_is_stream(ro.source) ||
                         (stat(ro.source, &sst) == 0 && S_ISREG(sst.st_mode))))
    return usage_error("--readers: several readers share a live interface (-i IFACE); %s is read by one",
                       !po_source_is_stream(ro.source) ? "a file"
                       : strcmp(ro.source, "-") == 0 ? "standard input" : "a pipe or device");
  if (ro.watch && po_source_is_stream(ro.source))
    return usage_error("--watch needs a file or an interface: %s cannot be read again",
                       strcmp(ro.source, "-") == 0 ? "standard input" : "a pipe or device");
  /* before anything is opened for writing: -o victim.pcap victim.pcap loses the capture */
  if (same_file(ro.output, ro.source))
    return usage_error("refusing to write the records to %s: it is the input", ro.output);
  if (same_file(ro.stats_file, ro.source))
    return usage_error("refusing to write the counters to %s: it is the input", ro.stats_file);
  if (ro.output != NULL && same_file(ro.stats_file, ro.output))
    return usage_error("--stats %s is also the output of the records", ro.stats_file);
  int rc = check_source(ro.source, positional, read_file);
  if (rc != 0) return rc;
  if (ro.stats_file != NULL && (rc = po_stats_writable(ro.stats_file)) != 0) {
    fprintf(stderr, "pathobs: cannot write %s: %s\n", ro.stats_file, strerror(rc));
    return EXIT_RUNTIME;
  }

  signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error (EPIPE), not a death */
  signal(SIGHUP, SIG_IGN);  /* until po_run's handler: a SIGHUP never ends a run */
  ro.scripts = scripts;
  ro.nscripts = nchains;
  ro.dirs = paths.dirs;
  ro.ndirs = paths.ndirs;
  ro.diag = diag;
  return po_run(&ro);
}
