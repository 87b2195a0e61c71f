"""A labelled progress line for a long phase of an experiment that has no steps of its own to count.

AIS, an IWAE log-likelihood, a diffusion bound or an ancestral sampler run inside one library call; the line
shows what is running and for how long, so a long run never sits silently behind a bar that says ``training``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def phase(label: str, enabled: bool = True, refresh_seconds: float = 0.5) -> Iterator[None]:
    """Show ``label: <elapsed time>`` on stderr while the block runs (nothing when ``enabled`` is False).

    Arguments:
        label: what the phase is, e.g. ``"AIS log Z (PCD)"``.
        enabled: show it (the run's ``progress`` flag).
        refresh_seconds: how often the elapsed time is redrawn.

    Example:
        >>> with phase("a quick phase", enabled=False):
        ...     total = sum(range(10))
        >>> total
        45
    """
    if not enabled:
        yield
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=None, desc=label, bar_format="{desc}: {elapsed}", leave=False)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(refresh_seconds):
            bar.refresh()

    ticker = threading.Thread(target=tick, name=f"bayesdl progress: {label}", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        bar.close()
