"""The JSON-RPC face of an embedded chain: one dispatcher, served in process and over HTTP.

``dispatcher`` answers the Ethereum JSON-RPC methods, ``serializers`` turns py-evm objects into
their JSON shapes, ``provider`` is the in-process web3.py provider, ``asgi`` is the same
dispatcher as an ASGI app (served alone or mounted by the HTTP API) and ``server`` runs
that app with uvicorn.
"""
