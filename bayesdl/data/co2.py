"""The Mauna Loa CO2 series (Keeling et al.), read from the copy that ships with statsmodels."""

from __future__ import annotations

import numpy as np
import torch


def load_co2_monthly() -> tuple[torch.Tensor, torch.Tensor]:
    """Monthly mean atmospheric CO2 at Mauna Loa, 1958-2001, without missing months.

    statsmodels ships the weekly record (``statsmodels.datasets.co2``); this averages it by calendar month
    and drops months with no reading, so no value is interpolated. Nothing is downloaded.

    Returns:
        ``(t, co2)``: decimal years, shape [N, 1], and the concentration in ppm, shape [N]; both float32.

    Example:
        >>> t, co2 = load_co2_monthly()
        >>> t.shape[1], len(t) == len(co2), bool(co2[-1] > co2[0])
        (1, True, True)

    References:
        Keeling, Bacastow, Carter, Piper, Whorf, Heimann, Mook & Roeloffzen (1989), A three-dimensional model of
        atmospheric CO2 transport based on observed winds, Geophysical Monograph 55 (the Mauna Loa record).
    """
    from statsmodels.datasets import co2

    monthly = co2.load_pandas().data["co2"].resample("MS").mean().dropna()
    years = monthly.index.year + (monthly.index.month - 1) / 12.0
    return (
        torch.as_tensor(np.asarray(years, dtype=np.float64), dtype=torch.float32).unsqueeze(1),
        torch.as_tensor(np.array(monthly.to_numpy(dtype=np.float64)), dtype=torch.float32),
    )
