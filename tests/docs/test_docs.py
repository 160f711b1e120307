#!/usr/bin/env python3
"""test_docs.py - keep the documentation and the examples true.

    test_docs.py PATHOBS [--regen] [--only SUBSTRING]

Standard library only. Prints one line per check and a closing
"N passed, N failed, N skipped"; exits 1 when a check failed.

What is checked
---------------
* Every example chain (examples/*.lua) runs on its capture and prints
  exactly examples/expected/NAME.jsonl. The command is the one the chain's
  header comment shows, a comment line of the form

      --   pathobs -c basic -c examples/NAME.lua examples/NAME.pcap

  run from the top of the source tree with -q added. --regen rewrites the
  expected files instead (review the diff before committing).
* examples/expected/ecn.jsonl is what the bundled basic, tcp and ecn chains
  make of examples/ecn.pcap; examples/ecn_table.sh (jq) and
  examples/ecn_table.py (pandas) both turn it into
  examples/expected/ecn_table.tsv. Skipped when jq / pandas is missing; the
  Python script must then exit 77 with a message.
* The SNI parser of examples/sni.lua never raises, whatever the bytes
  (every prefix of a ClientHello, and random mutations of it).
* Documented shell sessions. In README.md, docs/*.md and examples/README.md,
  a fenced block is run when the line right before its opening fence is one
  of these HTML comments (invisible once the Markdown is rendered):

      <!-- test -->                  run this ```sh block
      <!-- test: needs jq -->        ... only when jq is there (else skip);
                                     "needs pandas" likewise for a python3
                                     that can import pandas
      <!-- test-file: NAME -->       write this block (```lua, ...) to file
                                     NAME first; later blocks can use it

  In a run block, each line starting with "$ " is a command (a trailing
  backslash continues it on the next line); the lines up to the next "$ "
  are its expected output, standard output and standard error together. A
  line "..." in the expected output matches any number of lines. Every
  command must exit 0 (show a failure as `cmd; echo "exit status $?"`).
  Commands run with sh in a scratch folder that links to examples/,
  chains/, docs/, lua/ and tests/ of the source tree, where `pathobs` on
  PATH, and ./build/pathobs, are the binary under test; the blocks of one
  Markdown file share that folder, in order. Unmarked ```sh blocks are not
  run (they install packages, capture live, or wait for edits).
* In every ```sh block, marked or not, every option given to pathobs is one
  that src/main.c accepts; every relative link leads to a file, and every
  #anchor to a heading.
* README's set-up line names every package and runs (with stubs for
  apt-get, cmake and sudo) both as root without sudo and as a user with sudo.
* `pathobs --help`, docs/cli.md and the man page docs/pathobs.1 mention every
  option of src/main.c's option table; the man page renders without a
  warning (groff -t -man -ww, man --warnings -l; skipped without groff).
* docs/lua-api.md and the editor annotations lua/types/pathobs.lua name
  every header field of lua/pathobs/headers.lua and every constant of the
  pathobs module; the annotated types match what pathobs really hands to
  chains on the example captures (a generated probe chain checks each field
  of each header object it receives), and the annotated constants have the
  module's values.
"""

import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # importing examples/make_captures.py leaves no __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
EXAMPLES = os.path.join(SRC, "examples")
EXPECTED = os.path.join(EXAMPLES, "expected")
DOC_FILES = ["README.md", "examples/README.md"] + sorted(
    "docs/" + f for f in os.listdir(os.path.join(SRC, "docs")) if f.endswith(".md"))
ECN_ARGS = ["-q", "-c", "basic", "-c", "tcp", "-c", "ecn", "examples/ecn.pcap"]

results = []   # (status, name, detail) with status "ok", "FAIL" or "skip"


class Skip(Exception):
    pass


def check(name, fn, *args):
    try:
        fn(*args)
        results.append(("ok", name, ""))
    except Skip as e:
        results.append(("skip", name, str(e)))
    except AssertionError as e:
        results.append(("FAIL", name, str(e) or "assertion failed"))
    except Exception as e:  # a crash of a check is a failure too
        results.append(("FAIL", name, "%s: %s" % (type(e).__name__, e)))


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def run(argv, cwd=SRC, stdin=None, env=None, timeout=60):
    p = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def first_difference(got, want):
    g, w = got.splitlines(), want.splitlines()
    for i in range(max(len(g), len(w))):
        a = g[i] if i < len(g) else "<end>"
        b = w[i] if i < len(w) else "<end>"
        if a != b:
            return "line %d:\n      got:      %s\n      expected: %s" % (i + 1, a, b)
    return "same lines, different bytes"


# --------------------------------------------------------------------------
# the option table of src/main.c


def options_of_main():
    """{long name: takes a value}, {short letter: takes a value}."""
    src = read("src/main.c")
    longs = {}
    for name, arg in re.findall(r'\{\s*"([a-z-]+)",\s*(required_argument|no_argument)', src):
        longs[name] = arg == "required_argument"
    m = re.search(r'getopt_long\(argc, argv, "([^"]+)"', src)
    assert longs and m, "cannot find the option table in src/main.c"
    optstring = m.group(1).lstrip(":")
    shorts = {}
    for i, ch in enumerate(optstring):
        if ch != ":":
            shorts[ch] = i + 1 < len(optstring) and optstring[i + 1] == ":"
    return longs, shorts


LONGS, SHORTS = options_of_main()


def check_help_options():
    rc, out, err = run([PATHOBS, "--help"])
    assert rc == 0 and not err, "pathobs --help: exit %d, stderr %r" % (rc, err)
    missing = ["--" + o for o in LONGS if "--" + o not in out]
    missing += ["-" + s for s in SHORTS if re.search(r"(^|\s)-%s\b" % s, out) is None]
    assert not missing, "pathobs --help does not mention %s" % ", ".join(missing)


def check_cli_md_options():
    text = read("docs/cli.md")
    missing = ["--" + o for o in LONGS if "--" + o not in text]
    missing += ["-" + s for s in SHORTS if "`-%s" % s not in text]
    assert not missing, "docs/cli.md does not mention %s" % ", ".join(missing)


def roff_text(src):
    """The man page source with the escapes that hide option names removed."""
    src = re.sub(r"\\f[BIRP]|\\f\(..|\\&|\\c", "", src)
    return src.replace("\\-", "-").replace("\\(en", "-")


def check_man_options():
    text = roff_text(read("docs/pathobs.1"))
    missing = ["--" + o for o in LONGS if "--" + o not in text]
    missing += ["-" + s for s in SHORTS if re.search(r"(^|[\s\[|])-%s\b" % s, text) is None]
    assert not missing, "docs/pathobs.1 does not mention %s" % ", ".join(missing)
    for var in ("PATHOBS_PATH", "PATHOBS_JIT_VERBOSE"):
        assert var in text, "docs/pathobs.1 does not mention %s" % var


def check_man_renders():
    if shutil.which("groff") is None:
        raise Skip("groff is not installed")
    page = os.path.join(SRC, "docs", "pathobs.1")
    rc, out, err = run(["groff", "-t", "-man", "-Tutf8", "-ww", "-z", page])
    assert rc == 0 and not err.strip(), "groff warns:\n%s" % err
    rc, out, err = run(["groff", "-t", "-man", "-Tutf8", "-ww", page])
    out = re.sub(r"\x1b\[[0-9;]*m|.\x08", "", out)  # bold and underline
    assert rc == 0 and "PATHOBS(1)" in out and "SYNOPSIS" in out, "groff output looks wrong"
    if shutil.which("man"):
        env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0")
        rc, out, err = run(["man", "--warnings", "-l", page], env=env)
        out = re.sub(r"\x1b\[[0-9;]*m|.\x08", "", out)
        assert rc == 0 and not err.strip(), "man -l: exit %d\n%s" % (rc, err)
        assert "--list-chains" in out.replace("\u2010", "-").replace("\u2212", "-"), \
            "man -l output lacks --list-chains"


# --------------------------------------------------------------------------
# Markdown: fenced blocks and their markers


FENCE = re.compile(r"^```(\S*)\s*$")
MARK = re.compile(r"^<!--\s*(test|test-file)\s*(?::\s*(.*?))?\s*-->\s*$")


def blocks_of(text):
    """[(lang, marker, marker argument, first line number, lines)]."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        marker = arg = None
        if start > 0:
            mm = MARK.match(lines[start - 1].strip())
            if mm:
                marker, arg = mm.group(1), (mm.group(2) or "").strip()
        out.append((lang, marker, arg, start + 1, body))
        i += 1
    return out


def session_of(body):
    """[(command, [expected lines])] of a run block."""
    steps = []
    i = 0
    while i < len(body):
        line = body[i]
        if not line.startswith("$ "):
            raise AssertionError("expected a '$ ' command line, got %r" % line)
        cmd = line[2:]
        while cmd.endswith("\\") and i + 1 < len(body):
            i += 1
            cmd = cmd[:-1] + "\n" + body[i]
        i += 1
        want = []
        while i < len(body) and not body[i].startswith("$ "):
            want.append(body[i])
            i += 1
        steps.append((cmd, want))
    return steps


def matches(got, want):
    """Lines match, a '...' line in want matching any number of lines."""
    got = [g.rstrip() for g in got]
    want = [w.rstrip() for w in want]
    while got and got[-1] == "":
        got.pop()
    while want and want[-1] == "":
        want.pop()
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[i, j]
        if j == len(want):
            r = i == len(got)
        elif want[j] == "...":
            r = m(i, j + 1) or (i < len(got) and m(i + 1, j))
        else:
            r = i < len(got) and got[i] == want[j] and m(i + 1, j + 1)
        memo[i, j] = r
        return r
    return m(0, 0)


def python_with_pandas():
    """An interpreter that can import pandas, or None."""
    seen = set()
    for py in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if not py or not os.path.exists(py):
            continue
        real = os.path.realpath(py)
        if real in seen:
            continue
        seen.add(real)
        if subprocess.run([py, "-c", "import pandas"], capture_output=True).returncode == 0:
            return py
    return None


PANDAS_PY = None


def scratch_dir():
    """A scratch folder linking to the source tree, and the environment
    whose PATH finds the pathobs under test (and a python3 with pandas)."""
    work = tempfile.mkdtemp(prefix="pathobs-docs-")
    for name in ("examples", "chains", "docs", "lua", "tests"):
        os.symlink(os.path.join(SRC, name), os.path.join(work, name))
    bindir = os.path.join(work, ".bin")
    os.mkdir(bindir)
    os.symlink(PATHOBS, os.path.join(bindir, "pathobs"))
    os.mkdir(os.path.join(work, "build"))           # the README's ./build/pathobs
    os.symlink(PATHOBS, os.path.join(work, "build", "pathobs"))
    if PANDAS_PY:
        os.symlink(PANDAS_PY, os.path.join(bindir, "python3"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               LC_ALL="C.UTF-8")
    env.pop("PATHOBS_PATH", None)
    return work, env


def needs_met(arg):
    for need in re.findall(r"[\w-]+", arg.replace("needs", " ")):
        if need == "pandas":
            if not PANDAS_PY:
                return "pandas is not installed"
        elif shutil.which(need) is None:
            return "%s is not installed" % need
    return None


def run_doc_file(rel):
    """Run the marked blocks of one Markdown file; one check per block."""
    text = read(rel)
    blocks = blocks_of(text)
    if not any(b[1] for b in blocks):
        return 0
    work, env = scratch_dir()
    count = 0
    try:
        for lang, marker, arg, lineno, body in blocks:
            name = "%s:%d" % (rel, lineno)
            if marker == "test-file":
                def write(arg=arg, body=body):
                    assert arg and "/" not in arg, "test-file needs a plain file name"
                    with open(os.path.join(work, arg), "w", encoding="utf-8") as f:
                        f.write("\n".join(body) + "\n")
                check(name + " (file %s)" % arg, write)
                count += 1
            elif marker == "test":
                def session(arg=arg, body=body, lang=lang):
                    if lang != "sh":
                        raise AssertionError("<!-- test --> marks a ```%s block, not ```sh" % lang)
                    why = needs_met(arg)
                    if why:
                        raise Skip(why)
                    for cmd, want in session_of(body):
                        p = subprocess.run(["sh", "-c", cmd], cwd=work, env=env,
                                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, timeout=120)
                        got = p.stdout.decode("utf-8", "replace").splitlines()
                        assert p.returncode == 0, "$ %s\n    exit status %d; output:\n%s" % (
                            cmd, p.returncode, "\n".join(got[:20]))
                        assert matches(got, want), "$ %s\n    output differs; got:\n%s" % (
                            cmd, "\n".join("      " + g for g in got[:40]))
                check(name, session)
                count += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return count


def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def check_links(rel):
    """Every relative link of a Markdown file leads to a file, and its
    #anchor to a heading of that file."""
    text = read(rel)
    problems = []
    text_no_code = re.sub(r"```.*?```", "", text, flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text_no_code):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(SRC, os.path.dirname(rel), path)) if path \
            else os.path.join(SRC, rel)
        if not os.path.exists(full):
            problems.append("%s: link to missing %s" % (rel, target))
            continue
        if anchor and full.endswith(".md"):
            with open(full, encoding="utf-8") as f:
                heads = {slug(h) for h in re.findall(r"^#+\s+(.*)$", f.read(), flags=re.M)}
            if anchor not in heads:
                problems.append("%s: no heading for #%s in %s" % (rel, anchor, path or rel))
    assert not problems, "\n    ".join(problems)


def pathobs_invocations(cmdline):
    """The argument lists given to pathobs in one shell command line (pathobs
    as a command, not as an argument of another one)."""
    try:
        words = shlex.split(cmdline, comments=True)
    except ValueError:
        return []
    out = []
    cur = None
    command_position = True
    for w in words:
        if w in ("|", "||", "&&", ";", "&") or w[:1] in "<>" or w.startswith("2>"):
            if cur is not None:
                out.append(cur)
            cur = None
            command_position = w[:1] not in "<>" and not w.startswith("2>")
            continue
        if cur is not None:
            cur.append(w)
        elif command_position:
            if os.path.basename(w) == "pathobs":
                cur = []
            elif not (w in ("sudo", "env", "time", "exec") or re.match(r"^\w+=", w)):
                command_position = False
    if cur is not None:
        out.append(cur)
    return out


def bad_options(args):
    """Options in args that pathobs does not accept."""
    bad = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("$"):           # "$(which pathobs)" and the like
            pass
        elif a == "--":
            break
        elif a.startswith("--"):
            name = a[2:].split("=", 1)[0]
            if name not in LONGS:
                bad.append(a)
            elif LONGS[name] and "=" not in a:
                i += 1
        elif a.startswith("-") and a != "-":
            for k, ch in enumerate(a[1:]):
                if ch not in SHORTS:
                    bad.append("-" + ch)
                    break
                if SHORTS[ch]:
                    if k == len(a) - 2:
                        i += 1
                    break
        i += 1
    return bad


def check_documented_options(rel):
    text = read(rel)
    problems = []
    for lang, marker, arg, lineno, body in blocks_of(text):
        if lang != "sh":
            continue
        joined = "\n".join(body).replace("\\\n", " ")
        for line in joined.splitlines():
            if marker == "test":
                # a session: commands only, and not those that show a mistake
                if not line.startswith("$ ") or "exit status $?" in line:
                    continue
                line = line[2:]
            for args in pathobs_invocations(line):
                for b in bad_options(args):
                    problems.append("%s:%d: pathobs has no option %s" % (rel, lineno, b))
    assert not problems, "\n    ".join(problems)


# --------------------------------------------------------------------------
# examples


def example_command(lua):
    """The pathobs command shown in an example chain's header comment."""
    for line in read(lua).splitlines():
        if not line.startswith("--"):
            break
        m = re.match(r"^--\s+pathobs\s+(.*)$", line)
        if m:
            return shlex.split(m.group(1))
    raise AssertionError("%s: no '--   pathobs ...' line in the header comment" % lua)


def compare_or_regen(name, got, want_path):
    if REGEN:
        with open(want_path, "w", encoding="utf-8") as f:
            f.write(got)
        return
    assert os.path.exists(want_path), "%s is missing (run with --regen)" % want_path
    with open(want_path, encoding="utf-8") as f:
        want = f.read()
    assert got == want, "%s differs from %s: %s" % (name, os.path.relpath(want_path, SRC),
                                                    first_difference(got, want))


def check_example_chain(lua):
    args = example_command(lua)
    rc, out, err = run([PATHOBS, "-q"] + args)
    assert rc == 0 and not err, "pathobs %s: exit %d\n%s" % (" ".join(args), rc, err)
    for line in out.splitlines():
        json.loads(line)
    stem = os.path.splitext(os.path.basename(lua))[0]
    compare_or_regen(lua, out, os.path.join(EXPECTED, stem + ".jsonl"))


def check_ecn_records():
    rc, out, err = run([PATHOBS] + ECN_ARGS)
    assert rc == 0 and not err, "exit %d\n%s" % (rc, err)
    compare_or_regen("ecn records", out, os.path.join(EXPECTED, "ecn.jsonl"))


def check_ecn_table_sh():
    if shutil.which("jq") is None:
        raise Skip("jq is not installed")
    script = os.path.join(EXAMPLES, "ecn_table.sh")
    jsonl = os.path.join(EXPECTED, "ecn.jsonl")
    rc, out, err = run([script, jsonl])
    assert rc == 0 and not err, "ecn_table.sh: exit %d\n%s" % (rc, err)
    compare_or_regen("ecn_table.sh", out, os.path.join(EXPECTED, "ecn_table.tsv"))
    with open(jsonl, "rb") as f:
        rc, out2, err = run([script], stdin=f.read())
    assert rc == 0 and out2 == out, "ecn_table.sh reading standard input differs"


def check_ecn_table_py():
    script = os.path.join(EXAMPLES, "ecn_table.py")
    jsonl = os.path.join(EXPECTED, "ecn.jsonl")
    if PANDAS_PY is None:
        rc, out, err = run([sys.executable, script, jsonl])
        assert rc == 77 and "pandas" in err and not out, \
            "without pandas ecn_table.py must say so and exit 77 (got %d, %r)" % (rc, err)
        raise Skip("pandas is not installed (the script says so and exits 77, as it should)")
    rc, out, err = run([PANDAS_PY, script, jsonl])
    assert rc == 0, "ecn_table.py: exit %d\n%s" % (rc, err)
    with open(os.path.join(EXPECTED, "ecn_table.tsv"), encoding="utf-8") as f:
        want = f.read()
    assert out == want, "ecn_table.py differs from expected/ecn_table.tsv: %s" % \
        first_difference(out, want)


SNI_FUZZ = r"""
local parse = require("sni").exports.client_hello_sni
local byte, char, sub = string.byte, string.char, string.sub
local hello = ...
local function try(s)
  local ok, h, name = pcall(parse, s)
  if not ok then error("raised on " .. #s .. " bytes: " .. tostring(h), 0) end
  if type(h) ~= "boolean" or (name ~= nil and type(name) ~= "string") then
    error("bad result types on " .. #s .. " bytes", 0)
  end
  return h, name
end
local h, name = try(hello)
assert(h == true and name == "fuzz.example.com", "the whole ClientHello: " .. tostring(name))
local tries = 0
for n = 0, #hello do try(sub(hello, 1, n)); tries = tries + 1 end
math.randomseed(7)
for _ = 1, 20000 do
  local s = hello
  for _ = 1, math.random(1, 4) do
    local i = math.random(1, #s)
    s = sub(s, 1, i - 1) .. char(math.random(0, 255)) .. sub(s, i + 1)
  end
  if math.random() < 0.3 then s = sub(s, 1, math.random(0, #s)) end
  try(s); tries = tries + 1
end
for _ = 1, 2000 do
  local t = {}
  for i = 1, math.random(0, 80) do t[i] = char(math.random(0, 255)) end
  local s = table.concat(t)
  if #s > 5 then s = "\22\3\1" .. sub(s, 4, 5) .. "\1" .. sub(s, 7) end
  try(s); tries = tries + 1
end
return { new_flow = function(rec) rec.tries = tries end }
"""


def check_sni_never_raises():
    sys.path.insert(0, EXAMPLES)
    try:
        import make_captures
    finally:
        sys.path.pop(0)
    hello = make_captures.client_hello("fuzz.example.com", "fuzz")
    with tempfile.TemporaryDirectory() as tmp:
        chain = os.path.join(tmp, "fuzz.lua")
        lit = "".join("\\%d" % b for b in hello)
        with open(chain, "w") as f:
            f.write(SNI_FUZZ.replace("local hello = ...", 'local hello = "%s"' % lit))
        rc, out, err = run([PATHOBS, "-L", EXAMPLES, "-c", chain,
                            os.path.join(EXAMPLES, "sni.pcap")], timeout=120)
        assert rc == 0, "exit %d\n%s" % (rc, err)
        assert " 0 chain errors" in err, err.strip()
        tries = json.loads(out.splitlines()[0])["tries"]
        assert tries > 20000, "only %d inputs tried" % tries


# --------------------------------------------------------------------------
# the Lua API: headers.lua, init.lua, docs/lua-api.md, lua/types/pathobs.lua


def runtime_fields():
    """{kind: set of field names} from lua/pathobs/headers.lua."""
    src = read("lua/pathobs/headers.lua")

    def keys_of(start_pattern):
        m = re.search(start_pattern, src)
        assert m, "headers.lua: cannot find %r" % start_pattern
        depth, i = 1, m.end()
        body_start = i
        while depth:
            c = src[i]
            depth += {"{": 1, "}": -1}.get(c, 0)
            i += 1
        body = src[body_start:i - 1]
        # keys at the top level of the table constructor: the lines indented
        # like its first one (function bodies inside are indented deeper)
        lines = [ln for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("--")]
        indent = len(lines[0]) - len(lines[0].lstrip())
        keys = set()
        for line in lines:
            if len(line) - len(line.lstrip()) == indent:
                keys.update(re.findall(r"(?:^|,)\s*([a-z_0-9]+)\s*=\s*(?=[a-z(])", line))
        return keys

    common = keys_of(r"local ip_common = \{")
    ip4 = keys_of(r"local ip4 = setmetatable\(\{") | common | {"hop_limit"}
    ip6 = keys_of(r"local ip6 = setmetatable\(\{") | common | {"hop_limit", "icmp6"}
    tcp = keys_of(r"local tcp = \{") | keys_of(r"local tcp_methods = \{")
    return {"common": common, "ip4": ip4, "ip6": ip6, "tcp": tcp,
            "udp": keys_of(r"local udp = \{"), "icmp": keys_of(r"local icmp = \{")}


def module_constants():
    """{name: value} of the pathobs module's constants (lua/pathobs/init.lua)."""
    out = {}
    for line in read("lua/pathobs/init.lua").splitlines():
        m = re.match(r"^(M\.[A-Z_0-9]+(?:,\s*M\.[A-Z_0-9]+)*)\s*=\s*([^-]+?)\s*(--.*)?$", line)
        if not m:
            continue
        names = [n.strip()[2:] for n in m.group(1).split(",")]
        values = [int(v.strip(), 0) for v in m.group(2).split(",")]
        out.update(zip(names, values))
    assert len(out) > 20, "cannot read the constants of lua/pathobs/init.lua"
    return out


def stub_classes():
    """{class: {field: type}} and {constant: value} from lua/types/pathobs.lua."""
    classes, consts, cur = {}, {}, None
    for line in read("lua/types/pathobs.lua").splitlines():
        m = re.match(r"^---@class\s+(?:\([a-z]+\)\s+)?([\w.]+)(?:\s*:\s*(\w+))?", line)
        if m:
            cur = m.group(1)
            classes[cur] = {}
            if m.group(2):
                classes[cur]["__parent"] = m.group(2)
            continue
        m = re.match(r"^---@field\s+(\w+\??)\s+(\S+)", line)
        if m and cur:
            classes[cur][m.group(1).rstrip("?")] = m.group(2)
            continue
        m = re.match(r"^function (\w+):(\w+)\(", line)
        if m:
            classes.setdefault(m.group(1), {})[m.group(2)] = "method"
            continue
        m = re.match(r"^pathobs\.([A-Z_0-9]+)\s*=\s*(\S+)", line)
        if m:
            consts[m.group(1)] = int(m.group(2), 0)
            continue
        if not line.startswith("---"):
            cur = None
    return classes, consts


def class_fields(classes, name):
    fields = dict(classes[name])
    parent = fields.pop("__parent", None)
    if parent:
        fields.update(class_fields(classes, parent))
    return fields


STUB_OF = {"ip4": "PathobsIPv4", "ip6": "PathobsIPv6", "tcp": "PathobsTCP",
           "udp": "PathobsUDP", "icmp": "PathobsICMP"}


def check_api_doc_fields():
    text = read("docs/lua-api.md")
    fields = runtime_fields()
    missing = sorted({f for kind in fields for f in fields[kind]
                      if "`%s`" % f not in text and "`%s()`" % f not in text})
    assert not missing, "docs/lua-api.md does not name %s" % ", ".join(missing)
    consts = module_constants()
    missing = sorted(c for c in consts if c not in text)
    missing += [f for f in ("pathobs.null", "extract_ports", "tcp_options", "fields.dir")
                if f not in text]
    assert not missing, "docs/lua-api.md does not name %s" % ", ".join(missing)


def check_stub_fields():
    classes, consts = stub_classes()
    fields = runtime_fields()
    problems = []
    for kind, cls in STUB_OF.items():
        assert cls in classes, "lua/types/pathobs.lua has no class %s" % cls
        have = class_fields(classes, cls)
        for f in sorted(fields[kind] - set(have)):
            problems.append("%s lacks field %s" % (cls, f))
        for f in sorted(set(have) - fields[kind]):
            problems.append("%s annotates %s, which pathobs does not have" % (cls, f))
    runtime = module_constants()
    for k, v in runtime.items():
        if consts.get(k) != v:
            problems.append("pathobs.%s is %r in the module, %r in the annotations"
                            % (k, v, consts.get(k)))
    for k in set(consts) - set(runtime):
        problems.append("the annotations have pathobs.%s, the module does not" % k)
    assert not problems, "\n    ".join(problems)


PROBE_HEAD = r"""
-- generated by tests/docs/test_docs.py: check the annotated types of lua/types/pathobs.lua
local pathobs = require("pathobs")
local null = pathobs.null
local SPEC = ...
local KIND = { PathobsTCP = "TCP header", PathobsUDP = "UDP header", PathobsICMP = "ICMP header",
               PathobsIPv4 = "IPv4 header", PathobsIPv6 = "IPv6 header" }
local function fits(v, t)
  local opt = t:sub(-1) == "?"
  if opt then t = t:sub(1, -2) end
  if v == nil then return opt end
  if t == "integer" then return type(v) == "number" and v % 1 == 0 end
  if t == "number" or t == "string" or t == "boolean" then return type(v) == t end
  if t == "PathobsIP" then return tostring(v) == "IPv4 header" or tostring(v) == "IPv6 header" end
  if KIND[t] then return tostring(v) == KIND[t] end
  return false
end
local function probe(rec, obj, cls)
  rec["seen_" .. cls] = true
  for name, t in pairs(SPEC[cls]) do
    local ok, v = pcall(function() return obj[name] end)
    if not ok then
      rec.bad = (rec.bad or "") .. cls .. "." .. name .. " raised " .. tostring(v) .. "; "
    elseif t == "method" then
      if type(v) ~= "function" then rec.bad = (rec.bad or "") .. cls .. ":" .. name .. " is no method; " end
    elseif not fits(v, t) then
      rec.bad = (rec.bad or "") .. cls .. "." .. name .. " is " .. type(v) .. " " .. tostring(v)
        .. ", annotated " .. t .. "; "
    end
  end
end
local function ip(rec, h)
  probe(rec, h, h.version == 4 and "PathobsIPv4" or "PathobsIPv6")
  if h.tcp then probe(rec, h.tcp, "PathobsTCP") end
  if h.udp then probe(rec, h.udp, "PathobsUDP") end
  if h.icmp then
    probe(rec, h.icmp, "PathobsICMP")
    local q = h.icmp.quote
    if q then rec.seen_quote = true; probe(rec, q, q.version == 4 and "PathobsIPv4" or "PathobsIPv6") end
  end
end
for k, v in pairs(SPEC.pathobs) do
  if pathobs[k] ~= v then error("pathobs." .. k .. " is " .. tostring(pathobs[k]), 0) end
end
assert(type(pathobs.extract_ports) == "function" and type(pathobs.tcp_options) == "function")
assert(type(null) == "userdata")
local fields = require("pathobs.fields")
assert(type(fields.dir) == "function" and type(fields.init) == "function")
return {
  new_flow = function(rec, h) ip(rec, h) end,
  ip4 = function(rec, h) ip(rec, h) end,
  ip6 = function(rec, h) ip(rec, h) end,
  icmp4 = function(rec, h, q) if q then probe(rec, q, "PathobsIPv4") end end,
  icmp6 = function(rec, h, q) if q then probe(rec, q, "PathobsIPv6") end end,
  tcp = function(rec, t) probe(rec, t, "PathobsTCP") end,
  udp = function(rec, u) probe(rec, u, "PathobsUDP") end,
}
"""


def lua_literal(v):
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua_literal(k), lua_literal(x)) for k, x in sorted(v.items())) + "}"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)


def check_stub_types():
    classes, consts = stub_classes()
    spec = {cls: class_fields(classes, cls) for cls in STUB_OF.values()}
    spec["pathobs"] = consts
    captures = [os.path.join(EXAMPLES, f) for f in sorted(os.listdir(EXAMPLES)) if f.endswith(".pcap")]
    icmp = os.path.join(SRC, "tests", "golden", "captures", "icmp.pcap")
    if os.path.exists(icmp):
        captures.append(icmp)
    seen = set()
    with tempfile.TemporaryDirectory() as tmp:
        chain = os.path.join(tmp, "probe.lua")
        with open(chain, "w") as f:
            f.write(PROBE_HEAD.replace("local SPEC = ...", "local SPEC = " + lua_literal(spec)))
        for cap in captures:
            rc, out, err = run([PATHOBS, "-q", "-c", chain, cap])
            assert rc == 0 and not err, "%s: exit %d\n%s" % (os.path.basename(cap), rc, err)
            for line in out.splitlines():
                rec = json.loads(line)
                assert "bad" not in rec, "%s: %s" % (os.path.basename(cap), rec["bad"][:300])
                seen.update(k for k in rec if k.startswith("seen_"))
    want = {"seen_" + c for c in STUB_OF.values()} | {"seen_quote"}
    assert want <= seen, "never probed: %s" % ", ".join(sorted(want - seen))


def check_stubs_load():
    """The annotation files are valid Lua (loaded, never run, by pathobs's LuaJIT)."""
    files = []
    for root, _, names in os.walk(os.path.join(SRC, "lua", "types")):
        files += [os.path.join(root, n) for n in names if n.endswith(".lua")]
    with tempfile.TemporaryDirectory() as tmp:
        chain = os.path.join(tmp, "load.lua")
        with open(chain, "w") as f:
            f.write("for _, p in ipairs(%s) do assert(loadfile(p)) end\nreturn {}\n"
                    % lua_literal(dict(enumerate(sorted(files), 1))))
        rc, out, err = run([PATHOBS, "-q", "-c", chain, os.path.join(EXAMPLES, "ttl.pcap")])
        assert rc == 0, "a file of lua/types does not load:\n%s" % err


# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# README: the set-up line


SETUP_PACKAGES = ("build-essential", "cmake", "pkg-config", "python3", "libtrace3-dev",
                  "libluajit-5.1-dev", "libcjson-dev", "libuv1-dev", "libldns-dev",
                  "libpcap0.8-dev", "libnats-dev")


def check_setup_line():
    """README's one set-up command installs every package, both as root where
    there is no sudo and as a user with sudo: run it with apt-get, cmake and
    (the second time) sudo replaced by stubs that log their arguments."""
    lines = [l for l in read("README.md").splitlines() if "apt-get install" in l]
    assert len(lines) == 1, "README.md: %d lines with apt-get install" % len(lines)
    line = lines[0]
    missing = [p for p in SETUP_PACKAGES if not re.search(r"(^|\s)%s(\s|$)" % re.escape(p), line)]
    assert not missing, "README's set-up line lacks %s" % ", ".join(missing)
    sh = shutil.which("sh")
    for with_sudo in (False, True):
        stubs = tempfile.mkdtemp(prefix="pathobs-setup-")
        try:
            log = os.path.join(stubs, "log")
            names = ["apt-get", "cmake"] + (["sudo"] if with_sudo else [])
            for name in names:
                path = os.path.join(stubs, name)
                with open(path, "w") as f:
                    body = 'exec "$@"' if name == "sudo" else "exit 0"
                    f.write('#!%s\necho "%s $*" >> "%s"\n%s\n' % (sh, name, log, body))
                os.chmod(path, 0o755)
            p = subprocess.run([sh, "-c", line], env={"PATH": stubs}, capture_output=True, timeout=30)
            who = "as a user with sudo" if with_sudo else "as root without sudo"
            assert p.returncode == 0, "%s: exit %d: %s" % (who, p.returncode, p.stderr.decode())
            got = open(log).read().splitlines()
            apt = [l for l in got if l.startswith("apt-get install")]
            assert apt, "%s: apt-get install did not run: %r" % (who, got)
            if with_sudo:
                assert any(l.startswith("sudo apt-get install") for l in got), \
                    "as a user: apt-get install not through sudo: %r" % got
            assert any(l.startswith("cmake --build") for l in got), "%s: no build: %r" % (who, got)
        finally:
            shutil.rmtree(stubs, ignore_errors=True)


def main(argv):
    global PATHOBS, REGEN, PANDAS_PY
    args = [a for a in argv[1:] if not a.startswith("--")]
    REGEN = "--regen" in argv or os.environ.get("PATHOBS_REGEN") == "1"
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1]
        args.remove(only)
    if len(args) != 1:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    PATHOBS = os.path.abspath(args[0])
    PANDAS_PY = python_with_pandas()

    def want(name):
        return only is None or only in name

    for lua in sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".lua")):
        if want("example " + lua):
            check("example %s gives expected/%s.jsonl" % (lua, lua[:-4]),
                  check_example_chain, "examples/" + lua)
    if want("ecn"):
        check("ecn records give expected/ecn.jsonl", check_ecn_records)
        check("ecn_table.sh (jq) gives expected/ecn_table.tsv", check_ecn_table_sh)
        check("ecn_table.py (pandas) gives expected/ecn_table.tsv", check_ecn_table_py)
    if want("sni"):
        check("sni.lua parser never raises on garbage", check_sni_never_raises)
    if want("options"):
        check("options: pathobs --help mentions every option of src/main.c", check_help_options)
        check("options: docs/cli.md mentions every option", check_cli_md_options)
        check("options: docs/pathobs.1 mentions every option", check_man_options)
    if want("man"):
        check("man page renders without warnings", check_man_renders)
    if want("setup"):
        check("setup: README's set-up line works as root and with sudo", check_setup_line)
    if want("api"):
        check("api: docs/lua-api.md names every header field and constant", check_api_doc_fields)
        check("api: lua/types/pathobs.lua annotates exactly the runtime's fields", check_stub_fields)
        check("api: lua/types files load as Lua", check_stubs_load)
        check("api: annotated types match the header objects", check_stub_types)
    ran = 0
    for rel in DOC_FILES:
        if not os.path.exists(os.path.join(SRC, rel)):
            continue
        if want("options " + rel):
            check("options: every pathobs option in %s exists" % rel, check_documented_options, rel)
        if want("links " + rel):
            check("links: every relative link of %s leads somewhere" % rel, check_links, rel)
        if want("doc " + rel):
            ran += run_doc_file(rel)
    if only is None and ran == 0:
        results.append(("FAIL", "documented sessions", "no <!-- test --> block found"))

    for status, name, detail in results:
        print("%-4s %s" % (status, name))
        if detail:
            print("    " + detail.replace("\n", "\n    "))
    passed = sum(1 for r in results if r[0] == "ok")
    failed = sum(1 for r in results if r[0] == "FAIL")
    skipped = sum(1 for r in results if r[0] == "skip")
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
