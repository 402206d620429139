"""Errors the rota raises; api/exceptions.py maps them to HTTP."""


class RotaError(Exception):
    """Base of the rota's domain errors."""


class RoleNotFound(RotaError):
    """No role has that id or bleep number."""


class NoHolderInChain(RotaError):
    """Nobody holds the role or any role in its fallback chain: a rota fault to report."""
