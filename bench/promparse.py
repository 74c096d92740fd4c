#!/usr/bin/python3
"""The peer of bench/promparse.c: python3-prometheus-client's text parser
(prometheus_client.parser.text_string_to_metric_families) on one file,
consuming every sample the same way, for bench/parse.sh:

    /usr/bin/python3 bench/promparse.py FILE

Prints "samples=N parse_ms=X check=..." where check= is computed as
promparse.c computes it (samples, sum of the finite values, non-finite
values, label bytes, samples with a timestamp, sum of the timestamps in whole
seconds), so the two readings of a file can be compared. Run it with Debian's
/usr/bin/python3, where the python3-prometheus-client package installs."""
import math
import sys
import time

from prometheus_client.parser import text_string_to_metric_families


def main():
    t0 = time.monotonic()
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    n = nonfinite = label_bytes = with_ts = ts_sum = 0
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            n += 1
            if math.isfinite(s.value):
                total += s.value
            else:
                nonfinite += 1
            for k, v in s.labels.items():
                label_bytes += len(k.encode()) + len(v.encode())
            if s.timestamp is not None:
                with_ts += 1
                ts_sum += int(s.timestamp)
    ms = (time.monotonic() - t0) * 1000
    print(f"samples={n} parse_ms={ms:.3f} check={n}/{total:.17g}/{nonfinite}/{label_bytes}/{with_ts}/{ts_sum}")


if __name__ == "__main__":
    main()
