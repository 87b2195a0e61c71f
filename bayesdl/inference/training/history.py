"""The per-epoch record of a training run, saveable as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ...io import atomic_write_json


@dataclass
class History:
    """Per-epoch records of a training run: ``loss``, ``val_loss`` (when validated), ``lr`` and ``seconds``.

    ``history["key"]`` lists one value per epoch that recorded ``key``; :attr:`losses` is
    ``history["loss"]``.

    Attributes:
        records: one dict per epoch, mapping a name ("loss", "val_loss", "lr", "seconds", ...) to a float;
            losses are in the objective's units (for an ELBO: nats per example).

    Example:
        >>> import tempfile, os
        >>> h = History([{"loss": 3.0, "lr": 0.1}, {"loss": 2.5, "val_loss": 2.7, "lr": 0.1}])
        >>> len(h), h.losses, h["val_loss"]
        (2, [3.0, 2.5], [2.7])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = h.to_json(os.path.join(tmp, "history.json"))
        ...     History.from_json(path).records == h.records
        True
    """

    records: list[dict[str, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: str) -> list[float]:
        return [r[key] for r in self.records if key in r]

    @property
    def losses(self) -> list[float]:
        """The mean training loss of each epoch."""
        return self["loss"]

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the records to ``path`` as JSON (atomically)."""
        return atomic_write_json(path, self.records)

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> History:
        """Read records written by :meth:`to_json`."""
        return cls(json.loads(Path(path).read_text()))
