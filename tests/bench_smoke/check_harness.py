#!/usr/bin/env python3
"""ctest bench_smoke: runs bench/harness.py at 200 images (ecr-sweeper only) and checks what it wrote:
latest.json has the expected shape, our handler emptied the repository and reported SUCCESS, the cold-start
runs all reached GET /next, and latest.md holds the results table. No timing is asserted."""
import argparse
import json
import os
import subprocess
import sys

N = 200
COLD_RUNS = 3


def fail(message):
    print("bench_smoke: FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args()
    source = os.environ.get("ECRS_SOURCE_DIR") or fail("ECRS_SOURCE_DIR is not set (run through ctest)")
    harness = os.path.join(source, "bench", "harness.py")
    for stale in ("latest.json", "latest.md"):
        if os.path.exists(os.path.join(args.out_dir, stale)):
            os.remove(os.path.join(args.out_dir, stale))
    run = subprocess.run([sys.executable, harness, "--build-dir", args.build_dir, "--out-dir", args.out_dir,
                          "--quick", str(N), "--ours-only", "--cold-runs", str(COLD_RUNS)],
                         capture_output=True, text=True, timeout=100)
    if run.returncode != 0:
        fail(f"harness exited {run.returncode}:\n{run.stderr[-3000:]}")
    try:
        with open(os.path.join(args.out_dir, "latest.json")) as f:
            results = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"latest.json unreadable: {e}")
    for key in ("date", "machine", "scenarios", "cold_start", "sizes", "put_ms"):
        if key not in results:
            fail(f"latest.json lacks '{key}'")
    if not results["machine"].get("nproc") or not results["machine"].get("cpu"):
        fail(f"machine not recorded: {results['machine']}")
    if len(results["scenarios"]) != 1:
        fail(f"expected one scenario, got {len(results['scenarios'])}")
    scenario = results["scenarios"][0]
    ours = scenario["runs"].get("ecr-sweeper") or fail(f"no ecr-sweeper run in {scenario}")
    if ours.get("images") != N:
        fail(f"seeded {ours.get('images')} images, wanted {N}")
    if ours.get("outcome") != "emptied" or ours.get("images_left") != 0 or ours.get("status") != "SUCCESS":
        fail(f"ecr-sweeper did not empty the repository: {ours}")
    for field in ("wall_s", "rss_peak_mb", "cpu_ms"):
        if not isinstance(ours.get(field), (int, float)) or ours[field] < 0:
            fail(f"run lacks a numeric '{field}': {ours}")
    if not ours.get("calls", {}).get("BatchDeleteImage"):
        fail(f"no BatchDeleteImage call recorded: {ours}")
    if not isinstance(scenario.get("lower_bound_s"), (int, float)):
        fail("scenario lacks lower_bound_s")
    cold = results["cold_start"].get("ecr-sweeper", {})
    if cold.get("runs") != COLD_RUNS or not isinstance(cold.get("median_ms"), (int, float)):
        fail(f"cold start not measured over {COLD_RUNS} runs: {cold}")
    with open(os.path.join(args.out_dir, "latest.md")) as f:
        md = f.read()
    if f"| {N}/0ms | {N} | ecr-sweeper |" not in md:
        fail("latest.md has no results row")
    if run.stdout.strip() != md.strip():
        fail("the printed table differs from latest.md")
    print(f"bench_smoke: ok ({ours['outcome']}, {ours['calls']})")


if __name__ == "__main__":
    main()
