#!/usr/bin/env python3
"""Cold start side by side: exec of each handler -> its first GET /next on a local listener (bench/harness.py's
cold_start, the same measurement `scripts/bench` reports), for

  ecr-sweeper, function-x86_64.zip unpacked into an empty directory and started through its `bootstrap` (what
      Lambda runs: the sh script, the bundled loader, the stand-in libraries);
  ecr-sweeper, the build tree's binary (system loader and libraries), to separate the package's share;
  the CDK autoDeleteImages handler under the Node Runtime API shim (bench/node) and the seed's Python handler
      (bench/python), when their dependencies are installed (`scripts/bench` installs the CDK's);
  function-arm64.zip under qemu-user: a correctness check (it reaches GET /next), not a timing.

  scripts/bench-coldstart [--runs N] [--build-dir build/default] [--arm64-zip ZIP]
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import harness  # noqa: E402  (bench/harness.py: HandlerSpec, cold_start, the peers' specs)


def unpack(zip_path, into):
    os.makedirs(into)
    subprocess.run(["unzip", "-q", zip_path, "-d", into], check=True)
    return into


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "default"))
    ap.add_argument("--arm64-zip", default=None,
                    help="default: BUILD_DIR/arm64/function-arm64.zip (the default build's cross-build), else "
                         "build/arm64/function-arm64.zip (the arm64 preset)")
    ap.add_argument("--seed-file", default=(sorted(glob.glob("/work/shared/seeds/000_*.txt")) or [None])[0])
    args = ap.parse_args()
    if args.arm64_zip is None:
        args.arm64_zip = next((z for z in (os.path.join(args.build_dir, "arm64", "function-arm64.zip"),
                                           os.path.join(ROOT, "build", "arm64", "function-arm64.zip"))
                               if os.path.exists(z)), "")
    work = tempfile.mkdtemp(prefix="ecrs-coldstart-")
    none = lambda repo: {}  # noqa: E731
    specs = []
    zip_x86 = os.path.join(args.build_dir, "function-x86_64.zip")
    if os.path.exists(zip_x86):
        task = unpack(zip_x86, os.path.join(work, "x86_64"))
        specs.append(harness.HandlerSpec("ecr-sweeper function-x86_64.zip", [os.path.join(task, "bootstrap")], none,
                                         "Custom::EmptyEcrRepository"))
    else:
        print(f"coldstart: {zip_x86} is missing (scripts/build default function_zip)", file=sys.stderr)
    binary = os.path.join(args.build_dir, "handler", "bootstrap")
    specs.append(harness.HandlerSpec("ecr-sweeper", [binary], none, "Custom::EmptyEcrRepository"))
    if os.path.exists(harness.CDK_HANDLER):
        specs.append(harness.HandlerSpec("cdk", ["node", os.path.join(HERE, "node", "runtime_shim.js"),
                                                 harness.CDK_HANDLER, "handler"], none, "Custom::ECRAutoDeleteImages"))
    else:
        print("coldstart: the CDK handler is not installed (scripts/bench installs it); skipping that row",
              file=sys.stderr)
    if args.seed_file:
        seed_dir = os.path.join(work, "awstut")
        os.makedirs(seed_dir)
        harness.extract_seed_handler(args.seed_file, seed_dir)
        specs.append(harness.HandlerSpec("seed python", [sys.executable, os.path.join(HERE, "python", "runtime_shim.py"),
                                                         seed_dir, "index.lambda_handler"],
                                         lambda repo: {"ACCOUNT_ID": harness.ACCOUNT, "ECR_REPOSITORY_NAME": repo},
                                         "Custom::CustomResource"))
    rows = []
    for spec in specs:
        r = harness.cold_start(spec, args.runs)
        rows.append((spec.name, r))
        print(f"coldstart: {spec.name}: {r}", file=sys.stderr, flush=True)
    if os.path.exists(args.arm64_zip):
        task = unpack(args.arm64_zip, os.path.join(work, "arm64"))
        spec = harness.HandlerSpec("ecr-sweeper function-arm64.zip (qemu-user)",
                                   [os.path.join(ROOT, "scripts", "run-bootstrap"), task], none,
                                   "Custom::EmptyEcrRepository")
        r = harness.cold_start(spec, 3)
        rows.append((spec.name + ", correctness only", r))
    print("| handler | runs | median ms | p95 ms |\n|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r.get('runs', 0)} | {r.get('median_ms', '-')} | {r.get('p95_ms', '-')} |")
    subprocess.run(["rm", "-rf", work], check=False)
    return 0 if all(r.get("runs") for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
