"""What the trainer's per-step gradient check costs: one fused norm reduction, read with the loss in one host sync.

Before every optimizer step the trainer sums the per-tensor gradient norms of one fused ``_foreach_norm`` pass
(when ``clip_grad_norm`` is set, it uses the global norm that clipping computes anyway) and reads it together
with the loss in one device-to-host transfer, raising on NaN or inf. Before this check it read the loss alone. This script times
that check alone against a full training step (forward, backward, fused Adam) of the same model in the same
process, for the 784-400-50 MLP VAE of ``bench_vae.py`` and an MLP classifier on the 8x8 digits, and prints
the machine and ``torch.backends.cpu.get_cpu_capability()``.
Run: ``flock /tmp/bayesdl-heavy.lock python benchmarks/bench_grad_check.py``.
"""

from __future__ import annotations

import platform
import statistics
import time

import torch

from bayesdl.data import load_digits
from bayesdl.models.nets import MLP
from bayesdl.models.supervised import PlainNet
from bayesdl.models.vae import VAE, MLPDecoder, MLPEncoder


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        times.append(time.thread_time() - start)
    return statistics.median(times)


def measure(name: str, model: torch.nn.Module, batch: tuple, repeats: int = 300) -> dict[str, float]:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-3, fused=True)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = model.loss(*batch)
        loss.backward()
        opt.step()

    def check() -> None:  # what Trainer._train_epoch adds per step (without clipping)
        norm = torch.stack(torch._foreach_norm([p.grad for p in params if p.grad is not None])).sum()
        torch.stack([loss_value, norm]).tolist()

    def old_sync() -> None:  # what it did before: read the loss alone
        float(loss_value)

    loss_value = torch.zeros(())

    for _ in range(20):
        step()
    # interleave the two timings so that load on a shared machine hits both alike
    steps, checks, olds = [], [], []
    for _ in range(repeats // 10):
        steps.append(_median_seconds(step, 10))
        checks.append(_median_seconds(check, 10))
        olds.append(_median_seconds(old_sync, 10))
    t_step, t_check, t_old = statistics.median(steps), statistics.median(checks), statistics.median(olds)
    extra = t_check - t_old
    print(
        f"{name}: {sum(p.numel() for p in params)} parameters; step {t_step * 1e3:.3f} ms; loss+gradient check "
        f"{t_check * 1e6:.1f} us against {t_old * 1e6:.1f} us for reading the loss alone: +{extra * 1e6:.1f} us "
        f"= {100 * extra / t_step:.2f}% of a step"
    )
    return {"step_s": t_step, "check_s": t_check, "old_s": t_old}


def main() -> None:
    torch.set_num_threads(1)
    print(
        platform.processor() or platform.machine(),
        "| torch",
        torch.__version__,
        "| cpu capability",
        torch.backends.cpu.get_cpu_capability(),
    )
    torch.manual_seed(0)
    x = (torch.rand(128, 784) > 0.5).float()
    measure(
        "VAE 784-400-50, batch 128", VAE(MLPEncoder([784], 50, [400]), MLPDecoder(50, [784], [400])), (x,)
    )
    xd, yd = load_digits("train")
    measure("digits MLP 64-100-10, batch 100", PlainNet(MLP(64, [100], 10)), (xd[:100], yd[:100]))


if __name__ == "__main__":
    main()
