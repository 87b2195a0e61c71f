"""Minibatches for training: in-memory tensors on a fast path, and any DataLoader, Dataset or stream.

:class:`BatchLoader` serves data that fit in memory. It is much cheaper than
``torch.utils.data.DataLoader`` (no per-item Python calls and no collation), and its state is one
``torch.Generator`` whose state the trainer saves in checkpoints, so a resumed run draws exactly the
same batches as an uninterrupted one.

:class:`DeviceBatches` serves everything else: a ``DataLoader`` (with workers and pinned memory if it
has them), a map-style ``Dataset`` or an ``IterableDataset``. It moves one batch at a time to the device,
so the data never have to fit in memory. :func:`as_batches` picks the right one for what it is given.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler, TensorDataset

from ..errors import InputError
from ..validation import check_positive_int, check_range, check_tensor

Batch = torch.Tensor | tuple[torch.Tensor, ...]


class BatchLoader:
    """Iterate over minibatches of one tensor or a tuple of tensors sharing their first dimension.

    Arguments:
        data: a tensor [N, ...] or a tuple of tensors each [N, ...].
        batch_size: the minibatch size (the last batch may be smaller unless ``drop_last``).
        shuffle: draw a fresh permutation every epoch from ``generator``.
        binarize: "dynamic" redraws x_b ~ Bernoulli(x) for the first tensor at every batch.
        drop_last: drop a final incomplete batch.
        generator: the random source for shuffling and binarisation (seeded 0 if omitted).
        rank: this process's index in data-parallel training (0 for one process).
        world_size: the number of data-parallel processes. With W > 1, ``batch_size`` is the
            *global* batch: every process draws the same permutation from the same generator state
            and takes the interleaved slice ``global_batch[rank::W]`` of each global batch, so the
            union of the shards of step k is exactly the batch a single process would see at step k
            (the semantics of ``DistributedSampler`` with a seed reset every epoch).

    A single-tensor ``data`` yields tensors; a tuple yields tuples.

    Example:
        >>> loader = BatchLoader(torch.arange(10.).unsqueeze(1), batch_size=4, shuffle=False)
        >>> [len(b) for b in loader]
        [4, 4, 2]
    """

    def __init__(
        self,
        data: Batch,
        batch_size: int = 100,
        shuffle: bool = True,
        binarize: str | None = None,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        tensors = data if isinstance(data, tuple) else (data,)
        if not tensors:
            raise InputError("data is an empty tuple")
        for i, t in enumerate(tensors):
            check_tensor(t, f"data[{i}]")
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise InputError(
                f"all data tensors must share their first dimension, got {[len(t) for t in tensors]}"
            )
        if binarize not in (None, "dynamic"):
            raise InputError(f"BatchLoader binarize must be None or 'dynamic', got {binarize!r}")
        if binarize == "dynamic":
            check_range(tensors[0], "data[0]", 0.0, 1.0)
        self.tensors = tensors
        self.single = not isinstance(data, tuple)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.shuffle = shuffle
        self.binarize = binarize
        self.drop_last = drop_last
        if generator is None:
            generator = torch.Generator()
            generator.manual_seed(0)
        self.generator = generator
        self.world_size = check_positive_int(world_size, "world_size")
        if not 0 <= rank < world_size:
            raise InputError(f"rank must be in [0, {world_size - 1}], got {rank}")
        self.rank = rank
        #: the size of the global batch that the last yielded shard belongs to
        self.current_global_size = 0

    @property
    def num_examples(self) -> int:
        """The number of examples N (the size used to scale minibatch likelihoods)."""
        return len(self.tensors[0])

    def __len__(self) -> int:
        n, b = self.num_examples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[Batch]:
        n = self.num_examples
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            if (self.drop_last and len(idx) < self.batch_size) or len(idx) < self.world_size:
                break  # with W processes, a final global batch smaller than W cannot give every shard data
            self.current_global_size = len(idx)
            noise = None
            if self.binarize == "dynamic":
                # drawn for the whole global batch so that every shard sees the same draws
                noise = torch.rand((len(idx), *self.tensors[0].shape[1:]), generator=self.generator)
            if self.world_size > 1:
                keep = torch.arange(self.rank, len(idx), self.world_size)
                idx = idx[keep]
                noise = None if noise is None else noise[keep]
            batch = [
                t.index_select(0, idx.to(t.device)) for t in self.tensors
            ]  # row copies: ~3x faster than t[idx]
            if noise is not None:
                batch[0] = (noise.to(batch[0].device) < batch[0]).to(batch[0].dtype)
            yield batch[0] if self.single else tuple(batch)


class PermutationSampler(Sampler[int]):
    """One fresh permutation of range(N) per pass, drawn from ``generator`` exactly as :class:`BatchLoader` draws it.

    (``torch.utils.data.RandomSampler`` draws a second permutation at the end of every pass, so the same
    generator would give other batches than the in-memory path.)

    Arguments:
        num_examples: N.
        generator: the random source; its state decides every epoch's order.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> sorted(PermutationSampler(4, g)) == [0, 1, 2, 3]
        True
    """

    def __init__(self, num_examples: int, generator: torch.Generator) -> None:
        self.num_examples = num_examples
        self.generator = generator

    def __len__(self) -> int:
        return self.num_examples

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(self.num_examples, generator=self.generator).tolist())


def _as_tensor(value: Any, name: str) -> torch.Tensor:
    """A tensor from a tensor or a numpy array (floating arrays become torch's default dtype, float32)."""
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        if value.dtype == object or not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
            raise InputError(f"{name} is a numpy array of dtype {value.dtype}; expected numbers")
        tensor = torch.from_numpy(np.ascontiguousarray(value))
        if tensor.is_floating_point():
            tensor = tensor.to(torch.get_default_dtype())
    else:
        raise InputError(f"{name} must be a torch.Tensor or a numpy array, got {type(value).__name__}")
    if tensor.device.type == "meta":
        raise InputError(
            f"{name} is on the meta device, which holds no values; move the data to 'cpu' or 'cuda'"
        )
    return tensor


def in_memory_tensors(data: Any) -> Batch | None:
    """The tensors of in-memory data (a tensor, a numpy array, a tuple or list of them, a TensorDataset), else None.

    Arguments:
        data: what was passed to the trainer.

    Returns:
        A tensor or a tuple of tensors (numpy arrays converted, floating ones to float32), or None when
        ``data`` is not held in memory in one of these forms.

    Example:
        >>> import numpy as np
        >>> in_memory_tensors(np.zeros((3, 2))).dtype
        torch.float32
        >>> in_memory_tensors([torch.zeros(3), np.arange(3)])[1].dtype
        torch.int64
        >>> in_memory_tensors(range(3)) is None
        True
    """
    if isinstance(data, TensorDataset):
        data = tuple(data.tensors)
    if isinstance(data, (torch.Tensor, np.ndarray)):
        return _as_tensor(data, "data")
    if (
        isinstance(data, (tuple, list))
        and data
        and all(isinstance(t, (torch.Tensor, np.ndarray)) for t in data)
    ):
        return tuple(_as_tensor(t, f"data[{i}]") for i, t in enumerate(data))
    return None


def _collated(batch: Any) -> Batch:
    """A DataLoader batch as a tensor or a tuple of tensors (lists from the default collate become tuples)."""
    if isinstance(batch, (torch.Tensor, np.ndarray)):
        return _as_tensor(batch, "batch")
    if isinstance(batch, (tuple, list)) and batch:
        return tuple(_as_tensor(t, f"batch[{i}]") for i, t in enumerate(batch))
    raise InputError(
        f"each batch must be a tensor or a tuple/list of tensors, got {type(batch).__name__}; "
        "give the DataLoader a collate_fn that returns tensors"
    )


def _dataset_length(dataset: Any) -> int | None:
    if isinstance(dataset, IterableDataset):
        return None
    try:
        return len(dataset)
    except TypeError:
        return None


class DeviceBatches:
    """Batches from a ``DataLoader`` (or any re-iterable of batches), moved to ``device`` one at a time.

    Arguments:
        batches: a ``torch.utils.data.DataLoader`` or another iterable that yields a tensor or a tuple/list of
            tensors per batch and can be iterated once per epoch.
        device: where each batch goes (with ``non_blocking`` when the loader pins memory).
        num_data: N, the number of examples in one pass, for minibatch scaling; by default the length of the
            loader's dataset. Required (InputError otherwise) when the data have no length (an IterableDataset).
        binarize: "dynamic" redraws x_b ~ Bernoulli(x) for the first tensor of every batch from ``generator``.
        generator: the random source for dynamic binarisation.
        world_size: the number of data-parallel processes; each yields its own shard (shard the data with a
            ``DistributedSampler``), and the global batch is taken to be ``world_size`` shards of equal size.

    A single-tensor batch stays a tensor; a list or tuple becomes a tuple.

    Exact resume: the state of the loader's and its sampler's ``torch.Generator`` (when they have one) is
    part of :meth:`rng_state`; a loader without one draws its shuffling seed from torch's global generator,
    which the trainer seeds and checkpoints, so either way a resumed run sees the same batch order. Random
    transforms inside workers are exact too (workers are seeded from that same draw), except with
    ``persistent_workers=True``, whose workers keep their random state across epochs.

    Example:
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> loader = DataLoader(TensorDataset(torch.arange(10.).unsqueeze(1)), batch_size=4)
        >>> batches = DeviceBatches(loader, torch.device("cpu"))
        >>> batches.num_examples, [len(b[0]) for b in batches]
        (10, [4, 4, 2])
    """

    def __init__(
        self,
        batches: Iterable[Any],
        device: torch.device,
        num_data: int | None = None,
        binarize: str | None = None,
        generator: torch.Generator | None = None,
        world_size: int = 1,
    ) -> None:
        dataset = getattr(batches, "dataset", None)
        length = _dataset_length(dataset) if dataset is not None else None
        if num_data is None:
            if length is None:
                raise InputError(
                    f"{type(dataset if dataset is not None else batches).__name__} has no length: pass num_data= "
                    "(the number of training examples in one pass) so that minibatch losses are scaled to the full data"
                )
            num_data = length
        self.num_examples = check_positive_int(num_data, "num_data")
        if binarize not in (None, "dynamic"):
            raise InputError(f"binarize must be None or 'dynamic', got {binarize!r}")
        self.batches = batches
        self.device = device
        self.binarize = binarize
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.world_size = check_positive_int(world_size, "world_size")
        self.non_blocking = bool(getattr(batches, "pin_memory", False)) and device.type == "cuda"
        #: the size of the global batch that the last yielded shard belongs to
        self.current_global_size = 0
        #: the number of examples the last complete pass yielded
        self.last_pass_examples = 0
        #: warn when a pass yields another number of examples than ``num_data`` (data without a length)
        self.check_count = length is None

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def _generators(self) -> dict[str, torch.Generator]:
        found: dict[str, torch.Generator] = {"binarize": self.generator}
        for name, owner in (
            ("loader", self.batches),
            ("sampler", getattr(self.batches, "sampler", None)),
            ("batch_sampler", getattr(getattr(self.batches, "batch_sampler", None), "sampler", None)),
        ):
            g = getattr(owner, "generator", None)
            if isinstance(g, torch.Generator) and all(g is not other for other in found.values()):
                found[name] = g
        return found

    def rng_state(self) -> dict[str, torch.Tensor]:
        """The states of every ``torch.Generator`` that decides the batches (loader, sampler, binarisation)."""
        return {name: g.get_state() for name, g in self._generators().items()}

    def set_rng_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore states from :meth:`rng_state`; a generator missing from ``state`` raises InputError."""
        generators = self._generators()
        if set(state) != set(generators):
            raise InputError(
                f"the saved batch generators {sorted(state)} do not match this loader's {sorted(generators)}"
            )
        for name, g in generators.items():
            g.set_state(state[name])

    def __iter__(self) -> Iterator[Batch]:
        count = 0
        for raw in self.batches:
            batch = _collated(raw)
            tensors = batch if isinstance(batch, tuple) else (batch,)
            moved = [t.to(self.device, non_blocking=self.non_blocking) for t in tensors]
            if self.binarize == "dynamic":
                check_range(moved[0], "batch[0]", 0.0, 1.0)
                noise = torch.rand(moved[0].shape, generator=self.generator)
                moved[0] = (noise.to(moved[0].device) < moved[0]).to(moved[0].dtype)
            size = len(moved[0])
            count += size
            self.current_global_size = size * self.world_size
            yield tuple(moved) if isinstance(batch, tuple) else moved[0]
        self.last_pass_examples = count
        if self.check_count and count * self.world_size != self.num_examples:
            warnings.warn(
                f"num_data={self.num_examples}, but one pass over the data yielded {count * self.world_size} examples; "
                "minibatch losses are scaled with num_data",
                stacklevel=2,
            )


def as_batches(
    data: Any,
    *,
    batch_size: int,
    shuffle: bool,
    device: torch.device,
    generator: torch.Generator | None = None,
    binarize: str | None = None,
    num_data: int | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> BatchLoader | DeviceBatches:
    """Turn training or validation data of any supported form into an iterable of device batches.

    * a tensor, a numpy array, a tuple or list of them, or a ``TensorDataset``: moved to ``device`` whole
      and served by a :class:`BatchLoader` (the fast path);
    * a :class:`BatchLoader`: used as is;
    * a ``DataLoader``: used as is (its own batch size, sampler, workers), batches moved one at a time;
    * a map-style ``Dataset``: read through a ``DataLoader`` with ``batch_size`` and, when ``shuffle``, a
      ``RandomSampler`` driven by ``generator`` (so that resume is exact);
    * an ``IterableDataset``: read through a ``DataLoader`` with ``batch_size``; ``num_data`` is required.

    Arguments:
        data: the data.
        batch_size: the minibatch size for tensors and Datasets (a DataLoader keeps its own).
        shuffle: reshuffle every epoch (tensors and map-style Datasets).
        device: the device batches are moved to.
        generator: the random source for shuffling and dynamic binarisation.
        binarize: "dynamic" to redraw binary data for every batch.
        num_data: N for minibatch scaling when the data have no length (otherwise their length).
        rank: this process's index in data-parallel training (tensors are sharded by the BatchLoader).
        world_size: the number of data-parallel processes.

    Returns:
        A :class:`BatchLoader` or a :class:`DeviceBatches`, each with ``num_examples`` (N).

    Example:
        >>> import numpy as np
        >>> loader = as_batches(np.ones((5, 2)), batch_size=2, shuffle=False, device=torch.device("cpu"))
        >>> type(loader).__name__, loader.num_examples, [len(b) for b in loader]
        ('BatchLoader', 5, [2, 2, 1])
    """
    if isinstance(data, (BatchLoader, DeviceBatches)):
        return data
    tensors = in_memory_tensors(data)
    if tensors is not None:
        if num_data is not None and check_positive_int(num_data, "num_data") != len(as_tuple(tensors)[0]):
            raise InputError(
                f"num_data={num_data} but the data hold {len(as_tuple(tensors)[0])} examples; omit num_data for in-memory data"
            )
        moved = tuple(t.to(device) for t in tensors) if isinstance(tensors, tuple) else tensors.to(device)
        return BatchLoader(
            moved,
            batch_size,
            shuffle=shuffle,
            binarize=binarize,
            generator=generator,
            rank=rank,
            world_size=world_size,
        )
    if isinstance(data, DataLoader):
        return DeviceBatches(data, device, num_data, binarize, generator, world_size)
    if isinstance(data, IterableDataset):
        if num_data is None:
            raise InputError(
                f"{type(data).__name__} is an IterableDataset and has no length: pass num_data= "
                "(the number of training examples in one pass) so that minibatch losses are scaled to the full data"
            )
        return DeviceBatches(
            DataLoader(data, batch_size=batch_size), device, num_data, binarize, generator, world_size
        )
    if isinstance(data, Dataset) or (
        hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(data, (str, bytes, dict))
    ):
        if _dataset_length(data) == 0:
            raise InputError("data is an empty Dataset")
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        sampler = PermutationSampler(len(data), generator) if shuffle else None
        # the loader's own draw (a base seed for workers) comes from a second generator, so that the global
        # torch generator is not consumed and the batch order equals the in-memory path's for the same seed
        worker_seeds = torch.Generator().manual_seed(generator.initial_seed() ^ 0x5EED)
        loader = DataLoader(
            data,
            batch_size=batch_size,
            sampler=sampler,
            generator=worker_seeds,
            pin_memory=device.type == "cuda",
        )
        return DeviceBatches(loader, device, num_data, binarize, generator, world_size)
    raise InputError(
        f"data must be a tensor, a numpy array, a tuple of them, a Dataset or a DataLoader, got {type(data).__name__}"
    )


def as_tuple(batch: Batch) -> tuple[torch.Tensor, ...]:
    """A batch as a tuple of tensors (a tensor becomes a 1-tuple).

    Arguments:
        batch: a tensor or a tuple of tensors.

    Example:
        >>> len(as_tuple(torch.zeros(2))), len(as_tuple((torch.zeros(2), torch.ones(2))))
        (1, 2)
    """
    return batch if isinstance(batch, tuple) else (batch,)
