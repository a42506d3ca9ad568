"""Subcommands of the ``creditcase`` command, one module per area; each module
defines a click group or command that ``creditcase.cli`` registers."""
