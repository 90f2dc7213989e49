#!/usr/bin/env python3
"""Each source file a unity batch compiles, compiled on its own with -fsyntax-only.

The presets build in unity batches (cmake/unity.cmake), where a file that forgets an #include can borrow it from the
file before it in its batch. A user's plain `cmake -DCMAKE_BUILD_TYPE=Release` builds file by file and would fail on
it. Parsing each file alone with its target's own flags catches that at a fifth of a full compile's cost (no code
generation). Files already compiled alone are not in a batch and are skipped.

The test and bench sources are left out: they cost twice as much again (GoogleTest in every file), and the product's
sources are what a packager builds (ECRS_BUILD_TESTS=OFF).

usage: compile_alone.py BUILD_DIR SOURCE_DIR [--jobs N]
       compile_alone.py --selftest CXX   (a batch whose second file borrows <vector> from the first must fail)
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time

INCLUDE = re.compile(r'^#include "([^"]+)"$', re.M)


def commands(build_dir, source_dir):
    skip = tuple(os.path.join(source_dir, d) + os.sep for d in ("tests", "bench"))
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as f:
        entries = json.load(f)
    for entry in entries:
        if not re.search(r"/Unity/unity_\d+_cxx\.cxx$", entry["file"]):
            continue
        args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
        out = args.index("-o")
        del args[out:out + 2]
        c = args.index("-c")
        del args[c:c + 2]
        with open(entry["file"], encoding="utf-8") as f:
            sources = INCLUDE.findall(f.read())
        for source in sources:
            if source.startswith(skip):
                continue
            yield source, entry["directory"], args + ["-fsyntax-only", "-c", source]


def check(job):
    source, directory, args = job
    r = subprocess.run(args, cwd=directory, capture_output=True, text=True)
    return source, r.returncode, r.stderr


def selftest(cxx):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "src")
        unity = os.path.join(d, "build", "Unity")
        os.makedirs(src)
        os.makedirs(unity)
        files = {"lends.cpp": "#include <vector>\nint lends() { return std::vector<int>(2).size(); }\n",
                 "borrows.cpp": "int borrows() { return std::vector<int>(3).size(); }\n"}
        for name, text in files.items():
            with open(os.path.join(src, name), "w", encoding="utf-8") as f:
                f.write(text)
        batch = os.path.join(unity, "unity_0_cxx.cxx")
        with open(batch, "w", encoding="utf-8") as f:
            f.write("".join(f'#include "{os.path.join(src, n)}"\n' for n in files))
        with open(os.path.join(d, "build", "compile_commands.json"), "w", encoding="utf-8") as f:
            json.dump([{"directory": os.path.join(d, "build"), "file": batch,
                        "command": f"{cxx} -std=c++20 -o unity.o -c {batch}"}], f)
        whole = subprocess.run([cxx, "-std=c++20", "-fsyntax-only", batch], capture_output=True)
        if whole.returncode != 0:
            print("selftest: the batch itself should compile", file=sys.stderr)
            return 1
        r = subprocess.run([sys.executable, __file__, os.path.join(d, "build"), d], capture_output=True, text=True)
        if r.returncode == 0 or "borrows.cpp does not compile on its own" not in r.stderr or "lends.cpp" in r.stderr:
            print(f"selftest: expected only borrows.cpp to fail, got rc={r.returncode}\n{r.stdout}{r.stderr}",
                  file=sys.stderr)
            return 1
        print("selftest: the borrowed include was caught")
        return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--selftest":
        return selftest(sys.argv[2])
    p = argparse.ArgumentParser()
    p.add_argument("build_dir")
    p.add_argument("source_dir")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    jobs = list(commands(a.build_dir, os.path.realpath(a.source_dir)))
    if not jobs:
        print(f"no unity batches in {a.build_dir}/compile_commands.json: nothing was checked", file=sys.stderr)
        return 1
    start = time.monotonic()
    failed = []
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for source, rc, err in pool.map(check, jobs):
            if rc != 0:
                failed.append(source)
                print(f"--- {source} does not compile on its own:\n{err}", file=sys.stderr)
    print(f"{len(jobs) - len(failed)} of {len(jobs)} files in unity batches compile on their own "
          f"({time.monotonic() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
