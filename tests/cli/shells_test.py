#!/usr/bin/env python3
"""`ecr-sweeper completion fish|zsh` in the real shells, installed as the README says. fish: `complete -C` lists
what TAB would offer after sourcing the script. zsh: an interactive zsh on a pseudo-terminal, the script either
saved in $fpath (compinit autoloads it on the first TAB, which must complete too) or sourced; TAB after
`ecr-sweeper li` must turn the line into `ecr-sweeper lifecycle `. Needs fish and zsh (scripts/setup)."""
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import cli_args, report  # noqa: E402

WAIT_S = 20  # for a prompt or a completion on a loaded machine; answers come far sooner


def fish_checks(script):
    # (words typed, what must be offered, what must not)
    cases = [("ecr-sweeper ", {"empty", "clean", "lifecycle", "repo", "completion"}, set()),
             ("ecr-sweeper lifecycle ", {"validate", "preview", "apply"}, {"empty"}),
             ("ecr-sweeper empty web --output ", {"text", "json"}, {"table"}),
             ("ecr-sweeper clean --output ", {"text", "json", "table"}, set()),
             ("ecr-sweeper completion ", {"bash", "zsh", "fish"}, set())]
    failed = []
    for typed, want, unwanted in cases:
        r = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C '{typed}'"],
                           capture_output=True, text=True, timeout=60)
        offered = {line.split("\t")[0] for line in r.stdout.splitlines() if line}
        if r.returncode != 0 or not want <= offered or offered & unwanted:
            failed.append(f"fish: '{typed}' offers {sorted(offered)}, expected {sorted(want)}{r.stderr[-500:]}")
    return failed


class Zsh:
    """An interactive `zsh -f` on a pseudo-terminal."""

    def __init__(self, home):
        self.master, slave = pty.openpty()
        env = dict(os.environ, TERM="dumb", HOME=home)
        self.proc = subprocess.Popen(["zsh", "-f", "-i"], stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.seen = ""

    def send(self, text):
        os.write(self.master, text.encode())

    def wait_for(self, text):
        """What the terminal showed until `text` appeared (or WAIT_S passed)."""
        end = time.time() + WAIT_S
        while text not in self.seen and time.time() < end:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
        shown, self.seen = self.seen, ""
        return shown

    def close(self):
        self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def zsh_checks(script, home):
    failed = []
    fpath_dir = os.path.join(home, "functions")
    os.makedirs(fpath_dir, exist_ok=True)
    shutil.copy(script, os.path.join(fpath_dir, "_ecr-sweeper"))
    setups = {"saved in $fpath": f"fpath=({fpath_dir} $fpath); autoload -U compinit; compinit -u -D",
              "sourced": f"autoload -U compinit; compinit -u -D; source {script}"}
    for how, setup in setups.items():
        shell = Zsh(home)
        try:
            shell.send(f"{setup}; unsetopt beep; PS1='ready> '\n")
            if "ready> " not in shell.wait_for("ready> "):
                failed.append(f"zsh ({how}): no prompt after the setup")
                continue
            for attempt in ("first", "second"):
                shell.send("ecr-sweeper li\t")
                shown = shell.wait_for("ecr-sweeper lifecycle ")
                if "ecr-sweeper lifecycle " not in shown:
                    failed.append(f"zsh ({how}): the {attempt} TAB after 'ecr-sweeper li' gave {shown[-200:]!r}")
                shell.send("\x15")  # ^U: a fresh line for the next attempt
        finally:
            shell.close()
    return failed


def main():
    args = cli_args()
    cli = os.path.join(args.bin_dir, "ecr-sweeper")
    home = tempfile.mkdtemp()
    failed = []
    for shell in ("fish", "zsh"):
        if shutil.which(shell) is None:
            failed.append(f"{shell} is not installed (scripts/setup installs it)")
    scripts = {}
    for shell in ("fish", "zsh"):
        path = os.path.join(home, "completion." + shell)
        r = subprocess.run([cli, "completion", shell], capture_output=True, text=True, timeout=30)
        with open(path, "w") as f:
            f.write(r.stdout)
        scripts[shell] = path
    if not failed:
        failed += fish_checks(scripts["fish"])
        failed += zsh_checks(scripts["zsh"], home)
    shutil.rmtree(home, ignore_errors=True)
    return report(failed, f"{len(failed)} problem(s)")


if __name__ == "__main__":
    sys.exit(main())
