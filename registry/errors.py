"""The exception tree of the registry.

    RegistryError                      root: catch this to catch everything the registry raises
    ├── ArtifactError                  a compiled contract cannot be found or read
    ├── ConfigurationError             a setting is missing or invalid (also a ValueError)
    └── KycRegistrationError           the identity registry refuses to register a wallet

Each error says what was wrong and what to do about it.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Root of every error raised by the registry."""


class ArtifactError(RegistryError, LookupError):
    """Raised when a contract artifact is unknown or unreadable."""


class ConfigurationError(RegistryError, ValueError):
    """Raised when a setting is missing or has an invalid value."""


class KycRegistrationError(RegistryError):
    """Raised when the identity registry refuses to register or update a wallet (e.g. a revoked investor)."""
