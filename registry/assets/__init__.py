"""Assets: issuing bonds, stocks and cash tokens, and every operation their contracts offer.

- `isin`, `terms`: validation of the terms before anything is sent;
- `issuance`: deployment and cataloguing under a stable registry id (`Issuer`);
- `tokens`: operations of every regulated token, with the compliance pre-check (`TokenService`);
- `precheck`: asking a token which rules a transfer or mint would break;
- `payments`: funding (with the cash approval) and withheld-payment checks;
- `bonds`, `stocks`, `cash`: each kind's issuance and own operations.
"""

from registry.assets.bonds import BondService, CouponScheduled
from registry.assets.cash import CashService
from registry.assets.issuance import Issuance, Issuer, PreparedIssue
from registry.assets.payments import Funding
from registry.assets.stocks import DividendDeclared, StockService
from registry.assets.terms import BondTerms, CashTerms, StockTerms, parse_terms
from registry.assets.tokens import TokenService

__all__ = [
    "BondService",
    "BondTerms",
    "CashService",
    "CashTerms",
    "CouponScheduled",
    "DividendDeclared",
    "Funding",
    "Issuance",
    "Issuer",
    "PreparedIssue",
    "StockService",
    "StockTerms",
    "TokenService",
    "parse_terms",
]
