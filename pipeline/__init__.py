"""minutes: clean text and tidy tables from archived Swedish meeting minutes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("minutes")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
