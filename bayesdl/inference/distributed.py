"""Data-parallel training on ``torch.distributed``: process-group set-up and rank helpers.

Launch any script that calls ``Trainer(..., strategy="ddp")`` with ``torchrun``::

    torchrun --standalone --nproc_per_node 4 train.py                       # one machine, 4 GPUs
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 \\
             --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py          # on each of 2 machines

``torchrun`` sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; :func:`init_distributed`
reads them and picks the backend: NCCL when CUDA is available, gloo otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import InputError


@dataclass(frozen=True)
class DistributedInfo:
    """Where this process stands in a data-parallel job.

    Attributes:
        rank: this process's global index, 0 .. world_size-1.
        world_size: the number of processes W.
        local_rank: this process's index on its machine (the GPU it uses).
        backend: the ``torch.distributed`` backend, "nccl" or "gloo".

    Example:
        >>> info = DistributedInfo(rank=0, world_size=2, local_rank=0, backend="gloo")
        >>> info.is_main, DistributedInfo(1, 2, 1, "gloo").is_main
        (True, False)
    """

    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        """True on rank 0, the only process that writes files, logs and progress bars."""
        return self.rank == 0


def default_backend() -> str:
    """NCCL when CUDA is available, gloo on CPUs.

    Returns:
        "nccl" or "gloo".

    Example:
        >>> default_backend() == ("nccl" if torch.cuda.is_available() else "gloo")
        True
    """
    return "nccl" if torch.cuda.is_available() else "gloo"


def init_distributed(backend: str = "auto") -> DistributedInfo:
    """Join (or reuse) the default process group described by torchrun's environment variables.

    Arguments:
        backend: "auto" (NCCL on GPUs, gloo on CPUs), "nccl" or "gloo".

    Returns:
        The rank, world size, local rank and backend of this process.

    Raises:
        InputError: if no process group exists and the torchrun variables are missing.

    Example:
        Outside torchrun (and with no process group) it says what is missing:

        >>> import unittest.mock
        >>> with unittest.mock.patch.dict(os.environ, clear=True):
        ...     try:
        ...         init_distributed()
        ...     except InputError as err:
        ...         print(str(err)[:58])
        strategy='ddp' needs a process group: launch with torchrun
    """
    if dist.is_initialized():
        return DistributedInfo(
            dist.get_rank(),
            dist.get_world_size(),
            int(os.environ.get("LOCAL_RANK", dist.get_rank())),
            dist.get_backend(),
        )
    missing = [v for v in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
    if missing:
        raise InputError(
            "strategy='ddp' needs a process group: launch with torchrun (missing environment variables: "
            + ", ".join(missing)
            + ") or call torch.distributed.init_process_group first"
        )
    chosen = default_backend() if backend == "auto" else backend
    if chosen not in ("nccl", "gloo"):
        raise InputError(f"unknown backend {backend!r}; expected 'auto', 'nccl' or 'gloo'")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if chosen == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=chosen)
    return DistributedInfo(dist.get_rank(), dist.get_world_size(), local_rank, chosen)


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a few floats over all processes (identity without a process group).

    Arguments:
        values: the local values.
        device: the device of the reduction (a CUDA device for NCCL).

    Returns:
        The element-wise sums over processes (``values`` itself without a process group).

    Example:
        >>> all_reduce_sum([1.0, 2.5], torch.device("cpu"))
        [1.0, 2.5]
    """
    if not (dist.is_available() and dist.is_initialized()):
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def any_process(flag: bool, device: torch.device) -> bool:
    """True if ``flag`` is true on any process (so that every process takes the same branch).

    Arguments:
        flag: the local condition (e.g. "the loss is not finite").
        device: the device of the reduction.

    Returns:
        The logical OR of ``flag`` over processes.

    Example:
        >>> any_process(True, torch.device("cpu")), any_process(False, torch.device("cpu"))
        (True, False)
    """
    return all_reduce_sum([1.0 if flag else 0.0], device)[0] > 0


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now.

    Returns:
        The port number (another process may take it later; use it at once).

    Example:
        >>> 0 < free_port() < 65536
        True
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawned_entry(rank: int, fn, world_size: int, port: int, args: tuple) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world_size),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    try:
        fn(rank, *args)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def launch_local(fn, world_size: int, *args: object) -> None:
    """Run ``fn(rank, *args)`` in ``world_size`` processes on this machine with torchrun's variables set.

    A stand-in for ``torchrun --standalone --nproc_per_node W`` for tests and notebooks on one
    CPU machine (gloo on loopback). ``fn`` must be importable (defined at module level).

    Arguments:
        fn: the function to run; it receives the rank first, then ``*args``.
        world_size: the number of processes.
        *args: further arguments of ``fn`` (must be picklable).

    Returns:
        None, once every process has finished (an exception in any process is raised here).

    Example:
        Not run here (it spawns processes); see tests/test_distributed.py::

            launch_local(train_one_rank, 2, "runs/ddp")   # train_one_rank(rank, out) calls Trainer(strategy="ddp")

    References:
        Li et al. (2020), PyTorch Distributed: Experiences on Accelerating Data Parallel Training,
        arXiv:2006.15704.
    """
    import torch.multiprocessing as mp

    mp.spawn(_spawned_entry, args=(fn, world_size, free_port(), args), nprocs=world_size, join=True)
