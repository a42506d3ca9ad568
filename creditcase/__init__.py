"""creditcase: administrative case handling with a mandatory credit check.

The package re-exports :data:`hookimpl` so that plugins never import pluggy
themselves.
"""

import pluggy

__version__ = "0.1.0"

#: Marker for plugin hook implementations (``@hookimpl``).
hookimpl = pluggy.HookimplMarker("creditcase")

__all__ = ["__version__", "hookimpl"]
