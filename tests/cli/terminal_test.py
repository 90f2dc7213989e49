#!/usr/bin/env python3
"""`ecr-sweeper empty`, `clean --apply` and `lifecycle apply` across many repositories on a pseudo-terminal: a progress bar on stderr
with the total, a percentage, the rate and an ETA, erased at the end; none when stderr is a pipe or NO_COLOR is
set; stdout stays the summary in every case. localaws adds latency to every ECR call so the run lasts past the
bar's first redraw (0.5 s)."""
import json
import os
import pty
import re
import select
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LocalAws, cli_args, report  # noqa: E402

IMAGES = 2000
BAR = re.compile(r"\[[#.]{24}\]\s+\d+%\s+\d+/(\d+) images\s+[\d.]+/s\s+ETA \d+(s|m\d\ds)")
REPOSITORIES = 40
SLOW_MS = 300
REPO_BAR = re.compile(r"\[[#.]{24}\]\s+\d+%\s+(\d+)/(\d+) repositories (read|applied)")
POLICY = {"rules": [{"rulePriority": 1, "description": "keep 5",
                     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5},
                     "action": {"type": "expire"}}]}


def image_bar_problems(verb, rc, term, total):
    """A run on a terminal that exited 0 drew the images bar (total, percentage, rate, ETA) counting to `total`
    and erased it at the end."""
    failed = []
    bars = BAR.findall(term)
    print(f"{verb} on a terminal: exit {rc}, {len(bars)} progress redraws")
    if rc != 0:
        failed.append(f"{verb}: exit {rc}: {term[-2000:]}")
    if not bars:
        failed.append(f"{verb}: no progress bar with total, percentage, rate and ETA on the terminal:\n"
                      + repr(term[-2000:]))
    elif any(int(drawn) != total for drawn, _ in bars):
        failed.append(f"{verb}: the bar's total is not {total}: {bars}")
    if not term.rstrip("\r\n").endswith("\x1b[K"):
        failed.append(f"{verb}: the bar is not erased at the end: " + repr(term[-200:]))
    return failed


def run_on_pty(argv, env):
    """stderr on a pseudo-terminal, stdout to a file; returns (exit code, stdout, what the terminal received)."""
    master, slave = pty.openpty()
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        received = b""
        while True:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                received += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=120)
        os.close(master)
        out.seek(0)
        return proc.returncode, out.read(), received.decode(errors="replace")


def main():
    args = cli_args()
    cli = os.path.join(args.bin_dir, "ecr-sweeper")
    aws = LocalAws(args.localaws, "--latency-ms", "60")
    failed = []
    try:
        aws.seed("big", IMAGES)
        rc, out, term = run_on_pty([cli, "empty", "big", "--concurrency", "1"], aws.env())
        failed += image_bar_problems("empty", rc, term, IMAGES)
        if f"Deleted {IMAGES} images" not in out:
            failed.append("stdout lacks the summary: " + out)
        if "{\"" in term:
            failed.append("a JSON log line reached the terminal: " + term[:500])

        aws.seed("big", IMAGES)
        rc, out, term = run_on_pty([cli, "empty", "big", "--concurrency", "1"], aws.env(NO_COLOR="1"))
        if BAR.search(term) or "\x1b[" in term:
            failed.append("NO_COLOR: a bar or an escape sequence on the terminal: " + repr(term[:300]))
        if f"Deleted {IMAGES} images" not in out:
            failed.append("NO_COLOR: stdout lacks the summary: " + out)

        aws.seed("big", IMAGES)
        r = subprocess.run([cli, "empty", "big", "--concurrency", "1"], env=aws.env(), capture_output=True,
                           text=True, timeout=120)
        if BAR.search(r.stderr) or "\x1b[" in r.stderr:
            failed.append("piped: a bar on stderr: " + repr(r.stderr[:300]))
        if f"Deleted {IMAGES} images" not in r.stdout:
            failed.append("piped: stdout lacks the summary: " + r.stdout)
        failed += clean_apply(cli, aws, args.localaws)
        failed += lifecycle_apply(cli, aws)
    finally:
        aws.close()
    return report(failed, f"{len(failed)} problem(s)")


def clean_apply(cli, aws, localaws):
    """`clean --apply` deleting all but one of IMAGES images: the same bar counting to what it deletes, erased at
    the end; nothing on a terminal under NO_COLOR, nothing on a pipe. clean has no --concurrency: the terminal run
    gets its own localaws whose ECR calls take SLOW_MS, so the 20 batches (8 in flight) outlast the bar's redraw."""
    failed = []
    argv = [cli, "clean", "--repos", "aged", "--keep", "1", "--keep-days", "0", "--apply"]
    slow = LocalAws(localaws, "--latency-ms", str(SLOW_MS))
    try:
        slow.seed("aged", IMAGES)
        rc, out, term = run_on_pty(argv, slow.env())
    finally:
        slow.close()
    failed += image_bar_problems("clean --apply", rc, term, IMAGES - 1)
    if f"deleted={IMAGES - 1}" not in out or "\x1b[" in out:
        failed.append("clean --apply: stdout lacks the summary or carries escapes: " + out[-500:])
    aws.seed("aged", IMAGES)
    rc, out, term = run_on_pty(argv, aws.env(NO_COLOR="1"))
    if BAR.search(term) or "\x1b[" in term:
        failed.append("clean --apply, NO_COLOR: a bar or an escape sequence: " + repr(term[:300]))
    aws.seed("aged", IMAGES)
    r = subprocess.run(argv, env=aws.env(), capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or BAR.search(r.stderr) or "\x1b[" in r.stderr:
        failed.append(f"clean --apply, piped: exit {r.returncode} or a bar on stderr: " + repr(r.stderr[:300]))
    return failed


def lifecycle_apply(cli, aws):
    """`lifecycle apply` over REPOSITORIES repositories, one at a time: a line per phase (policies read, then put)
    that ends at the total and is erased; nothing on a terminal under NO_COLOR, nothing on a pipe."""
    failed = []
    policy = os.path.join(tempfile.mkdtemp(), "policy.json")
    with open(policy, "w") as f:
        json.dump(POLICY, f)
    for i in range(REPOSITORIES):
        aws.seed(f"svc-{i:02d}", 0)
    argv = [cli, "lifecycle", "apply", policy, "--repos", "svc-*", "--yes", "--concurrency", "1"]
    rc, out, term = run_on_pty(argv, aws.env())
    bars = REPO_BAR.findall(term)
    print(f"lifecycle apply on a terminal: exit {rc}, {len(bars)} progress redraws")
    if rc != 0:
        failed.append(f"lifecycle apply: exit {rc}: {term[-2000:]}")
    for phase in ("read", "applied"):
        drawn = [(int(done), int(total)) for done, total, p in bars if p == phase]
        if not drawn:
            failed.append(f"lifecycle apply: no 'repositories {phase}' progress line:\n" + repr(term[-2000:]))
        elif any(total != REPOSITORIES for _, total in drawn) or drawn[-1][0] != REPOSITORIES:
            failed.append(f"lifecycle apply: the {phase} line does not count to {REPOSITORIES}: {drawn}")
    if not term.rstrip("\r\n").endswith("\x1b[K"):
        failed.append("lifecycle apply: the line is not erased at the end: " + repr(term[-200:]))
    if f"{REPOSITORIES} applied" not in out or "\x1b[" in out:
        failed.append("lifecycle apply: stdout lacks the summary or carries escapes: " + out[-500:])

    rc, out, term = run_on_pty(argv, aws.env(NO_COLOR="1"))
    if REPO_BAR.search(term) or "\x1b[" in term:
        failed.append("lifecycle apply, NO_COLOR: a bar or an escape sequence: " + repr(term[:300]))
    r = subprocess.run(argv, env=aws.env(), capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or REPO_BAR.search(r.stderr) or "\x1b[" in r.stderr:
        failed.append(f"lifecycle apply, piped: exit {r.returncode} or a bar on stderr: " + repr(r.stderr[:300]))
    return failed


if __name__ == "__main__":
    sys.exit(main())
