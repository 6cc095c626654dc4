"""One load-test logger: creates a run and logs metric batches to it until time is up or a call fails.

Every batch covers all KEYS over one step range, is at most 1,000 points (one request), and is
written to --out as JSON lines, so a test can compare the store with what the portal acknowledged:
    {"run": id}
    {"sending": [first, last]}    before each batch is sent
    {"ack": [first, last]}        after the portal acknowledged it (204)
    {"error": "..."}              the call that failed after its retries; the logger stops there
    {"summary": {...}}            points, seconds, points/s, requests, retries and their reasons
Exit status: 0 when the time ran out without an error, 1 after an error.
"""

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "clients", "python"))

import modelops  # noqa: E402

KEYS = ["loss", "accuracy", "train/grad_norm", "learning_rate"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retries", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--min-steps", type=int, default=50, help="steps per batch, at least (x4 keys = points)")
    parser.add_argument("--max-steps", type=int, default=250, help="steps per batch, at most (250 x 4 keys = 1,000 points)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    client = modelops.Client(args.url, retries=args.retries, timeout=args.timeout)
    out = open(args.out, "w", buffering=1)

    def record(**entry):
        out.write(json.dumps(entry) + "\n")
        out.flush()

    started = time.monotonic()
    step, batches, failed = 0, 0, False
    try:
        run = client.start_run(args.experiment, name=args.name, tags={"load": "metric_logger"})
        record(run=run.id)
        while time.monotonic() - started < args.duration:
            count = rng.randint(args.min_steps, args.max_steps)
            record(sending=[step, step + count - 1])
            for s in range(step, step + count):
                run.log_metrics({key: rng.random() for key in KEYS}, step=s)
            run.flush()
            record(ack=[step, step + count - 1])
            step += count
            batches += 1
        run.finish()
    except modelops.ModelOpsError as e:
        record(error=str(e))
        failed = True
    elapsed = time.monotonic() - started
    points = step * len(KEYS)
    record(summary={"points": points, "batches": batches, "seconds": round(elapsed, 2),
                    "points_per_second": round(points / elapsed, 1) if elapsed else 0,
                    "requests": client.stats["requests"], "retries": client.stats["retries"],
                    "retry_reasons": client.stats["retry_reasons"]})
    out.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
