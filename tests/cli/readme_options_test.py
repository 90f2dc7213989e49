#!/usr/bin/env python3
"""The README's table of common options (between the common-options markers) says what `--help` says: the same
flags as the "AWS and output options" group of every verb that calls AWS, and each environment variable the table
names is one the binary's help names too (in the option's own description or the top-level footer). The verbs are
found by walking `--help` from the top (every "Subcommands:" list, down to the leaves), so a verb added later is
checked too: each leaf carries the group, or is one of the verbs that never call AWS, and every leaf ends its
help with the exit codes."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import cli_args, report  # noqa: E402

# Leaves that call no AWS at all: a shell script, and a policy checked locally.
NO_AWS = {("completion",), ("lifecycle", "validate")}
GROUP = "[Option Group: AWS and output options]"
EXIT_CODES = "Exit codes: 0 done; 1 "


def help_text(cli, path):
    r = subprocess.run([cli, *path, "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(path)} --help exited {r.returncode}")
    return r.stdout


def subcommands(text):
    if "\nSubcommands:\n" not in text:
        return []
    section = text.split("\nSubcommands:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  ([a-z][a-z-]*)\s", section, re.M)


def leaf_verbs(cli, path=()):
    """Every verb path with no subcommands of its own, found through --help."""
    subs = subcommands(help_text(cli, list(path)))
    if not subs:
        return [path]
    return [leaf for sub in subs for leaf in leaf_verbs(cli, path + (sub,))]


def group_flags(text):
    if GROUP not in text:
        return None
    section = text.split(GROUP, 1)[1]
    section = section.split("\n\n", 1)[0]
    return set(re.findall(r"^\s+(--[a-z-]+)", section, re.M))


def main():
    args = cli_args()
    cli = os.path.join(args.bin_dir, "ecr-sweeper")
    readme = open(os.path.join(args.source_dir, "README.md"), encoding="utf-8").read()
    m = re.search(r"<!-- common-options:begin -->(.*?)<!-- common-options:end -->", readme, re.S)
    if not m:
        print("FAIL README.md has no common-options table (markers missing)")
        return 1
    rows = [l for l in m.group(1).splitlines() if l.startswith("| `--")]
    table = {}
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        flag = re.match(r"`(--[a-z-]+)", cells[0]).group(1)
        table[flag] = re.findall(r"`([A-Z][A-Z0-9_<>]+)`", cells[1])
    failed = []
    if len(table) < 6:
        failed.append(f"the table has {len(table)} options, expected the six of the group")
    top = help_text(cli, [])
    leaves = leaf_verbs(cli)
    verbs = [path for path in leaves if path not in NO_AWS]
    if len(verbs) < 6 or not NO_AWS <= set(leaves):
        failed.append(f"walking --help found {leaves}: fewer verbs than the six that call AWS, or a no-AWS verb gone")
    for path in leaves:
        text = help_text(cli, list(path))
        if EXIT_CODES not in text:
            failed.append(f"{' '.join(path)} --help does not end with the exit codes")
        if path in NO_AWS:
            if GROUP in text:
                failed.append(f"{' '.join(path)} calls no AWS but its --help shows '{GROUP}'")
            continue
        flags = group_flags(text)
        if flags is None:
            failed.append(f"{' '.join(path)} --help has no '{GROUP}'")
            continue
        if flags != set(table):
            failed.append(f"{' '.join(path)}: --help has {sorted(flags)}, the README table {sorted(table)}")
        for flag, variables in table.items():
            line = re.search(r"^\s+" + re.escape(flag) + r"\b.*(\n\s{20,}.*)*", text, re.M)
            described = line.group(0) if line else ""
            for var in variables:
                stem = var.split("<")[0].rstrip("_")
                if stem not in described and stem not in top:
                    failed.append(f"{' '.join(path)} {flag}: the README names {var}, --help does not")
    print("verbs found by walking --help: " + ", ".join(" ".join(p) for p in leaves))
    return report(failed, f"{len(table)} options checked against {len(verbs)} verbs: {len(failed)} problem(s)")


if __name__ == "__main__":
    sys.exit(main())
