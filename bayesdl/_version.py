"""The one place the bayesdl version is written.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``), ``bayesdl.__version__`` re-exports it, and the CLI
and the reports print it. This module imports nothing, so reading the version costs no torch import.
"""

__version__ = "0.2.0"
