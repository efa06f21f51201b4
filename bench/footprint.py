"""Peak memory of `ask` and of the terminal UI, and the UI's cold start, per index.

    python bench/footprint.py --index /tmp/scale/10000 --index /tmp/scale/1000000

- ask: `python -m docsearch ask QUERY --json` in a fresh process, once per query; the peak
  resident set size (ru_maxrss from wait4) and the wall time of the whole process.
- terminal UI: the real `docsearch` in a private tmux server, 120x35.
  Cold start is the time from tmux starting the process to the first painted frame (the
  search box's placeholder is on screen) and to "ready" (index, model and warm-up search
  loaded in the background). Then the queries are typed one key at a time, each one's
  results awaited, and the app is quit; /usr/bin/time reports its peak resident set size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docsearch.store.tables import read_meta

QUERIES = ["read a file line by line", "fs.readFileSync", "how do I spawn a child process"]
FIRST_FRAME = "Search the docs"


def ask(index: Path, query: str) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one `ask` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSEARCH_")}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "docsearch", "ask", query, "--index", str(index), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ask failed on {index}")
    return usage.ru_maxrss / 1024, wall


def tui(index: Path, queries: list[str]) -> tuple[float, float, float]:
    """(first frame s, ready s, peak RSS MB)."""
    tmux = ["tmux", "-L", f"docsearch-bench-{os.getpid()}", "-f", "/dev/null"]
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        # A server with an idle session first, so that starting tmux itself is not timed.
        subprocess.run([*tmux, "new-session", "-d", "-s", "idle", "-x", "120", "-y", "35"], check=True)
        command = f"/usr/bin/time -f %M -o {rss_file} {sys.executable} -m docsearch --index {index}"

        def screen() -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-t", "app", "-p"], capture_output=True, text=True
            ).stdout

        def wait_for(text: str, timeout: float = 120) -> float:
            deadline = time.perf_counter() + timeout
            while time.perf_counter() < deadline:
                if text in screen():
                    return time.perf_counter()
                time.sleep(0.01)
            raise SystemExit(f"timed out waiting for {text!r}:\n{screen()}")

        try:
            start = time.perf_counter()
            subprocess.run(
                [*tmux, "new-session", "-d", "-s", "app", "-x", "120", "-y", "35", command], check=True
            )
            first = wait_for(FIRST_FRAME) - start
            ready = wait_for("ready") - start
            for query in queries:
                subprocess.run([*tmux, "send-keys", "-t", "app", "C-u"], check=True)
                for ch in query:
                    subprocess.run([*tmux, "send-keys", "-t", "app", "-l", ch], check=True)
                    time.sleep(0.05)
                time.sleep(1.5)  # the last keystroke's search and its preview
            if "total" not in screen():
                raise SystemExit(f"no results on screen:\n{screen()}")
            subprocess.run([*tmux, "send-keys", "-t", "app", "C-q"], check=True)
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline and not (rss_file.exists() and rss_file.read_text()):
                time.sleep(0.05)
            rss_mb = int(rss_file.read_text().split()[-1]) / 1024
        finally:
            subprocess.run([*tmux, "kill-server"], check=False)
    return first, ready, rss_mb


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, action="append", required=True)
    parser.add_argument("--no-tui", action="store_true")
    args = parser.parse_args()
    if not args.no_tui and (shutil.which("tmux") is None or not Path("/usr/bin/time").exists()):
        raise SystemExit("the terminal UI measurement needs tmux and /usr/bin/time")
    rows = []
    for index in args.index:
        count = read_meta(index).count
        runs = [ask(index, q) for q in QUERIES]
        ask_rss = max(r for r, _ in runs)
        ask_wall = statistics.median(w for _, w in runs)
        row = f"| {count:,} | {ask_rss:.0f} MB | {ask_wall:.2f} s |"
        if not args.no_tui:
            first, ready, rss = tui(index, QUERIES)
            row += f" {first:.2f} s | {ready:.2f} s | {rss:.0f} MB |"
        rows.append(row)
        print(row, flush=True)
    print()
    header = "| fragments | ask peak RSS | ask wall (median) |"
    if not args.no_tui:
        header += " TUI first frame | TUI ready | TUI peak RSS |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
