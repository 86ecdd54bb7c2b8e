"""Settings of the registry, read from ``REGISTRY_*`` environment variables.

=================================  =============================================================
variable                           meaning
=================================  =============================================================
``REGISTRY_DATA_DIR``              data directory (default ``./.registry``): chain databases
                                   under ``chains/<name>/``, the keystore, the index
``REGISTRY_PERMISSIONED_RPC_URL``  use this JSON-RPC node as the permissioned chain instead of
                                   the embedded one (e.g. a Besu/QBFT network)
``REGISTRY_PERMISSIONLESS_RPC_URL`` same for the permissionless chain (anvil, geth, an L2...)
``REGISTRY_PERMISSIONED_CHAIN_ID`` chain id of the embedded permissioned chain (771001)
``REGISTRY_PERMISSIONLESS_CHAIN_ID`` chain id of the embedded permissionless chain (771002)
``REGISTRY_BLOCK_GAS_LIMIT``       constant block gas limit of new embedded chains (30,000,000)
``REGISTRY_DEV_ACCOUNTS``          development accounts funded at genesis (10)
``REGISTRY_DEV_ACCOUNT_BALANCE_ETH`` their genesis balance in ether (1,000,000)
``REGISTRY_VALIDATORS``            validators of a new embedded permissioned chain (4)
``REGISTRY_BATCH_WINDOW_MS``       how long the block builder lets a burst gather (2 ms)
``REGISTRY_RECEIPT_WAIT_SECONDS``  how long a receipt request waits for a pending transaction (2 s)
``REGISTRY_KEYSTORE_PASSPHRASE``   passphrase of the custodial keystore (``<data dir>/keystore``); no
                                   default: keys cannot be created or unlocked without it
``REGISTRY_KEYSTORE_KDF_N``        scrypt work factor N of new key files (2**18, eth-account's
                                   default; a power of two; lower only in tests)
``REGISTRY_TRANSACTION_TIMEOUT_SECONDS`` how long custody waits for a sent transaction's receipt
                                   before reporting it as not landed (120 s)
``REGISTRY_DATABASE_URL``          the index database: a SQLAlchemy URL, ``postgresql://user@host/db``
                                   (driven by psycopg 3) or ``sqlite:///path``; default: the SQLite
                                   file ``<data dir>/index.sqlite3``
=================================  =============================================================

The passphrase and the database URL (which may hold a password) are `pydantic.SecretStr`: they show
as ``**********`` in every repr and log line; read the passphrase with
``settings.keystore_passphrase.get_secret_value()`` only where a key is encrypted or decrypted, and
the URL with `Settings.index_database_url` only where the database is opened.

An empty value counts as unset.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from registry.chain.names import ChainName
from registry.errors import ConfigurationError

DEFAULT_KDF_N = 2**18
"""scrypt work factor of new key files: eth-account's default, about a second per key on a laptop."""

MAX_KDF_N = 2**20
"""Largest accepted scrypt work factor (scrypt then needs 1 GiB of memory)."""


class Settings(BaseSettings):
    """Every setting of the registry; build one with ``Settings()`` to read the environment."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", env_ignore_empty=True, extra="ignore")

    data_dir: Path = Field(default=Path(".registry"), description="The data directory.")
    permissioned_rpc_url: str | None = Field(
        default=None, description="External node for the permissioned chain."
    )
    permissionless_rpc_url: str | None = Field(
        default=None, description="External node for the permissionless chain."
    )
    permissioned_chain_id: int = Field(
        default=771_001, gt=0, description="Chain id of the permissioned chain."
    )
    permissionless_chain_id: int = Field(
        default=771_002, gt=0, description="Chain id of the permissionless chain."
    )
    block_gas_limit: int = Field(default=30_000_000, ge=5_000, description="Block gas limit of new chains.")
    dev_accounts: int = Field(default=10, ge=1, le=1_000, description="Funded development accounts.")
    dev_account_balance_eth: int = Field(default=1_000_000, ge=0, description="Their balance in ether.")
    validators: int = Field(default=4, ge=1, le=100, description="Validators of a new permissioned chain.")
    batch_window_ms: float = Field(default=2.0, ge=0, le=10_000, description="Block builder batching window.")
    receipt_wait_seconds: float = Field(
        default=2.0, ge=0, le=600, description="Receipt wait for pending txs."
    )

    keystore_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of the custodial keystore; never logged or shown."
    )
    keystore_kdf_n: int = Field(
        default=DEFAULT_KDF_N, ge=2, le=MAX_KDF_N, description="scrypt work factor N of new key files."
    )
    transaction_timeout_seconds: float = Field(
        default=120.0, gt=0, le=86_400, description="Receipt deadline of a sent transaction."
    )
    database_url: SecretStr | None = Field(
        default=None, description="The index database (SQLAlchemy URL); default: SQLite in the data dir."
    )

    @field_validator("keystore_kdf_n")
    @classmethod
    def _check_kdf_n(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"scrypt's N is a power of two (e.g. 262144 = 2**18), got {value}")
        return value

    @field_validator("permissioned_rpc_url", "permissionless_rpc_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"a JSON-RPC URL starts with http:// or https://, got {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        scheme = value.get_secret_value().split("://", 1)[0] if "://" in value.get_secret_value() else ""
        backend = scheme.split("+", 1)[0]
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(
                f"the index database is PostgreSQL (postgresql://user@host:5432/dbname) or SQLite "
                f"(sqlite:///path/index.sqlite3); got a URL with scheme {scheme!r}"
            )
        return value

    @model_validator(mode="after")
    def _distinct_chain_ids(self) -> Settings:
        if self.permissioned_chain_id == self.permissionless_chain_id:
            raise ValueError(
                f"the two chains need different chain ids; both are {self.permissioned_chain_id}. "
                "Set REGISTRY_PERMISSIONED_CHAIN_ID or REGISTRY_PERMISSIONLESS_CHAIN_ID."
            )
        return self

    def chain_dir(self, name: ChainName) -> Path:
        """Folder of the embedded chain ``name`` inside the data directory."""
        return self.data_dir / "chains" / name

    def keystore_dir(self) -> Path:
        """Folder of the custodial keystore: one keystore v3 file per key."""
        return self.data_dir / "keystore"

    def index_database_url(self) -> str:
        """The index database's URL: ``REGISTRY_DATABASE_URL``, or the SQLite file in the data directory.

        A ``postgresql://`` (or ``postgres://``) URL is given psycopg 3 as its driver.
        """
        if self.database_url is None:
            return f"sqlite:///{(self.data_dir / 'index.sqlite3').resolve()}"
        url = self.database_url.get_secret_value()
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    def rpc_url(self, name: ChainName) -> str | None:
        """The external node configured for chain ``name``, if any."""
        return self.permissioned_rpc_url if name == "permissioned" else self.permissionless_rpc_url

    def chain_id(self, name: ChainName) -> int:
        """Chain id of the embedded chain ``name``."""
        return self.permissioned_chain_id if name == "permissioned" else self.permissionless_chain_id


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit ``overrides`` on top.

    Raises:
        ConfigurationError: a variable has an invalid value (the message names it).
    """
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"REGISTRY_{'_'.join(str(part) for part in error['loc']).upper() or 'SETTINGS'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
