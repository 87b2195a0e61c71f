"""Counted progress of a long library call, off by default: a tqdm bar on request, or a callback.

AIS, an importance-sampled log-likelihood, the DDPM bound over all T steps and pixel-by-pixel sampling run
inside one library call for minutes. Such a call takes ``progress=`` as the Trainer does:

* ``False`` or ``None`` (the default): nothing is shown and nothing is called;
* ``True``: a tqdm bar on stderr with the call's own label; a string: a bar with that label;
* a callable ``progress(done, total)``: called after every counted step with the steps done so far and the
  total, for a caller that draws its own display (or a test that counts).

The library never prints unless asked. This module imports nothing heavy (tqdm only when a bar is made).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import InputError

__all__ = ["Progress", "ProgressCounter", "progress_counter"]

#: What a ``progress=`` argument may be: off, on, a label, or a ``callback(done, total)``.
Progress = bool | str | Callable[[int, int], Any] | None


class ProgressCounter:
    """Counts the steps of one call and shows them as the caller asked (see the module docstring).

    Use it as a context manager so that a bar is closed even when the call fails.

    Arguments:
        progress: False/None, True, a label, or a callable ``(done, total)``.
        total: the number of steps the call will count.
        label: the bar's label when ``progress`` is True.
        unit: the unit of one step ("step", "temperature", "pixel", ...).

    Example:
        >>> calls = []
        >>> with ProgressCounter(lambda done, total: calls.append((done, total)), 3, "demo") as counter:
        ...     for _ in range(3):
        ...         counter.update()
        >>> calls
        [(1, 3), (2, 3), (3, 3)]
        >>> with ProgressCounter(False, 3, "off") as counter:  # off: nothing is shown, nothing is called
        ...     counter.update(3)
        >>> counter.done
        3
    """

    def __init__(self, progress: Progress, total: int, label: str, unit: str = "step") -> None:
        if progress is not None and not isinstance(progress, (bool, str)) and not callable(progress):
            raise InputError(
                f"progress must be True, False, a label (str) or a callable (done, total); got "
                f"{type(progress).__name__}"
            )
        self.total, self.done = int(total), 0
        self._callback = progress if callable(progress) and not isinstance(progress, (bool, str)) else None
        self._bar = None
        if progress and self._callback is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.total,
                desc=progress if isinstance(progress, str) else label,
                unit=unit,
                unit_scale=self.total >= 10**5,
                leave=False,
            )

    def update(self, steps: int = 1) -> None:
        """Count ``steps`` more steps as done."""
        self.done += steps
        if self._callback is not None:
            self._callback(self.done, self.total)
        elif self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
        """Close the bar (if any); safe to call twice."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_counter(progress: Progress, total: int, label: str, unit: str = "step") -> ProgressCounter:
    """A :class:`ProgressCounter` for a call of ``total`` steps; see the module docstring for ``progress``.

    Example:
        >>> seen = []
        >>> with progress_counter(lambda d, t: seen.append(d), 4, "demo", "chunk") as counter:
        ...     counter.update(2)
        ...     counter.update(2)
        >>> seen
        [2, 4]
    """
    return ProgressCounter(progress, total, label, unit)
