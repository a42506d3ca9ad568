"""A third-party plugin for creditcase, packaged and installed like any other.

Two plugins in one distribution, each its own entry point in the
``creditcase.plugins`` group:

* ``sample_permit`` (:mod:`.permit`): the domain 户外广告设施设置许可, an outdoor
  advertising permit, with its application schema and its own decision rule;
* ``sample_province`` (:mod:`.channel`): a check channel that queries the
  provincial credit platform over HTTP and says "unavailable" when it cannot.

:mod:`.stub_service` is a stand-in for the provincial platform, for tests.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("creditcase-sample-plugin")
except PackageNotFoundError:  # imported from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
