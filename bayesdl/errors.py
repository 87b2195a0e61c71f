"""Exception types raised by bayesdl.

Every error the library raises on purpose derives from :class:`BayesdlError`, so a caller can catch
them all at once; each also derives from the matching built-in type (``ValueError``,
``FileNotFoundError``, ...) so that generic handlers keep working.
"""

from __future__ import annotations


class BayesdlError(Exception):
    """Base class of all errors that bayesdl raises deliberately."""


class InputError(BayesdlError, ValueError):
    """An argument has the wrong shape, dtype, range or value (NaN, empty, non-binary, ...)."""


class DataNotFoundError(BayesdlError, FileNotFoundError):
    """A data set is not on disk; the message says how to install it or where to put it."""


class CorruptDataError(BayesdlError, ValueError):
    """A data file exists but is truncated or malformed."""


class CheckpointError(BayesdlError, ValueError):
    """A checkpoint or saved model is missing, tampered with, or of an unknown format."""


class TrainingDivergedError(BayesdlError, FloatingPointError):
    """The training loss became NaN or infinite; the message names the epoch and batch."""
