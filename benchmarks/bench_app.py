"""The what-if page: time from letting go of a slider to the redrawn results, measured in the browser.

Also prints the CPU time behind each change (the workers' time for the runs, divided by the number of
workers, plus the server's time to reduce them), which does not grow when other jobs share the cores.

    python benchmarks/bench_app.py [--runs 50] [--repeat 7] [--workers 2] [--posterior DIR]

Serves the flagship as `refuge app` does (a pool of worker processes, the baseline run once at start),
opens the page in headless Chromium (Debian's package, driven by Playwright), waits for the first
drawing, then moves one parameter's slider to a new position several times. Each time is measured in
the page: from the slider's `change` event (the user lets go) to the end of the redraw of every
table and chart. A new position each time, so no answer comes from the cache. Prints each time and the
median (target: <= 1 s with 50 runs on 2 cores), and the machine's load average, as other jobs on the
same cores slow every figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MEASURE = """async ([sel, pos]) => {
    const before = window.refuge.renders, s = document.querySelector(sel);
    s.value = pos; s.dispatchEvent(new Event('input'));
    const t0 = performance.now();
    s.dispatchEvent(new Event('change'));
    while (window.refuge.renders === before) await new Promise(r => setTimeout(r, 5));
    await new Promise(r => requestAnimationFrame(() => r()));  // the frame that shows it
    return performance.now() - t0;
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="north-korea-china")
    ap.add_argument("--parameter", default="security_factor")
    ap.add_argument("--posterior", default=None, help="a calibration folder: every run draws from its posterior "
                    "(as `refuge app --posterior`), each run's model compiled with its draw")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from refuge.present.app import Session, make_server

    session = Session(args.scenario, workers=args.workers, runs=args.runs, posterior=args.posterior)
    t0 = time.perf_counter()
    session.warm()  # workers started, engine loaded, the baseline run: what `refuge app` does at start
    print(f"start-up (workers, baseline of {args.runs} runs): {time.perf_counter() - t0:.1f} s", flush=True)
    server = make_server(session, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    times, cpus = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders || 0) >= 1", timeout=300_000)
        selector = f"input[data-param={args.parameter}]"
        for k in range(args.repeat):
            pos = 100 + 800 * k // max(1, args.repeat - 1)
            ms = page.evaluate(MEASURE, [selector, pos])
            times.append(ms / 1000)
            cpu = page.evaluate("window.refuge.result.cpu")
            cpus.append(cpu["runs"] / args.workers + cpu["reduce"])
            print(f"  slider to {pos / 10:.0f}% of its range: redrawn after {ms / 1000:.2f} s (server: "
                  f"{page.evaluate('window.refuge.result.seconds'):.2f} s; CPU: runs {cpu['runs']:.2f} s over "
                  f"{args.workers} workers, reducing {cpu['reduce']:.2f} s)", flush=True)
        browser.close()
    server.shutdown()
    from refuge.experiments.ensemble import shutdown_pools

    shutdown_pools()
    print(f"slider release to redrawn results, {args.runs} runs on {args.workers} workers: median "
          f"{statistics.median(times):.2f} s (target <= 1 s), min {min(times):.2f} s; console errors {len(errors)}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n"
          f"CPU per change (runs / workers + reducing): median {statistics.median(cpus):.2f} s: the wall time on "
          "otherwise idle cores, before the hand-over and the browser's drawing")


if __name__ == "__main__":
    main()
