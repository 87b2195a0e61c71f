"""A learned embedding of class labels with an extra "null" label, for classifier-free guidance."""

from __future__ import annotations

import torch

from ..errors import InputError
from ..validation import check_positive_int, check_tensor


class LabelEmbedding(torch.nn.Module):
    """e(y) for labels y in 0..K, where the label K is the null token of the unconditional model.

    Classifier-free guidance trains one network for p(x | y) and p(x): the label is replaced by the null
    token with probability p_uncond during training (Ho & Salimans 2022). The embedding is added to a
    denoiser's time embedding; ``y=None`` means the null token for every row.

    Arguments:
        num_classes: K, the number of real classes (the table has K + 1 rows).
        dim: the embedding width.

    Example:
        >>> emb = LabelEmbedding(3, 4)
        >>> emb(torch.tensor([0, 3]), 2).shape, torch.equal(emb(None, 2), emb(torch.tensor([3, 3]), 2))
        (torch.Size([2, 4]), True)

    References:
        Ho & Salimans (2022), Classifier-Free Diffusion Guidance, arXiv:2207.12598.
    """

    def __init__(self, num_classes: int, dim: int) -> None:
        super().__init__()
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.table = torch.nn.Embedding(self.num_classes + 1, check_positive_int(dim, "dim"))

    def forward(self, y: torch.Tensor | None, batch: int) -> torch.Tensor:
        """Embeddings [batch, dim] of labels y [batch] (int, 0..K with K = null), or of the null token if y is None."""
        if y is None:
            y = torch.full((batch,), self.num_classes, dtype=torch.long, device=self.table.weight.device)
        check_tensor(y, "y", shape=[batch])
        if y.is_floating_point() or y.dtype == torch.bool:
            raise InputError(f"y must hold integer labels, got dtype {y.dtype}")
        if int(y.min()) < 0 or int(y.max()) > self.num_classes:
            raise InputError(
                f"y must hold labels in 0..{self.num_classes} ({self.num_classes} = null), "
                f"got [{int(y.min())}, {int(y.max())}]"
            )
        return self.table(y.long())


def add_label_embedding(
    temb: torch.Tensor, labels: LabelEmbedding | None, y: torch.Tensor | None, owner: str
) -> torch.Tensor:
    """``temb + labels(y)`` for a class-conditional denoiser; refuses ``y`` for an unconditional one (``labels`` None)."""
    if labels is not None:
        return temb + labels(y, len(temb))
    if y is not None:
        raise InputError(f"this {owner} is unconditional (num_classes=0); do not pass y")
    return temb
