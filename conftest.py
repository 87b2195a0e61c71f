"""Root pytest configuration: doctests run over the package, except the module that starts the CLI."""

collect_ignore = ["bayesdl/__main__.py", "examples", "benchmarks", "build"]
