/* main.c - the pathobs command line: options, chain lookup, exit status. */
#include "po.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libtrace.h>
#include <luajit.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#ifndef PO_VERSION
#define PO_VERSION "0.1.0"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SCRIPT = 3, MAX_CHAINS = 64, MAX_LDIRS = 32 };

static const char usage_text[] =
  "Usage: pathobs [OPTIONS] SOURCE\n"
  "Group packets into bidirectional flows, run Lua chain functions over them\n"
  "and write one JSON record per flow.\n"
  "\n"
  "Source:\n"
  "  SOURCE                   a capture file (pcap, pcapng, ERF, gzip/bzip2/xz pcap),\n"
  "                           - for stdin (pcap, pcapng), an interface name (any), or a\n"
  "                           libtrace URI (pcapfile:F, pcap:F, erf:F, int:IF, ring:IF,\n"
  "                           pcapint:IF, ...)\n"
  "  -i, --interface IFACE    capture live on IFACE (same as SOURCE int:IFACE)\n"
  "  -f, --filter EXPR        BPF filter applied to every packet\n"
  "  -B, --buffer-size KIB    live capture buffer in KiB (default 131072: 128 MiB)\n"
  "\n"
  "Chains:\n"
  "  -c, --chain NAME|FILE    chain script, repeatable, run in order (default: basic)\n"
  "  -L, --lua-path DIR       extra folder for chains and modules, repeatable\n"
  "      --list-chains        list the chains (bundled, -L, PATHOBS_PATH) and exit\n"
  "  -w, --watch              reload the chains when their files change (and on SIGHUP)\n"
  "\n"
  "Flows:\n"
  "      --idle-timeout SEC   complete a flow idle this long (default 30)\n"
  "      --expiry-timeout SEC write a completed record this much later (default 5)\n"
  "      --max-flows N        bound on live records; the one idle longest is written\n"
  "                           early (default 4194304)\n"
  "      --aggregate          one flow per IP version for all packets\n"
  "\n"
  "Output:\n"
  "  -o, --output FILE        JSON lines to FILE (default: standard output)\n"
  "      --stats FILE         write the counters as JSON at exit\n"
  "      --stats-interval SEC also write the counters every SEC seconds\n"
  "  -q, --quiet              no counters line on standard error\n"
  "  -h, --help               this text\n"
  "  -V, --version            versions of pathobs and its libraries\n"
  "\n"
  "Environment: PATHOBS_PATH=DIR:DIR adds folders like -L.\n"
  "Exit status: 0 success, 1 runtime failure, 2 usage error, 3 chain script error.\n"
  "SIGINT/SIGTERM: stop, writing every record; another one a second or more later\n"
  "exits at once (130/143).\n"
  "\n"
  "Example:\n"
  "  pathobs -c basic -c tcp -o flows.jsonl capture.pcap\n"
  "\n"
  "More in pathobs(1) and the documentation in docs/.\n";

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

int main(int argc, char **argv)
{
  enum { O_IDLE = 256, O_EXPIRY, O_MAXFLOWS, O_AGGREGATE, O_STATS, O_LIST, O_STATS_INTERVAL };
  static const struct option longopts[] = {
    { "chain", required_argument, NULL, 'c' },
    { "output", required_argument, NULL, 'o' },
    { "filter", required_argument, NULL, 'f' },
    { "idle-timeout", required_argument, NULL, O_IDLE },
    { "expiry-timeout", required_argument, NULL, O_EXPIRY },
    { "max-flows", required_argument, NULL, O_MAXFLOWS },
    { "aggregate", no_argument, NULL, O_AGGREGATE },
    { "stats", required_argument, NULL, O_STATS },
    { "stats-interval", required_argument, NULL, O_STATS_INTERVAL },
    { "watch", no_argument, NULL, 'w' },
    { "interface", required_argument, NULL, 'i' },
    { "buffer-size", required_argument, NULL, 'B' },
    { "quiet", no_argument, NULL, 'q' },
    { "lua-path", required_argument, NULL, 'L' },
    { "list-chains", no_argument, NULL, O_LIST },
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
  int nchains = 0, nldirs = 0, list = 0;
  po_run_opts ro;
  memset(&ro, 0, sizeof ro);
  po_config_defaults(&ro.cfg);
  ro.buffer_kib = 128 * 1024; /* bursts of 64 KiB loopback frames: see docs/live.md */

  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":c:o:f:qL:hVwi:B:", longopts, NULL)) != -1) {
    switch (c) {
    case 'c':
      if (nchains == MAX_CHAINS) return usage_error("too many chains (at most %s)", "64");
      chains[nchains++] = optarg;
      break;
    case 'o': ro.output = optarg; break;
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
    case O_STATS: ro.stats_file = optarg; break;
    case O_STATS_INTERVAL:
      if (parse_uint(optarg, 86400, &ro.stats_interval) || ro.stats_interval == 0)
        return usage_error("--stats-interval wants whole seconds from 1 to 86400, not '%s'", optarg);
      break;
    case 'w': ro.watch = 1; break;
    case 'i': { /* always live: a file of that name in the current folder is not read */
      static char live[4096];
      snprintf(live, sizeof live, "int:%s", optarg);
      ro.source = live;
      break;
    }
    case 'B':
      if (parse_uint(optarg, 4u << 20, &ro.buffer_kib) || ro.buffer_kib < 64)
        return usage_error("--buffer-size wants KiB from 64 to 4194304, not '%s'", optarg);
      break;
    case 'q': ro.quiet = 1; break;
    case 'L':
      if (nldirs == MAX_LDIRS) return usage_error("too many --lua-path folders (at most %s)", "32");
      ldirs[nldirs++] = optarg;
      break;
    case O_LIST: list = 1; break;
    case 'h': fputs(usage_text, stdout); return 0;
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
  if (ro.source == NULL) {
    if (optind == argc) return usage_error("%s", "no SOURCE given");
    ro.source = argv[optind++];
  }
  if (optind < argc) return usage_error("one SOURCE only (got also '%s')", argv[optind]);
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
  if (ro.watch && po_source_is_stream(ro.source))
    return usage_error("--watch needs a file or an interface: %s cannot be read again",
                       strcmp(ro.source, "-") == 0 ? "standard input" : "a pipe or device");

  signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, not a death */
  ro.scripts = scripts;
  ro.nscripts = nchains;
  ro.dirs = paths.dirs;
  ro.ndirs = paths.ndirs;
  ro.diag = diag;
  return po_run(&ro);
}
