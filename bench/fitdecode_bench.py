#!/usr/bin/env python3
"""Decode FIT files with fitdecode and report records/s, for bench/fit_decode.sh.

Usage: fitdecode_bench.py [-n RUNS] FILE...

Like the Rust side (crates/ride/examples/decode_bench.rs): files are read into memory before
timing; each run decodes every file once, walks every frame and materialises each `record`
message's fields into a dict (name -> scaled value). Prints the median run's records/s.
"""

import argparse
import io
import statistics
import sys
import time
import warnings

import fitdecode


def decode(data: bytes) -> int:
    records = 0
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.WARN) as fit:
        for frame in fit:
            if frame.frame_type == fitdecode.FIT_FRAME_DATA and frame.name == "record":
                fields = {f.name: f.value for f in frame.fields}
                if fields:
                    records += 1
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=3)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be positive")

    warnings.simplefilter("ignore")  # CRC warnings on damaged fixtures are not what we time
    inputs = []
    for path in args.files:
        with open(path, "rb") as f:
            inputs.append((path, f.read()))

    total = 0
    for path, data in inputs:
        n = decode(data)
        print(f"{path}: {n} records")
        total += n

    seconds = []
    for _ in range(args.runs):
        start = time.perf_counter()
        records = sum(decode(data) for _, data in inputs)
        seconds.append(time.perf_counter() - start)
        if records != total:
            print(f"record count changed between runs: {records} != {total}", file=sys.stderr)
            return 1
    median = statistics.median(seconds)
    print(f"runs: {args.runs}, records per run: {total}, median run: {median * 1e3:.2f} ms")
    print(f"records/s: {total / median:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
