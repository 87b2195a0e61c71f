"""Shared test settings: quiet warnings from dependencies and a deterministic torch."""

import os
import warnings

import torch

os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=FutureWarning)
torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
