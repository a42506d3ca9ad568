"""Plugins that are broken on purpose: creditcase must refuse to start with them."""
