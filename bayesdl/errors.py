"""Exception types raised by bayesdl.

Every error the library raises on purpose derives from :class:`BayesdlError`, so a caller can catch
them all at once; each also derives from the matching built-in type (``ValueError``,
``FileNotFoundError``, ...) so that generic handlers keep working.
"""

from __future__ import annotations


class BayesdlError(Exception):
    """Base class of all errors that bayesdl raises deliberately.

    Arguments:
        message: what went wrong and, where possible, how to fix it.

    Example:
        >>> try:
        ...     raise CheckpointError("no checkpoint file at run/ckpt.safetensors")
        ... except BayesdlError as err:
        ...     print(type(err).__name__, isinstance(err, ValueError))
        CheckpointError True
    """


class InputError(BayesdlError, ValueError):
    """An argument has the wrong shape, dtype, range or value (NaN, empty, non-binary, ...).

    Arguments:
        message: what went wrong and, where possible, how to fix it.

    Example:
        >>> issubclass(InputError, ValueError), issubclass(InputError, BayesdlError)
        (True, True)
    """


class DataNotFoundError(BayesdlError, FileNotFoundError):
    """A data set is not on disk; the message says how to install it or where to put it.

    Arguments:
        message: what went wrong and, where possible, how to fix it.

    Example:
        >>> issubclass(DataNotFoundError, FileNotFoundError)
        True
    """


class CorruptDataError(BayesdlError, ValueError):
    """A data file exists but is truncated or malformed.

    Arguments:
        message: what went wrong and, where possible, how to fix it.

    Example:
        >>> issubclass(CorruptDataError, ValueError)
        True
    """


class CheckpointError(BayesdlError, ValueError):
    """A checkpoint or saved model is missing, tampered with, or of an unknown format.

    Arguments:
        message: what went wrong and, where possible, how to fix it.

    Example:
        >>> str(CheckpointError("bad header"))
        'bad header'
    """


class TrainingDivergedError(BayesdlError, FloatingPointError):
    """The training loss became NaN or infinite; the message names the epoch and batch.

    Arguments:
        message: what went wrong and, where possible, how to fix it.

    Example:
        >>> issubclass(TrainingDivergedError, FloatingPointError)
        True
    """


class ODESolverError(BayesdlError, FloatingPointError):
    """An ODE solve (probability-flow likelihood or sampling) produced a NaN or infinite state; the message
    names the time at which it happened and the solver's method and tolerances.

    Arguments:
        message: what went wrong and, where possible, how to fix it.

    Example:
        >>> issubclass(ODESolverError, FloatingPointError)
        True
    """
