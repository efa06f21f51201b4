"""Keystroke → painted results in the Textual UI, measured inside the app.

Types each query one key at a time through Textual's Pilot (headless, real rendering to a
virtual screen). The app records, for every search whose results it shows, the time from the
keystroke's Input.Changed to the refresh after the results were drawn (`DocsearchApp.paint_ms`).
Keystrokes that a newer one superseded are not painted, so they are not counted.

    python bench/tui_latency.py --index PATH [--pause 0.12] [QUERY ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docsearch.settings import Settings
from docsearch.tui.app import DocsearchApp

QUERIES = ["read a file line by line", "fs.readFile", "spawn a child process", "EventEmitter once"]


async def run(index: str, queries: list[str], pause: float) -> None:
    app = DocsearchApp(Settings.resolve({"index": index}))
    started = time.perf_counter()
    async with app.run_test(size=(110, 32)) as pilot:
        while app.searcher is None:
            await pilot.pause(0.01)
        print(f"ready after {time.perf_counter() - started:.2f} s (index, lancedb and model loaded)")
        for query in queries:
            before = len(app.paint_ms)
            query_box = app.query_one("#query")
            query_box.value = ""
            await pilot.pause(0.2)
            before = len(app.paint_ms)
            for key in query:
                await pilot.press("space" if key == " " else key)
                await pilot.pause(pause)  # a fast typist: ~8 keys a second
            while app.result is None or app.result.query != query:
                await pilot.pause(0.01)
            await pilot.pause(0.3)
            ms = app.paint_ms[before:]
            print(
                f"{query!r:32} {len(ms):3} paints  median {statistics.median(ms):6.1f} ms  "
                f"max {max(ms):6.1f} ms  last {ms[-1]:6.1f} ms"
            )
        ms = app.paint_ms
        ms_sorted = sorted(ms)
        p90 = ms_sorted[int(0.9 * (len(ms_sorted) - 1))]
        print(f"all keystrokes: {len(ms)} paints, median {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--pause", type=float, default=0.12, help="seconds between keystrokes")
    parser.add_argument("queries", nargs="*", default=QUERIES)
    args = parser.parse_args()
    asyncio.run(run(args.index, args.queries, args.pause))


if __name__ == "__main__":
    main()
