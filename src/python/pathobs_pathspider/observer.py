"""Observer: PATHspider's Observer interface, with pathobs doing the observing."""

import ctypes
import json
import logging
import math
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import threading
import weakref

from .chains import chain_arguments

try:
    from pathspider.base import SHUTDOWN_SENTINEL
except ImportError:  # PATHspider absent: the same value it uses
    SHUTDOWN_SENTINEL = "SHUTDOWN_SENTINEL"

# Environment variable naming the pathobs program to run.
PATHOBS_ENV = "PATHOBS_BIN"

# Fields PATHspider's Observer stores as floats (python-libtrace's seconds);
# JSON writes a whole number without a decimal point.
_FLOAT_FIELDS = ("pkt_first", "pkt_last")

# How long to wait for pathobs once its output has ended, and after a stop
# signal, before it is killed: the Observer never hangs.
_EXIT_GRACE = 10.0
_STOP_GRACE = 60.0

# libtrace URI schemes that capture through a Linux packet socket: the
# constructor returns once pathobs's socket runs, as PATHspider's returns
# once its trace is started.
_PACKET_SOCKET_SCHEMES = ("int", "ring", "pcapint")
_READY_TIMEOUT = 30.0

_PR_SET_PDEATHSIG = 1
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def _is_packet_socket_source(lturi):
    scheme, colon, rest = lturi.partition(":")
    if colon and rest:
        return scheme in _PACKET_SOCKET_SCHEMES
    return os.path.exists("/sys/class/net/" + lturi) and not os.path.exists(lturi)


def _capturing(pid):
    """True once process pid holds a packet socket that is bound and running
    (/proc/net/packet: column R is 1), i.e. the capture has started."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
        with open("/proc/net/packet") as fh:
            next(fh, None)
            for line in fh:
                cols = line.split()
                if len(cols) >= 9 and cols[8] in inodes and cols[5] == "1":
                    return True
    except OSError:
        pass
    return False


def find_pathobs():
    """The pathobs program: $PATHOBS_BIN, else the bin/ of this package's
    prefix or of the running launcher, else PATH."""
    env = os.environ.get(PATHOBS_ENV)
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        # PREFIX/lib/python3/dist-packages/pathobs_pathspider -> PREFIX/bin
        os.path.join(here, "..", "..", "..", "..", "bin", "pathobs"),
        os.path.join(os.path.dirname(os.path.abspath(sys.argv[0] or ".")), "pathobs"),
    ]
    for path in candidates:
        path = os.path.normpath(path)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which("pathobs") or "pathobs"


def _source_argument(lturi):
    """pathobs takes libtrace URIs as they are (int:, pcap:, pcapfile:, erf:,
    ring:, pcapint:, ...) and plain file and interface names."""
    if not isinstance(lturi, str) or not lturi:
        raise ValueError("Expected a string for URI, got %r" % (lturi,))
    # libtrace 3 has no pcapng: URI and its pcapfile: refuses pcapng, which
    # PATHspider's observe names pcapfile: (any *.pcap); pathobs recognises
    # the format of a plain file name from its first bytes.
    if lturi.startswith("pcapfile:"):
        path = lturi[len("pcapfile:"):]
        try:
            with open(path, "rb") as fh:
                if os.path.isfile(path) and fh.read(4) == _PCAPNG_MAGIC:
                    return path
        except OSError:
            pass
    return lturi


def _timeout_argument(name, value):
    try:
        seconds = math.ceil(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError("%s must be a number of seconds, not %r" % (name, value)) from None
    return str(max(seconds, 0))


def record_from_json(line):
    """One pathobs JSON line as the dict PATHspider's Observer puts on the
    flow queue: null is None, booleans and integers as they are, addresses
    as strings, pkt_first/pkt_last as floats."""
    rec = json.loads(line)
    if not isinstance(rec, dict):
        raise ValueError("not a JSON object")
    for key in _FLOAT_FIELDS:
        value = rec.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            rec[key] = float(value)
    return rec


def _set_pdeathsig():
    # pathobs stops (writing its records) if the process that started it dies.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reap(proc, status_w):
    # Runs in the process that started pathobs, the only one that can wait for
    # it; the exit status reaches run_flow_enqueuer (maybe in a forked process,
    # as PATHspider's measure runs the Observer) through a pipe. status_w is a
    # one-element list holding the pipe's writing end, None once closed.
    code = proc.wait()
    fd, status_w[0] = status_w[0], None
    try:
        os.write(fd, b"%d\n" % code)
    except OSError:
        pass
    os.close(fd)


def _kill(pid_holder):
    proc = pid_holder[0]
    if proc.returncode is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except OSError:
            pass


class Observer:
    """
    PATHspider's Observer, with the same constructor and run_flow_enqueuer,
    running pathobs on the libtrace URI. Chains are PATHspider chain classes
    (mapped to pathobs's bundled Lua chains) or Lua chain names and files.
    """

    def __init__(self, lturi, chains=None, idle_timeout=30, expiry_timeout=5):
        """
        Create an Observer and start pathobs on lturi, as PATHspider's
        Observer opens its trace here: a live capture is running before
        PATHspider starts its workers.

        :param lturi: libtrace URI (int:IFACE, pcapfile:FILE, pcap:FILE, ...)
        :param chains: list of PATHspider chain classes and/or Lua chain names or files
        :param idle_timeout: seconds without a packet before a flow completes
        :param expiry_timeout: seconds from a flow's completion to its record
        """
        self._logger = logging.getLogger("observer")
        self._chains = chain_arguments(chains)
        self._lturi = _source_argument(lturi)
        self._idle_timeout = idle_timeout
        self._expiry_timeout = expiry_timeout

        self._irq = None
        self._irq_fired = False
        self._ct_records = 0
        self._ct_bad = 0
        self._counters = None

        self.pathobs = find_pathobs()
        argv = [self.pathobs, "--idle-timeout", _timeout_argument("idle_timeout", idle_timeout),
                "--expiry-timeout", _timeout_argument("expiry_timeout", expiry_timeout)]
        for chain in self._chains:
            argv += ["-c", chain]
        self._live = _is_packet_socket_source(self._lturi)
        argv += ["--", self._lturi] if not self._lturi.startswith("-") else [self._lturi]
        self.argv = argv

        self._status_r, status_w = os.pipe()
        self._status_w = [status_w]
        self._owner = os.getpid()
        try:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
                # the death signal follows the thread that forks: only the main
                # thread lives as long as the process
                preexec_fn=_set_pdeathsig
                if threading.current_thread() is threading.main_thread() else None)
        except OSError as err:
            os.close(status_w)
            self._status_w = [None]
            self._proc = None
            self._start_error = "cannot run %s: %s (set %s to the pathobs program)" % (
                self.pathobs, err.strerror or err, PATHOBS_ENV)
            return
        self._start_error = None
        threading.Thread(target=_reap, args=(self._proc, self._status_w),
                         name="pathobs-reaper", daemon=True).start()
        # pathobs must not outlive an Observer that is never run
        self._finalizer = weakref.finalize(self, _kill, [self._proc])
        if self._live:
            self._wait_ready()

    def _wait_ready(self):
        # pathobs says nothing when its capture runs: look for its packet socket
        waited = 0.0
        while waited < _READY_TIMEOUT:
            if _capturing(self._proc.pid):
                return
            ready, _, _ = select.select([self._status_r], [], [], 0.05)
            if ready:  # pathobs ended already: run_flow_enqueuer reports why
                return
            waited += 0.05
        self._logger.warning("pathobs has not started capturing on %s after %ds",
                             self._lturi, _READY_TIMEOUT)

    def _interrupted(self):
        if not self._irq_fired and self._irq is not None:
            try:
                self._irq.get_nowait()
                self._irq_fired = True
            except queue.Empty:
                pass
        return self._irq_fired

    def _stop_pathobs(self):
        # pathobs writes every record still in memory on SIGTERM, then exits 0
        self._logger.debug("interrupt: asking pathobs to write all flows")
        try:
            os.kill(self._proc.pid, signal.SIGTERM)
        except OSError:
            pass

    def _watch_irq(self, done):
        while not done.is_set():
            if self._interrupted():
                self._stop_pathobs()
                # a pathobs that does not stop is killed: never hang
                if not done.wait(_STOP_GRACE):
                    self._logger.error("pathobs did not stop in %ds: killing it", _STOP_GRACE)
                    try:
                        os.kill(self._proc.pid, signal.SIGKILL)
                    except OSError:
                        pass
                return
            done.wait(0.1)

    def _log_stderr(self, stream, lines):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(line)
            text = line[len("pathobs: "):] if line.startswith("pathobs: ") else line
            if " packets (" in text and " flows (" in text:
                self._counters = text
            else:
                self._logger.warning("pathobs: %s", text)

    def _exit_status(self):
        if self._status_w[0] is not None and os.getpid() != self._owner:
            # a forked process: the writing end belongs to the starting process's reaper
            os.close(self._status_w[0])
            self._status_w[0] = None
        try:
            ready, _, _ = select.select([self._status_r], [], [], _EXIT_GRACE)
            if not ready:
                if os.getpid() == self._owner:
                    self._proc.kill()
                    return self._proc.wait()
                try:
                    os.kill(self._proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                return None
            data = os.read(self._status_r, 32).strip()
            return int(data) if data else None
        finally:
            os.close(self._status_r)  # on every path: many Observers leak no descriptor

    def run_flow_enqueuer(self, flowqueue, irqueue=None):
        """
        Put each flow record pathobs writes on flowqueue, then
        SHUTDOWN_SENTINEL. Ends when the source ends or when irqueue receives
        anything (pathobs then writes every flow still in memory first).
        A pathobs failure is logged as an error and still ends with the sentinel.
        """
        if irqueue:
            self._irq = irqueue
            self._irq_fired = None

        if self._proc is None:
            os.close(self._status_r)
            self._logger.error(self._start_error)
            flowqueue.put(SHUTDOWN_SENTINEL)
            return

        done = threading.Event()
        if self._irq is not None:
            threading.Thread(target=self._watch_irq, args=(done,), name="pathobs-irq",
                             daemon=True).start()
        err_lines = []
        err_thread = threading.Thread(target=self._log_stderr, args=(self._proc.stderr, err_lines),
                                      name="pathobs-stderr", daemon=True)
        err_thread.start()

        try:
            for line in self._proc.stdout:
                try:
                    rec = record_from_json(line)
                except ValueError as err:
                    self._ct_bad += 1
                    self._logger.error("pathobs wrote a line that is not a record (%s): %r",
                                       err, line[:200])
                    continue
                self._ct_records += 1
                flowqueue.put(rec)
        finally:
            done.set()
            status = self._exit_status()
            err_thread.join(_EXIT_GRACE)
            self._proc.stdout.close()
            if not err_thread.is_alive():
                self._proc.stderr.close()
            if status != 0:
                last = err_lines[-1] if err_lines else "no message"
                self._logger.error("pathobs failed (%s): %s; command: %s",
                                   "exit status %s" % status if status is not None
                                   else "exit status unknown", last, " ".join(self.argv))
            self._logger.info("pathobs: %s; %u records put on the flow queue",
                              self._counters or "no counters", self._ct_records)
            flowqueue.put(SHUTDOWN_SENTINEL)
