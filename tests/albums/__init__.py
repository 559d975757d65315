"""Album library tests (a package, so this directory's conftest never shadows tests/conftest.py)."""
