"""The package's version, in a module that imports nothing: every module that records it
(reports, the results cache, the native code cache) imports it from here, not from the
package, whose `__init__` loads the library API."""

__version__ = "0.1.0"
