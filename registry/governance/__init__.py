"""Governance of the permissioned chain: interventions and validator votes (`GovernanceService`)."""

from registry.governance.desks import GovernanceService

__all__ = ["GovernanceService"]
