"""Tokenized-asset registry: bonds and stock tokens on a permissioned and a permissionless chain."""

__version__ = "0.1.0"
