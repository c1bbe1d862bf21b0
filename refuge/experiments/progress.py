"""Progress on long work: a rich bar with an ETA on a terminal, a line rewritten in place in a notebook."""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """True inside a Jupyter kernel, where a terminal progress bar cannot redraw itself."""
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class TextProgress:
    """A progress line for notebooks: rewritten in place (carriage return) at most twice a second."""

    def __init__(self, label: str, total: int, stream=None, every: float = 0.5):
        import time

        self.label, self.total, self.done = label, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.every, self.clock, self.started, self.shown = every, time.monotonic, time.monotonic(), -1.0

    def advance(self, n: int) -> None:
        """Count `n` more finished tasks; rewrite the line at most every `every` seconds."""
        self.done += n
        now = self.clock()
        if now - self.shown >= self.every or self.done >= self.total:
            self.shown = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()

    def line(self, now: float) -> str:
        """The progress line at time `now`: done, total, share, elapsed and time left."""
        elapsed = now - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        eta = f", about {left:,.0f} s left" if self.done and self.done < self.total else ""
        share = self.done / max(self.total, 1)
        return f"{self.label}: {self.done:,}/{self.total:,} ({share:.0%}), {elapsed:,.0f} s{eta}"

    def close(self) -> None:
        """End the progress line."""
        self.stream.write("\n")
        self.stream.flush()


class _Progress:
    """A rich progress bar with an ETA on stderr (a text line in a notebook), or nothing."""

    def __init__(self, progress: bool | str, total: int):
        self.label = progress if isinstance(progress, str) else "runs"
        self.on = bool(progress)
        self.total = total
        self.text: TextProgress | None = None

    def __enter__(self):
        if not self.on:
            return lambda n: None
        if in_notebook():
            self.text = TextProgress(self.label, self.total)
            return self.text.advance
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=False)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self.text is not None:
            self.text.close()
        elif self.on:
            self.bar.stop()
