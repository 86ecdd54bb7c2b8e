"""The embedded node: py-evm driven directly, with a pool, a block builder, a VM and storage.

``chain`` (`EmbeddedChain`) ties the parts together; ``modes`` is the seam a chain mode plugs
into (``host`` is what a mode sees of the chain); ``pool``, ``builder``, ``calls``, ``vm``
(with ``interpreter``, ``trie``, ``rlpcodec``), ``senders`` and ``storage`` are its parts.
Nothing here knows the permissioned mode (`registry.chain.consensus`) or JSON-RPC
(`registry.chain.rpc`).
"""
