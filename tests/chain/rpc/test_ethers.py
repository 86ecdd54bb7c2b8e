"""What an ethers v6 user sees of the permissioned chain's refusal of an unverified sender.

ethers turns a JSON-RPC error into its own: for ``eth_sendRawTransaction`` it recognises only
a few geth texts (insufficient funds, nonce too low, underpriced replacement...) and heads
anything else "could not coalesce error", keeping the node's message further on; for
``eth_estimateGas`` and ``eth_call`` it heads the error with the revert reason it finds in
``data``. The tests run the pinned ethers (scripts/install_ethers.py) with Node, and skip
when Node is absent.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from registry.chain.errors import SenderNotPermittedError
from registry.chain.rpc.dispatcher import RpcDispatcher, error_object
from registry.chain.rpc.server import RpcServerThread
from tests.chain.conftest import ROOT
from tests.chain.permissioned_support import CHAIN_ID, fund, open_permissioned, signed

SCRIPT = """
const { ethers } = require("ethers");
const [url, key, chainId, estimateError] = process.argv.slice(2);

function shown(error) {
  const { code, shortMessage, message } = error;
  return { code, shortMessage, message, reason: error.reason ?? null };
}

(async () => {
  const network = ethers.Network.from(Number(chainId));
  const provider = new ethers.JsonRpcProvider(url, network, { staticNetwork: network });
  const wallet = new ethers.Wallet(key, provider);
  const out = {};
  try {
    await wallet.sendTransaction({
      to: wallet.address, value: 1n, gasLimit: 21000n, maxFeePerGas: 50n * 10n ** 9n,
      maxPriorityFeePerGas: 10n ** 9n, nonce: 0, chainId: Number(chainId), type: 2,
    });
    out.send = null;
  } catch (error) {
    out.send = shown(error);
  }
  const transaction = { from: wallet.address, to: wallet.address };
  const payload = { method: "eth_estimateGas", params: [transaction], id: 1, jsonrpc: "2.0" };
  const response = { id: 1, jsonrpc: "2.0", error: JSON.parse(estimateError) };
  out.estimate = shown(provider.getRpcError(payload, response));
  provider.destroy();
  console.log(JSON.stringify(out));
})();
"""


@pytest.fixture(scope="module")
def ethers_modules() -> Path:
    if shutil.which("node") is None:
        pytest.skip("Node is not installed: the ethers checks need it")
    spec = importlib.util.spec_from_file_location("install_ethers", ROOT / "scripts" / "install_ethers.py")
    assert spec is not None and spec.loader is not None
    installer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(installer)
    try:
        return Path(installer.ensure_ethers())
    except installer.EthersUnavailableError as exc:
        pytest.skip(f"ethers cannot be had on this machine: {exc}")


def run_ethers(modules: Path, folder: Path, *args: str) -> dict[str, Any]:
    script = folder / "ethers_check.js"
    script.write_text(SCRIPT)
    result = subprocess.run(
        ["node", str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NODE_PATH": str(modules)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_ethers_shows_the_kyc_refusal(ethers_modules, tmp_path):
    chain, _mode = open_permissioned(sealing="instant")
    try:
        outsider = Account.create()
        fund(chain, outsider.address)
        # The refusal as the chain raises it for this sender, shaped as it answers eth_estimateGas.
        with pytest.raises(SenderNotPermittedError) as refusal:
            chain.send_raw_transaction(
                signed(chain, outsider, to=outsider.address, value=1, gas=21_000, nonce=0)
            )
        reason = str(refusal.value)
        estimate_error = error_object(refusal.value, "eth_estimateGas")
        # Whichever method met the refusal, the client gets the same error, led by the reason.
        assert error_object(refusal.value, "eth_sendRawTransaction") == estimate_error
        assert estimate_error["message"].startswith(reason)
        with RpcServerThread(RpcDispatcher(chain)) as server:
            seen = run_ethers(
                ethers_modules,
                tmp_path,
                server.url,
                outsider.key.hex(),
                str(CHAIN_ID),
                json.dumps(estimate_error),
            )
    finally:
        chain.close()
    assert "KYC" in reason
    # A broadcast: ethers has no category for it, but keeps the node's reason in its message.
    assert seen["send"]["code"] == "UNKNOWN_ERROR"
    assert seen["send"]["shortMessage"] == "could not coalesce error"
    assert json.dumps(reason)[1:-1] in seen["send"]["message"]
    # An estimate (what a wallet asks first): the reason is the headline.
    assert seen["estimate"]["code"] == "CALL_EXCEPTION"
    assert seen["estimate"]["shortMessage"] == f"execution reverted: {json.dumps(reason)}"
    assert seen["estimate"]["reason"] == reason
