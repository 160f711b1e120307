#!/usr/bin/env python3
"""Golden end-to-end tests: run pathobs on the test captures and compare its
JSON lines with the expected output, byte for byte.

    run_golden.py --pathobs BIN --cases cases.txt --captures DIR \\
                  --expected DIR [--regen] [--only NAME ...] [--timeout SEC]

cases.txt, one case per line (blank lines and lines starting with # are
skipped):

    NAME | ARGS...              pathobs must exit 0; stdout is compared with
                                EXPECTED/NAME.jsonl
    NAME ! CODE | ARGS...       pathobs must exit with CODE (non-zero) and
                                print something on stderr; stdout is compared
                                only when EXPECTED/NAME.jsonl exists
    NAME = OTHER | ARGS...      like the first form, but stdout must equal
                                EXPECTED/OTHER.jsonl (the same traffic read
                                another way); --regen never writes it

ARGS are split like a shell would (quotes work, nothing is expanded) and
``{captures}`` in them is replaced with the absolute captures folder. Each
case runs as ``BIN -q ARGS`` in a fresh temporary folder, with no standard
input. Every stdout line must be a JSON object (no NaN/Infinity, no
duplicate keys, keys in sorted order).

With --regen (or PATHOBS_REGEN=1 in the environment) the expected files are
rewritten from the actual output instead of compared; the other checks still
apply, and so does the comparison of ``NAME = OTHER`` cases (put OTHER
earlier in the file). Review the diff before committing regenerated files.

Exit status 0 only when every selected case passes.
"""

import argparse
import difflib
import fnmatch
import json
import os
import shlex
import subprocess
import sys
import tempfile

MAX_DIFF_LINES = 200


class Case:
    def __init__(self, name, args, exit_code, lineno, same_as=None):
        self.name = name
        self.args = args
        self.exit_code = exit_code
        self.lineno = lineno
        self.same_as = same_as      # compare with OTHER.jsonl, never regen


def parse_cases(path):
    cases = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if "|" not in line:
                raise SystemExit("%s:%d: expected 'NAME | ARGS' or "
                                 "'NAME ! CODE | ARGS'" % (path, lineno))
            head, args = line.split("|", 1)
            exit_code = 0
            same_as = None
            if "=" in head:
                head, same_as = head.split("=", 1)
                same_as = same_as.strip()
                if same_as not in seen:
                    raise SystemExit("%s:%d: '= %s' must name an earlier case"
                                     % (path, lineno, same_as))
            if "!" in head:
                name, code = head.split("!", 1)
                try:
                    exit_code = int(code.strip())
                except ValueError:
                    raise SystemExit("%s:%d: bad exit code %r"
                                     % (path, lineno, code.strip()))
                if exit_code == 0:
                    raise SystemExit("%s:%d: '!' needs a non-zero exit code"
                                     % (path, lineno))
            else:
                name = head
            name = name.strip()
            if not name or any(c in name for c in "/\\ \t"):
                raise SystemExit("%s:%d: bad case name %r" % (path, lineno, name))
            if name in seen:
                raise SystemExit("%s:%d: duplicate case %r" % (path, lineno, name))
            seen.add(name)
            try:
                argv = shlex.split(args)
            except ValueError as e:
                raise SystemExit("%s:%d: %s" % (path, lineno, e))
            cases.append(Case(name, argv, exit_code, lineno, same_as))
    return cases


# ---------------------------------------------------------------------------
# JSON checks


def _no_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


def _pairs(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dups = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError("duplicate keys %s" % ", ".join(map(repr, dups)))
    if keys != sorted(keys):
        raise ValueError("keys not sorted: %s" % ", ".join(map(repr, keys)))
    return dict(pairs)


def check_json_lines(data):
    """Problems with ``data`` (bytes) as JSON lines, as a list of messages."""
    problems = []
    if not data:
        return problems
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    else:
        problems.append("output does not end with a newline")
    for n, line in enumerate(lines, 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("line %d: not UTF-8 (%s)" % (n, e))
            continue
        try:
            value = json.loads(text, parse_constant=_no_constant,
                               object_pairs_hook=_pairs)
        except ValueError as e:
            problems.append("line %d: %s: %s" % (n, e, text[:200]))
            continue
        if not isinstance(value, dict):
            problems.append("line %d: not a JSON object: %s" % (n, text[:200]))
    return problems


# ---------------------------------------------------------------------------


def show(label, data, limit=40):
    text = data.decode("utf-8", "replace").rstrip("\n")
    if not text:
        return
    lines = text.split("\n")
    print("    %s:" % label)
    for line in lines[:limit]:
        print("      " + line)
    if len(lines) > limit:
        print("      ... (%d more lines)" % (len(lines) - limit))


def unified_diff(expected, actual, name):
    exp = expected.decode("utf-8", "replace").splitlines(True)
    act = actual.decode("utf-8", "replace").splitlines(True)
    diff = list(difflib.unified_diff(exp, act, "expected/%s.jsonl" % name,
                                     "actual"))
    out = []
    for line in diff[:MAX_DIFF_LINES]:
        out.append("    " + line.rstrip("\n"))
        if not line.endswith("\n"):
            out.append("    \\ No newline at end of file")
    if len(diff) > MAX_DIFF_LINES:
        out.append("    ... (%d more diff lines)" % (len(diff) - MAX_DIFF_LINES))
    return "\n".join(out)


def run_case(case, opts):
    """Run one case; returns (passed, list of failure messages, note)."""
    captures = os.path.abspath(opts.captures)
    args = [a.replace("{captures}", captures) for a in case.args]
    argv = [opts.pathobs, "-q"] + args
    expected_path = os.path.join(opts.expected, case.name + ".jsonl")
    env = dict(os.environ)
    env.pop("PATHOBS_REGEN", None)
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    failures = []
    with tempfile.TemporaryDirectory(prefix="pathobs-golden-") as tmp:
        try:
            proc = subprocess.run(argv, cwd=tmp, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env,
                                  timeout=opts.timeout)
        except subprocess.TimeoutExpired as e:
            failures.append("timed out after %s s" % opts.timeout)
            return False, failures, None, e.stdout or b"", e.stderr or b""
        except OSError as e:
            failures.append("cannot run %s: %s" % (opts.pathobs, e))
            return False, failures, None, b"", b""
    out, err, code = proc.stdout, proc.stderr, proc.returncode

    if code < 0:
        failures.append("killed by signal %d" % -code)
    elif code != case.exit_code:
        failures.append("exit status %d, expected %d" % (code, case.exit_code))
    if case.exit_code != 0 and not err.strip():
        failures.append("expected a message on stderr, got none")
    failures.extend(check_json_lines(out))

    note = None
    if case.same_as:
        expected_path = os.path.join(opts.expected, case.same_as + ".jsonl")
    if opts.regen and not case.same_as:
        if failures:
            return False, failures, None, out, err
        if case.exit_code == 0 or out:
            old = None
            if os.path.exists(expected_path):
                with open(expected_path, "rb") as f:
                    old = f.read()
            if old != out:
                os.makedirs(opts.expected, exist_ok=True)
                with open(expected_path, "wb") as f:
                    f.write(out)
                note = "regenerated" if old is not None else "created"
        elif os.path.exists(expected_path):
            os.remove(expected_path)
            note = "removed expected file (no output)"
        return True, [], note, out, err

    if os.path.exists(expected_path):
        with open(expected_path, "rb") as f:
            expected = f.read()
        if expected != out:
            failures.append("stdout differs from %s:\n%s"
                            % (expected_path,
                               unified_diff(expected, out,
                                            case.same_as or case.name)))
    elif case.exit_code == 0:
        failures.append("missing %s (create it with --regen, then review it)"
                        % expected_path)
    return not failures, failures, note, out, err


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Golden end-to-end tests for pathobs.",
        epilog="Set PATHOBS_REGEN=1 to regenerate like --regen.")
    parser.add_argument("--pathobs", required=True, help="the pathobs binary")
    parser.add_argument("--cases", required=True, help="cases.txt")
    parser.add_argument("--captures", required=True,
                        help="folder substituted for {captures}")
    parser.add_argument("--expected", required=True,
                        help="folder of expected NAME.jsonl files")
    parser.add_argument("--regen", action="store_true",
                        help="rewrite the expected files from the output")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this case (glob patterns allowed; "
                             "repeatable)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds allowed per case (default 60)")
    opts = parser.parse_args(argv)
    if os.environ.get("PATHOBS_REGEN", "") not in ("", "0"):
        opts.regen = True
    opts.pathobs = os.path.abspath(opts.pathobs)
    if not os.access(opts.pathobs, os.X_OK):
        print("run_golden: %s is not an executable" % opts.pathobs)
        return 2

    cases = parse_cases(opts.cases)
    if opts.only:
        selected = [c for c in cases
                    if any(fnmatch.fnmatchcase(c.name, p) for p in opts.only)]
        if not selected:
            print("run_golden: no case matches %s" % ", ".join(opts.only))
            return 2
        cases = selected

    passed = failed = 0
    for case in cases:
        ok, failures, note, out, err = run_case(case, opts)
        label = "PASS" if ok else "FAIL"
        extra = " (%s)" % note if note else ""
        print("%s %s%s" % (label, case.name, extra))
        if ok:
            passed += 1
            continue
        failed += 1
        print("    command: %s" % " ".join(
            shlex.quote(a) for a in
            [opts.pathobs, "-q"] +
            [a.replace("{captures}", os.path.abspath(opts.captures))
             for a in case.args]))
        for msg in failures:
            print("    " + msg)
        show("stderr", err)
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
