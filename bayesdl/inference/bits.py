"""Bits per dimension (kept here for old imports): the helper lives in :mod:`bayesdl.results.bits`."""

from ..results.bits import bits_per_dim

__all__ = ["bits_per_dim"]
