"""The permissioned mode: quorum seals, validator votes, KYC'd senders and interventions.

``seals`` (extra data and seals), ``proposals`` (EIP-712 proposals and their store),
``quorum`` (the py-evm consensus class), ``validators`` (keys and votes), ``kyc`` (the
identity registry in genesis and the sender gate), ``interventions`` (freezes and rollbacks)
and ``mode`` (`PermissionedMode`, which plugs all of it into the node).
"""
