"""The terminal UI as a user feels it: the real `docsearch` binary in tmux, timed from outside.

For each query, it types one key at a time (tmux send-keys) and polls the pane
(capture-pane) until the results area shows something new: keystroke → screen. Then it moves
the focus to the results (Tab) and presses ↓ a few times, timing each until the preview shows
the next result: ↓ → preview. It also times the first frame (the window drawn) and "ready"
(index and model loaded) from the moment tmux starts the command.

Polling costs a few ms per capture, so the numbers carry that much slack; a key whose results
did not change the screen (within 1.5 s) is left out of the medians and counted.

    python bench/tui_latency.py --index PATH [--code DIR] [--size 140x40] [QUERY ...]

`--code DIR` runs the docsearch of another checkout (PYTHONPATH=DIR), to compare before/after.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["read a file line by line", "fs.readFile", "spawn a child process", "EventEmitter once"]
UNCHANGED_AFTER = 1.5


class Pane:
    def __init__(self, command: str, width: int, height: int) -> None:
        self.tmux = ["tmux", "-L", f"docsearch-bench-{os.getpid()}", "-f", "/dev/null"]
        self.started = time.perf_counter()
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", "b", "-x", str(width), "-y", str(height), command],
            check=True,
        )

    def capture(self) -> list[str]:
        out = subprocess.run([*self.tmux, "capture-pane", "-t", "b", "-p"], capture_output=True, text=True)
        return out.stdout.split("\n")

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "b", *keys], check=True)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], check=False)


def body(lines: list[str]) -> list[str]:
    """The results and preview rows: not the query box (it echoes the key before any search
    ran) and not the status and footer lines."""
    return lines[3:-3]


def wait_change(pane: Pane, before: list[str], limit: float = UNCHANGED_AFTER) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if body(pane.capture()) != before:
            return (time.perf_counter() - start) * 1000
    return None


def median(xs: list[float]) -> str:
    return f"{statistics.median(xs):6.1f}" if xs else "   n/a"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--code", default=str(ROOT), help="checkout whose docsearch to run")
    parser.add_argument("--size", default="140x40")
    parser.add_argument("--pause", type=float, default=0.25, help="seconds between keys")
    parser.add_argument("--downs", type=int, default=5)
    parser.add_argument("queries", nargs="*", default=QUERIES)
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    env = f"PYTHONPATH={shlex.quote(args.code)} DOCSEARCH_INDEX={shlex.quote(args.index)}"
    command = f"cd {shlex.quote(args.code)} && {env} {shlex.quote(sys.executable)} -m docsearch"
    pane = Pane(command, width, height)
    try:
        first = ready = None
        while ready is None and time.perf_counter() - pane.started < 120:
            screen = "\n".join(pane.capture())
            now = (time.perf_counter() - pane.started) * 1000
            if first is None and screen.strip():
                first = now
            if "ready" in screen:
                ready = now
            time.sleep(0.005)
        print(f"first frame {first:.0f} ms, ready {ready:.0f} ms (from the command's start, tmux included)")
        keys: list[float] = []
        downs: list[float] = []
        unchanged = 0
        for query in args.queries:
            pane.send("C-u")  # clear the query (readline's kill-line works in Textual's Input)
            time.sleep(0.6)
            per_query: list[float] = []
            for key in query:
                before = body(pane.capture())
                pane.send("-l", key)
                ms = wait_change(pane, before)
                if ms is None:
                    unchanged += 1
                else:
                    per_query.append(ms)
                time.sleep(args.pause)
            time.sleep(0.5)
            pane.send("Tab")  # the results list takes the focus (old and new UI alike)
            time.sleep(0.5)
            per_down: list[float] = []
            for _ in range(args.downs):
                before = body(pane.capture())
                pane.send("Down")
                ms = wait_change(pane, before)
                if ms is not None:
                    per_down.append(ms)
                time.sleep(args.pause)
            pane.send("Escape")
            time.sleep(0.3)
            keys += per_query
            downs += per_down
            print(
                f"{query!r:28} keystroke→screen median {median(per_query)} ms (n={len(per_query)})   "
                f"↓→preview median {median(per_down)} ms (n={len(per_down)})"
            )
        print(
            f"all: keystroke→screen median {median(keys)} ms (n={len(keys)}, {unchanged} keys left the "
            f"screen unchanged), ↓→preview median {median(downs)} ms (n={len(downs)})"
        )
    finally:
        pane.close()


if __name__ == "__main__":
    main()
