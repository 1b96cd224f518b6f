"""TinCan core's version, in a module of its own so the compile caches can key on it."""

__version__ = "0.2.0"
