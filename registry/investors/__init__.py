"""Investors: KYC onboarding on a chain's identity registry (`InvestorService`), and which registry each
chain uses (`IdentityRegistries`)."""

from registry.investors.onboarding import InvestorRecord, InvestorService, InvestorSpec, Registration
from registry.investors.registries import IdentityRegistries

__all__ = ["IdentityRegistries", "InvestorRecord", "InvestorService", "InvestorSpec", "Registration"]
