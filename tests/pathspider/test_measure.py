#!/usr/bin/python3
"""test_measure.py - PATHspider's measure, with its ecn and mss plugins, on pathobs, end to end.

Usage: test_measure.py BUILD_DIR [CMAKE]
Installs the build (cmake --install) into a temporary prefix and runs the
installed pspdr-pathobs launcher. Two network namespaces made here, joined by
a veth pair (192.0.2.0/24 and fd00:7::/64, nothing else): a TCP server in one,
`pspdr-pathobs measure -i VETH` in the other, so the ecn plugin's sysctl
(net.ipv4.tcp_ecn) changes only that namespace. Asserts the conditions the
plugins compute from pathobs's flows, and that every job's flows were merged.
Needs root and ip(8); skipped (77) without them or without Debian's pathspider.
Every step is bounded in time; the namespaces are removed at the end.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from common import need_pathspider, skip

BUILD = os.path.abspath(sys.argv[1])
CMAKE = sys.argv[2] if len(sys.argv) > 2 else "cmake"
need_pathspider()
from checks import check, eq, report  # noqa: E402

if os.geteuid() != 0:
    skip("network namespaces need root")
if shutil.which("ip") is None:
    skip("ip(8) (iproute2) is not installed")

TAG = os.getpid() % 100000
NS_C, NS_S = "pobc%d" % TAG, "pobs%d" % TAG
VETH_C, VETH_S = "pvc%d" % TAG, "pvs%d" % TAG
PORT = 8080
SERVERS = ["192.0.2.2", "192.0.2.3", "192.0.2.4", "fd00:7::2"]
SERVER_CODE = r"""
import socket, threading
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", %d)); s.listen(128)
print("ready", flush=True)
def serve(c):
    c.settimeout(30)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
""" % PORT


def ip(*args, check_rc=True):
    return subprocess.run(["ip", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, check=check_rc)


def host_ecn():
    with open("/proc/sys/net/ipv4/tcp_ecn") as fh:
        return fh.read().strip()


def setup():
    ip("netns", "add", NS_C)
    ip("netns", "add", NS_S)
    ip("link", "add", VETH_C, "type", "veth", "peer", "name", VETH_S)
    ip("link", "set", VETH_C, "netns", NS_C)
    ip("link", "set", VETH_S, "netns", NS_S)
    ip("-n", NS_C, "addr", "add", "192.0.2.1/24", "dev", VETH_C)
    ip("-n", NS_C, "addr", "add", "fd00:7::1/64", "dev", VETH_C, "nodad")
    for addr in SERVERS:
        ip("-n", NS_S, "addr", "add", addr + ("/64" if ":" in addr else "/24"), "dev", VETH_S,
           *(["nodad"] if ":" in addr else []))
    for ns, dev in ((NS_C, VETH_C), (NS_S, VETH_S)):
        ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", ns, "link", "set", dev, "up")
    deadline = time.monotonic() + 20
    while "state UP" not in ip("-n", NS_C, "-o", "link", "show", VETH_C).stdout.decode():
        assert time.monotonic() < deadline, "veth did not come up"
        time.sleep(0.1)


def cleanup():
    for ns in (NS_C, NS_S):
        ip("netns", "del", ns, check_rc=False)


def install(prefix):
    subprocess.run([CMAKE, "--install", BUILD, "--prefix", prefix], stdout=subprocess.DEVNULL,
                   check=True, timeout=120)
    return os.path.join(prefix, "bin", "pspdr-pathobs")


def measure(launcher, work, plugin, *plugin_args, local_only=True):
    jobs = os.path.join(work, plugin + "-jobs.ndjson")
    out = os.path.join(work, plugin + "-out.ndjson")
    with open(jobs, "w") as fh:
        for i, addr in enumerate(SERVERS):
            fh.write(json.dumps({"dip": addr, "dp": PORT, "domain": "s%d.example" % i}) + "\n")
    env = dict(os.environ)
    env.pop("PSPDR_PATHOBS_LOCAL_ONLY", None)
    if local_only:
        env["PSPDR_PATHOBS_LOCAL_ONLY"] = "1"
    env.pop("PATHOBS_BIN", None)  # the installed launcher finds its own pathobs
    run = subprocess.run(["ip", "netns", "exec", NS_C, launcher, "measure", "-i", VETH_C,
                          "-w", "2", "--input", jobs, "--output", out, "--output-flows",
                          plugin, *plugin_args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240, env=env)
    log = run.stderr.decode("utf-8", "replace")
    with open(out) as fh:
        results = [json.loads(line) for line in fh if line.strip()]
    return run.returncode, log, results


def merged(results, configs):
    """Every job came out once, with its flows observed and merged with its results."""
    eq(sorted(r["dip"] for r in results), sorted(SERVERS), "jobs")
    for r in results:
        eq(r["missed_flows"], 0, "missed flows of %s" % r["dip"])
        eq(len(r["flow_results"]), configs, "flows of %s" % r["dip"])
        for cfg, f in enumerate(r["flow_results"]):
            eq(f["config"], cfg, "config")
            assert f["observed"] is True, f
            eq(f["spdr_state"], 0, "connection state (CONN_OK)")
            # fields of both sides: pathobs's flow and the worker's result
            eq((f["dip"], f["dp"], f["proto"]), (r["dip"], PORT, 6), "flow key")
            assert f["sp"] > 0 and f["pkt_fwd"] >= 3 and f["pkt_rev"] >= 2, f
            assert isinstance(f["pkt_first"], float) and f["tcp_connected"] is True, f
            assert not any(k.startswith("_") for k in f), f
        assert "pathspider.not_observed" not in r["conditions"], r["conditions"]


ecn_before = host_ecn()
server = None
work = tempfile.mkdtemp(prefix="pathobs-measure-")
try:
    cleanup()
    try:
        setup()
    except subprocess.CalledProcessError as err:  # a container without CAP_SYS_ADMIN, no veth
        cleanup()
        skip("cannot make the network namespaces and veth pair: %s: %s"
             % (" ".join(err.cmd), err.stderr.decode(errors="replace").strip()))
    launcher = install(os.path.join(work, "prefix"))
    server = subprocess.Popen(["ip", "netns", "exec", NS_S, "/usr/bin/python3", "-c", SERVER_CODE],
                              stdout=subprocess.PIPE)
    eq(server.stdout.readline().strip(), b"ready", "server")

    rc, log, results = measure(launcher, work, "ecn", "--connect", "tcp", "--timeout", "5")

    @check("measure ecn: exit 0, one result per job, no observer error")
    def _():
        eq(rc, 0, "exit status\n" + log)
        eq(len(results), len(SERVERS), "results\n" + log)
        assert "ERROR" not in log and "Traceback" not in log, log

    @check("measure ecn: each job's two flows observed by pathobs and merged")
    def _():
        merged(results, 2)

    @check("measure ecn: ecn.connectivity.works and ecn.negotiation.succeeded from the flows")
    def _():
        for r in results:
            for cond in ("ecn.connectivity.works", "ecn.negotiation.succeeded",
                         "ecn.ipmark.ect0.not_seen", "ecn.ipmark.ect1.not_seen",
                         "ecn.ipmark.ce.not_seen"):
                assert cond in r["conditions"], (cond, r["conditions"])
            no_ecn, ecn = r["flow_results"]
            eq(no_ecn["tcp_synflags_fwd"], 0x02, "SYN without ECN (tcp_ecn=2)")
            eq(ecn["tcp_synflags_fwd"], 0xC2, "SYN with ECE and CWR (tcp_ecn=1)")
            eq(ecn["tcp_synflags_rev"] & 0xD2, 0x52, "SYN+ACK with ECE")
            eq(no_ecn["tcp_synflags_rev"], 0x12, "plain SYN+ACK")

    # without PSPDR_PATHOBS_LOCAL_ONLY: PATHspider's public address look-ups fail
    # in the namespace (no route), and the launcher falls back to the local address
    rc, log, results = measure(launcher, work, "mss", "--connect", "tcp", "--timeout", "5",
                               local_only=False)

    @check("measure mss: exit 0, one result per job, no observer error")
    def _():
        eq(rc, 0, "exit status\n" + log)
        eq(len(results), len(SERVERS), "results\n" + log)
        assert "ERROR" not in log and "Traceback" not in log, log

    @check("measure mss: failed public address look-ups fall back to the interface's address")
    def _():
        assert "ipv4_address_public(%s) failed" % VETH_C in log, log
        for r in results:
            # PATHspider's own IPv6 look-up already answers "::" when it fails
            eq(r["sip_public"], "::" if ":" in r["dip"] else r["sip"], "sip_public")
            eq(r["sip"], "fd00:7::1" if ":" in r["dip"] else "192.0.2.1", "sip")

    @check("measure mss: each job's flow observed by pathobs and merged")
    def _():
        merged(results, 1)

    @check("measure mss: mss.connectivity.online and the MSS values pathobs saw")
    def _():
        for r in results:
            mss = 1440 if ":" in r["dip"] else 1460  # veth MTU 1500
            for cond in ("mss.connectivity.online", "mss.option.local.value:%d" % mss,
                         "mss.option.remote.value:%d" % mss, "mss.option.received.unchanged"):
                assert cond in r["conditions"], (cond, r["conditions"])
            eq(r["flow_results"][0]["mss_len_fwd"], 4, "MSS option length")

    @check("the host's net.ipv4.tcp_ecn is untouched")
    def _():
        eq(host_ecn(), ecn_before, "tcp_ecn")
finally:
    if server is not None:
        server.kill()
        server.wait(10)
    cleanup()
    shutil.rmtree(work, ignore_errors=True)

report()
