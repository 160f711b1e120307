#!/usr/bin/env python3
"""make_corpus.py - seed corpora for the libFuzzer targets, from the project's own captures.

    tests/fuzz/make_corpus.py [--out tests/fuzz/corpus]

Reads every frame of tests/golden/captures/*.pcap and tests/golden/chains/captures/*.pcap
with tests/tools/pcapgen.py and writes, in the input formats of the targets:

  fuzz_decode/seed-*   one input per capture in "direct" mode (IP packets with their
                       ethertypes) and one in "source" mode (the Ethernet frames, read
                       back through libtrace), with a small flow table (fuzz_decode.c
                       describes the format)
  fuzz_headers/seed-*  every distinct IP packet (no link layer)
  fuzz_json/seed-*     every distinct record of tests/golden/**/expected/*.jsonl,
                       as a program of fuzz_json.c's value builder

Output is deterministic; files named regress-* (inputs that once failed) are kept.
"""
import argparse
import glob
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import pcapgen  # noqa: E402

CAPTURES = sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "captures", "*.pcap")) +
                  glob.glob(os.path.join(ROOT, "tests", "golden", "chains", "captures", "*.pcap")))
EXPECTED = sorted(glob.glob(os.path.join(ROOT, "tests", "golden", "expected", "*.jsonl")) +
                  glob.glob(os.path.join(ROOT, "tests", "golden", "chains", "expected", "*.jsonl")))
TAGS = (0x8100, 0x88A8, 0x9100)
MAX_FRAMES = 64          # per fuzz_decode seed: keeps seeds (and runs) small


def l3_of(frame):
    """(ethertype, IP bytes) of an Ethernet frame, VLAN tags stepped over."""
    if len(frame) < 14:
        return None, b""
    et = struct.unpack("!H", frame[12:14])[0]
    off = 14
    while et in TAGS and len(frame) >= off + 4:
        et = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    return et, frame[off:]


def decode_seed(frames, source):
    """fuzz_decode input: mode, config bytes, then ctl/len/bytes records."""
    out = bytearray([0x80 if source else 0x00,
                     0x33,      # max_flows 4, batch_size 4
                     0x25])     # idle 5 s, expiry 2 s
    last = None
    for micros, data, _orig in frames[:MAX_FRAMES]:
        step = 0
        if last is not None:
            delta = (micros - last) / 1e6
            step = 2 if delta >= 1 else 1 if delta >= 0.25 else 0
        last = micros
        if source:
            ctl, body = step << 2, data
        else:
            et, l3 = l3_of(data)
            if et == 0x0800:
                ctl, body = step << 2, l3
            elif et == 0x86DD:
                ctl, body = 1 | step << 2, l3
            else:
                ctl, body = 3 | step << 2, struct.pack("!H", et or 0) + l3
        out += bytes([ctl]) + struct.pack("!H", len(body)) + body
    return bytes(out)


def json_program(v, out):
    """fuzz_json's builder opcodes for a JSON value (see build() in fuzz_json.c)."""
    if v is None:
        out.append(1)
    elif isinstance(v, bool):
        out += bytes([2, int(v)])
    elif isinstance(v, int) and -128 <= v <= 127:
        out += bytes([4, v & 0xFF])
    elif isinstance(v, (int, float)):
        out.append(3)
        out += struct.pack(">d", float(v))
    elif isinstance(v, str):
        b = v.encode("utf-8")[:255]
        out += bytes([6, len(b)]) + b
    elif isinstance(v, list):
        items = v[:255]
        out += bytes([8, len(items)])
        for item in items:
            json_program(item, out)
    elif isinstance(v, dict):
        items = sorted(v.items())[:255]
        out += bytes([9, len(items)])
        for key, item in items:
            json_program(key, out)
            json_program(item, out)
    else:
        raise TypeError(type(v))
    return out


def write_all(folder, blobs):
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith("seed-"):
            os.unlink(os.path.join(folder, name))
    seen = set()
    total = 0
    for blob in blobs:
        digest = hashlib.sha1(blob).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        with open(os.path.join(folder, "seed-" + digest[:16]), "wb") as f:
            f.write(blob)
        total += len(blob)
    return len(seen), total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = ap.parse_args()

    decode, headers = [], []
    for path in CAPTURES:
        linktype, frames = pcapgen.read_capture(path)
        if linktype != pcapgen.LINKTYPE_ETHERNET:
            continue
        decode.append(decode_seed(frames, source=False))
        decode.append(decode_seed(frames, source=True))
        for _micros, data, _orig in frames:
            et, l3 = l3_of(data)
            if et in (0x0800, 0x86DD) and l3:
                headers.append(l3)

    records = []
    for path in EXPECTED:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    records.append(bytes(json_program(json.loads(line), bytearray())))

    for name, blobs in (("fuzz_decode", decode), ("fuzz_headers", headers), ("fuzz_json", records)):
        n, size = write_all(os.path.join(args.out, name), blobs)
        print("%-13s %4d seeds, %7d bytes" % (name, n, size))


if __name__ == "__main__":
    main()
