"""Execution without a transaction: ``eth_call``, ``eth_estimateGas`` and ``eth_createAccessList``.

`Calls` runs an unsigned transaction from any sender on a throw-away copy of the state after a
given block, inside that block's context, as geth and anvil do; nothing it does is kept. The
chain (`registry.chain.node.chain.EmbeddedChain`) holds its lock around every call.

*State overrides* (`AccountOverride`, geth's ``eth_call`` third parameter) change that copy
before the transaction runs: an account's balance, nonce or code, its whole storage
(``state``) or some slots (``stateDiff``).

*Access lists* are found as geth finds them: the transaction runs with an opcode table
that notes every storage slot it reads or writes (``SLOAD``, ``SSTORE``) and every account
it touches (``BALANCE``, ``EXTCODE*``, ``CALL``-family, ``SELFDESTRUCT``), except the sender,
the recipient (or created contract) and the precompiles; it then runs again with that list,
until the list no longer grows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from eth._utils.address import generate_contract_address
from eth.abc import BlockHeaderAPI, ComputationAPI, SignedTransactionAPI, StateAPI
from eth.chains.base import Chain
from eth.exceptions import Revert
from eth.vm import opcode_values as op
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address
from eth_utils.exceptions import ValidationError

from registry.chain.errors import ChainError, InsufficientFundsError, InvalidTransactionError
from registry.chain.node.builder import computation_error
from registry.chain.node.gas import data_floor_gas, intrinsic_gas

AccessList = tuple[tuple[bytes, tuple[int, ...]], ...]
"""An EIP-2930 access list: (address, storage slots) pairs."""

MAX_ACCESS_LIST_ROUNDS = 8
"""Runs `Calls.create_access_list` makes at most before giving up on a list that keeps growing."""

WARM_STATE_USES = 1_000
"""Calls served by one kept state before it is built afresh (its caches only grow meanwhile)."""

_SLOT_OPCODES = frozenset({op.SLOAD, op.SSTORE})
_ADDRESS_ON_TOP = frozenset({op.BALANCE, op.EXTCODESIZE, op.EXTCODECOPY, op.EXTCODEHASH, op.SELFDESTRUCT})
_ADDRESS_SECOND = frozenset({op.CALL, op.CALLCODE, op.DELEGATECALL, op.STATICCALL})
_ADDRESS_MASK = 2**160 - 1
_GAS_OBSERVERS = frozenset(
    {op.GAS, op.CALL, op.CALLCODE, op.DELEGATECALL, op.STATICCALL, op.CREATE, op.CREATE2}
)
"""Instructions whose effect depends on the gas left: after one of them, less gas may change the outcome."""
SSTORE_SENTRY = 2_300
"""EIP-2200: an ``SSTORE`` fails unless more than this much gas is left."""


@dataclass(frozen=True)
class AccountOverride:
    """What to change in one account before a call runs (fields left None are kept)."""

    balance: int | None = None
    nonce: int | None = None
    code: bytes | None = None
    state: Mapping[int, int] | None = None
    """The account's whole storage: every slot not listed reads as zero."""
    state_diff: Mapping[int, int] | None = None
    """Slots to set; the others keep their value."""


StateOverrides = Mapping[bytes, AccountOverride]
"""Account overrides by 20-byte address."""


def apply_overrides(state: StateAPI, overrides: StateOverrides) -> None:
    """Write ``overrides`` into ``state`` (a throw-away state: nothing here is ever persisted)."""
    for raw_address, change in overrides.items():
        address = Address(bytes(raw_address))
        if change.balance is not None:
            state.set_balance(address, change.balance)
        if change.nonce is not None:
            state.set_nonce(address, change.nonce)
        if change.code is not None:
            state.set_code(address, change.code)
        if change.state is not None:
            state.delete_storage(address)
            for slot, value in change.state.items():
                state.set_storage(address, slot, value)
        if change.state_diff is not None:
            for slot, value in change.state_diff.items():
                state.set_storage(address, slot, value)


class _AccessRecorder:
    """The accounts and slots an execution touched, in the order first touched."""

    def __init__(self, start: AccessList, excluded: set[bytes]) -> None:
        self.entries: dict[bytes, dict[int, None]] = {
            address: dict.fromkeys(slots) for address, slots in start
        }
        self.excluded = excluded

    def slot(self, address: bytes, slot: int) -> None:
        self.entries.setdefault(address, {})[slot] = None

    def account(self, address: bytes) -> None:
        if address not in self.excluded:
            self.entries.setdefault(address, {})

    def access_list(self) -> AccessList:
        return tuple((address, tuple(slots)) for address, slots in self.entries.items())


def _stack_int(value: int | bytes) -> int:
    return value if isinstance(value, int) else int.from_bytes(value, "big")


def _recording_table(opcodes: Mapping[int, Any], recorder: _AccessRecorder) -> dict[int, Any]:
    """``opcodes`` with the state-touching instructions noting what they touch before they run."""

    def wrap(value: int, instruction: Any) -> Callable[..., None]:
        def recorded(computation: Any) -> None:
            values = computation._stack.values
            if value in _SLOT_OPCODES:
                if values:
                    recorder.slot(bytes(computation.msg.storage_address), _stack_int(values[-1]))
            elif value in _ADDRESS_ON_TOP:
                if values:
                    recorder.account((_stack_int(values[-1]) & _ADDRESS_MASK).to_bytes(20, "big"))
            elif len(values) >= 2:
                recorder.account((_stack_int(values[-2]) & _ADDRESS_MASK).to_bytes(20, "big"))
            instruction(computation=computation)

        recorded.mnemonic = getattr(instruction, "mnemonic", "")  # type: ignore[attr-defined]
        return recorded

    watched = _SLOT_OPCODES | _ADDRESS_ON_TOP | _ADDRESS_SECOND
    return {value: wrap(value, entry) if value in watched else entry for value, entry in opcodes.items()}


_CALLS = frozenset({op.CALL, op.CALLCODE, op.DELEGATECALL, op.STATICCALL})
_VALUE_CALLS = frozenset({op.CALL, op.CALLCODE})
CALL_STIPEND = 2_300
"""Gas a value-carrying ``CALL`` or ``CALLCODE`` gives its callee on top of what it forwards."""


def _all_but_64th(gas: int) -> int:
    """EIP-150: the most gas a call or create can hand on out of ``gas``."""
    return gas - gas // 64


@dataclass
class _Frame:
    """One message frame of a watched execution (`_GasWatch`): what bounds how much less gas it may get."""

    parent: int | None
    """Index of the calling frame in `_GasWatch.frames`; None for the transaction's own frame."""
    request: int = 0
    """The gas its call asked for (the call's first argument)."""
    request_is_gas_left: bool = False
    """The request was pushed by ``GAS`` right before the call: it falls with the caller's gas left."""
    available: int = 0
    """The caller's gas left when the call handed gas on (its own costs charged): the 63/64 rule's base."""
    given: int = 0
    """Gas the call handed on (the stipend of a value transfer left out)."""
    least_left: int | None = None
    """The least gas this frame had left at a checkpoint: where it handed gas on to a call, and at its end.
    Between two checkpoints the gas left only falls, so every step of the frame had at least this much."""
    least_at_sstore: int | None = None
    """The least gas left when an ``SSTORE`` of this frame began."""

    def note_left(self, left: int) -> None:
        if self.least_left is None or left < self.least_left:
            self.least_left = left


class _GasWatch:
    """What one execution did that might make it go differently with less gas (`Calls.estimate_gas`).

    Calls are followed frame by frame (`_Frame`): how much gas each was handed and the least it had
    left, so that `holds_with_less` can tell, from this run alone, whether the same execution would
    also go through with a smaller gas limit. ``GAS`` read for a call's request right before the call
    (as Solidity forwards all the gas left) is part of that; ``GAS`` read for anything else, a create,
    or a callee that failed other than by reverting (which burns all its gas) make the run unfit for
    that (`observed`), and the estimate runs again instead.
    """

    def __init__(self) -> None:
        self.observed = False
        """Something ran whose outcome may depend on the gas left in a way the frames do not capture."""
        self.frames: list[_Frame] = []
        self._open: list[int] = []
        self._pending: tuple[Any, int, bool, int] | None = None
        self._gas_for_call: Any = None

    def reset(self) -> None:
        self.observed = False
        self.frames = []
        self._open = []
        self._pending = None
        self._gas_for_call = None

    @property
    def least_at_sstore(self) -> int | None:
        """The least gas left when an ``SSTORE`` began, in any frame."""
        values = [f.least_at_sstore for f in self.frames if f.least_at_sstore is not None]
        return min(values) if values else None

    @property
    def called(self) -> bool:
        """A call handed gas on to another frame."""
        return len(self.frames) > 1

    # -- what the instructions report --

    def read_gas(self, computation: Any) -> None:
        """``GAS`` ran; it is fine only as the request of the call that comes right after it."""
        code = computation.code
        following = code._raw_code_bytes[code.program_counter : code.program_counter + 1]
        if following and following[0] in _CALLS:
            self._gas_for_call = computation
        else:
            self.observed = True

    def calling(self, computation: Any, opcode: int) -> None:
        """A call instruction is about to run in ``computation`` (its arguments still on the stack)."""
        values = computation._stack.values
        gas_left_request = self._gas_for_call is computation
        self._gas_for_call = None
        if not values:
            return
        request = _stack_int(values[-1])
        stipend = 0
        if opcode in _VALUE_CALLS and len(values) >= 3 and _stack_int(values[-3]):
            stipend = CALL_STIPEND
        self._pending = (computation, request, gas_left_request, stipend)

    def called_done(self) -> None:
        self._pending = None

    def storing(self, left: int) -> None:
        if self._open:
            frame = self.frames[self._open[-1]]
            if frame.least_at_sstore is None or left < frame.least_at_sstore:
                frame.least_at_sstore = left

    def enter(self, message: Any) -> None:
        """A frame begins (the transaction's own, or a callee's)."""
        parent = self._open[-1] if self._open else None
        frame = _Frame(parent)
        pending, self._pending = self._pending, None
        if parent is not None:
            if pending is None:
                self.observed = True  # handed gas by something other than a watched call
            else:
                caller, request, gas_left_request, stipend = pending
                given = int(message.gas) - stipend
                available = int(caller.get_gas_remaining()) + given
                if given != min(request, _all_but_64th(available)):
                    self.observed = True  # not the rule this watch assumes
                frame.request, frame.request_is_gas_left = request, gas_left_request
                frame.available, frame.given = available, given
                self.frames[parent].note_left(available)
        self.frames.append(frame)
        self._open.append(len(self.frames) - 1)

    def leave(self, computation: Any) -> None:
        """The innermost open frame ended."""
        index = self._open.pop()
        if computation.is_error and not isinstance(computation.error, Revert) and index != 0:
            self.observed = True  # it burnt what it was given, which depends on the gas left
        self.frames[index].note_left(int(computation.get_gas_remaining()))

    # -- the verdict --

    def holds_with_less(self, less: int) -> bool:
        """True when this run, given ``less`` gas fewer at the start, provably takes the same steps and
        succeeds.

        With the same steps every instruction costs the same, so each frame has a fixed amount less at
        every step: the transaction's frame ``less``; a callee what its call hands on less. A call
        forwarding the caller's gas (``GAS`` as its request, or a request above what it may hand on)
        hands on 63/64 of what the caller has left after its costs, so its callee gets a little less
        than its caller lost; a call with a smaller fixed request hands on the same until the caller
        cannot afford it. The steps stay the same as long as no frame runs short anywhere (its least
        gas left at a checkpoint still covers what it gets less) and every ``SSTORE`` still finds more
        than `SSTORE_SENTRY` left; nothing else in a watched run reads the gas left.
        """
        if self.observed or not self.frames:
            return False
        fewer: list[int] = []
        for frame in self.frames:
            if frame.parent is None:
                short = less
            else:
                above = fewer[frame.parent]
                if frame.available < above:
                    return False
                request = frame.request - above if frame.request_is_gas_left else frame.request
                short = frame.given - min(request, _all_but_64th(frame.available - above))
            if short < 0 or frame.least_left is None or frame.least_left < short:
                return False
            if frame.least_at_sstore is not None and frame.least_at_sstore - short <= SSTORE_SENTRY:
                return False
            fewer.append(short)
        return True


def _gas_watching_class(base_class: type, watch: _GasWatch) -> type:
    """``base_class`` with an opcode table and frame hooks that report to ``watch``."""
    opcodes: Mapping[int, Any] = cast(Any, base_class).opcodes

    def named(wrapper: Callable[..., None], instruction: Any) -> Callable[..., None]:
        wrapper.mnemonic = getattr(instruction, "mnemonic", "")  # type: ignore[attr-defined]
        return wrapper

    def observer(instruction: Any) -> Callable[..., None]:
        def watched(computation: Any) -> None:
            watch.observed = True
            instruction(computation=computation)

        return named(watched, instruction)

    def gas(instruction: Any) -> Callable[..., None]:
        def watched(computation: Any) -> None:
            instruction(computation=computation)
            watch.read_gas(computation)

        return named(watched, instruction)

    def call(value: int, instruction: Any) -> Callable[..., None]:
        def watched(computation: Any) -> None:
            watch.calling(computation, value)
            try:
                instruction(computation=computation)
            finally:
                watch.called_done()

        return named(watched, instruction)

    def sstore(instruction: Any) -> Callable[..., None]:
        def watched(computation: Any) -> None:
            watch.storing(computation._gas_meter.gas_remaining)
            instruction(computation=computation)

        return named(watched, instruction)

    table = dict(opcodes)
    for value in (_GAS_OBSERVERS - _CALLS - {op.GAS}) & table.keys():
        table[value] = observer(table[value])
    for value in _CALLS & table.keys():
        table[value] = call(value, table[value])
    if op.GAS in table:
        table[op.GAS] = gas(table[op.GAS])
    if op.SSTORE in table:
        table[op.SSTORE] = sstore(table[op.SSTORE])

    base: Any = base_class

    def apply_computation(
        cls: Any, state: Any, message: Any, transaction_context: Any, parent_computation: Any = None
    ) -> Any:
        watch.enter(message)
        computation = None
        try:
            computation = base.apply_computation.__func__(
                cls, state, message, transaction_context, parent_computation=parent_computation
            )
        finally:
            if computation is None:
                watch.observed = True  # py-evm raised out of the frame: nothing to judge by
                watch._open.pop()
        watch.leave(computation)
        return computation

    return type(
        "GasWatchingComputation",
        (base_class,),
        {"opcodes": table, "apply_computation": classmethod(apply_computation)},
    )


class Calls:
    """Read-only execution on the states of one py-evm chain; not thread-safe (the chain holds its lock)."""

    def __init__(self, py_evm: Chain) -> None:
        self._py_evm = py_evm
        # The state after the block last asked about, kept between calls: building a state and
        # reading its accounts and slots back from the database cost more than running an
        # ERC-20 transfer. Keyed by block hash, which fixes the state's content.
        self._kept: tuple[bytes, StateAPI] | None = None
        self._kept_uses = 0
        self._watch = _GasWatch()
        self._watching: dict[type, type] = {}

    @contextlib.contextmanager
    def state_after(
        self, target: BlockHeaderAPI, overrides: StateOverrides | None = None
    ) -> Iterator[StateAPI]:
        """The state after block ``target``, executing inside that block's context, with ``overrides``.

        As geth and anvil answer ``eth_call`` at a block: ``block.number`` and
        ``block.timestamp`` are the block's own (so a view at "latest" sees the time the
        clock was moved to), the base fee is zero, and every change is discarded.
        """
        state = self._state_for(target)
        snapshot = state.snapshot()
        try:
            if overrides:
                apply_overrides(state, overrides)
            yield state
        finally:
            state.revert(snapshot)

    def _state_for(self, target: BlockHeaderAPI) -> StateAPI:
        """The state after ``target`` in that block's context with a zero base fee: the kept one when it
        is for the same block, else a new one, kept from now on. Every use must revert what it did."""
        kept = self._kept
        if kept is not None and kept[0] == target.hash and self._kept_uses < WARM_STATE_USES:
            self._kept_uses += 1
            return kept[1]
        vm: Any = self._py_evm.get_vm(target)  # chain_context is on py-evm's VM, not on its API class
        header = target.copy(base_fee_per_gas=0)
        state: StateAPI = vm.build_state(vm.chaindb.db, header, vm.chain_context, vm.previous_hashes or ())
        self._kept = (bytes(target.hash), state)
        self._kept_uses = 1
        return state

    def call(
        self,
        tx: SignedTransactionAPI | Any,
        sender: bytes,
        target: BlockHeaderAPI,
        overrides: StateOverrides | None = None,
    ) -> bytes:
        """Execute the unsigned ``tx`` from ``sender`` on the state after ``target`` (with ``overrides``)
        and return its output, without a fee and without keeping any change.

        Raises:
            RevertError: the call reverted (``data`` holds the revert payload).
            ExecutionFailedError: it failed otherwise (out of gas, invalid opcode).
            InsufficientFundsError, NonceError: the call itself is invalid.
        """
        with self.state_after(target, overrides) as state:
            spoof = _spoof(tx, sender, state)
            try:
                computation = state.costless_execute_transaction(spoof)
            except ValidationError as exc:
                raise _call_validation_error(exc, sender) from exc
        error = computation_error(computation)
        if error is not None:
            raise error
        return bytes(computation.output)

    def estimate_gas(
        self,
        tx: SignedTransactionAPI | Any,
        sender: bytes,
        target: BlockHeaderAPI,
        overrides: StateOverrides | None = None,
    ) -> int:
        """The smallest gas limit with which ``tx`` from ``sender`` succeeds on the state after ``target``
        (with ``overrides``); never below what submission demands (`registry.chain.node.gas`).

        Runs the transaction once with the block gas limit, watching what it does: when nothing in
        that run depends on the gas left but the ``SSTORE`` sentry, that run alone gives the answer
        (`_exact_from_watched_run`).
        Otherwise it checks that the gas consumed suffices, and only when it does not (63/64 rule,
        the ``SSTORE`` sentry, a contract reading ``GAS``) does it search, to the exact gas.

        Raises:
            RevertError, ExecutionFailedError: the transaction fails even with all the block's gas.
        """
        with self.state_after(target, overrides) as state:
            cap = int(state.gas_limit)

            def attempt(gas: int, watched: bool = False) -> tuple[bool, Any]:
                spoof = _spoof(tx, sender, state, gas=gas)
                snapshot = state.snapshot()
                base_class = state.computation_class
                if watched:
                    # An instance attribute: only this state runs the watching table, and only now.
                    state.computation_class = self._watching_class(base_class)
                try:
                    computation = state.costless_execute_transaction(spoof)
                except ValidationError as exc:
                    raise _call_validation_error(exc, sender) from exc
                finally:
                    state.computation_class = base_class
                    state.revert(snapshot)
                return (not computation.is_error), computation

            self._watch.reset()
            ok, computation = attempt(cap, watched=True)
            if not ok:
                error = computation_error(computation)
                assert error is not None
                raise error
            left = int(computation.get_gas_remaining())
            consumed = cap - left
            low = max(consumed, intrinsic_gas(tx), data_floor_gas(tx))
            exact = self._exact_from_watched_run(tx, cap, left, low)
            if exact is not None:
                return exact
            if attempt(low)[0]:
                return low
            # ``low`` fails, ``cap`` succeeds. What is usually missing is the sentry of a last SSTORE or
            # the 64th a call keeps back, so try just above that first, then search to the gas.
            high = cap
            hint = (consumed + SSTORE_SENTRY) * 64 // 63
            if low < hint < high:
                if attempt(hint)[0]:
                    high = hint
                else:
                    low = hint
            while high - low > 1:
                middle = (low + high) // 2
                if attempt(middle)[0]:
                    high = middle
                else:
                    low = middle
            return high

    def _watching_class(self, base_class: type) -> type:
        """``base_class`` with the opcode table that reports to `_watch` (made once per class)."""
        watching = self._watching.get(base_class)
        if watching is None:
            watching = _gas_watching_class(base_class, self._watch)
            self._watching[base_class] = watching
        return watching

    def _exact_from_watched_run(self, tx: Any, cap: int, left: int, low: int) -> int | None:
        """The answer, from the watched run alone (which had ``cap`` gas and ended with ``left``), when
        nothing in it depends on the gas left but the ``SSTORE`` sentry; None when it takes more runs.

        With no instruction that reads the gas left or hands it on (`_GAS_OBSERVERS`: ``GAS``, and the
        calls and creates, whose 63/64 rule gives a callee less), an execution takes the same path
        whatever its gas limit: each instruction costs the same, so with a limit ``cap - d`` the gas
        left at every step is ``d`` less. It runs out nowhere as long as the limit covers what was
        consumed (``low``), and each ``SSTORE`` still finds more than `SSTORE_SENTRY` left as long as
        the least gas left at one of them, ``d`` less, stays above it. Any smaller limit fails at the
        step that decides it, so the larger of the two bounds is the smallest limit that succeeds.
        Contract creations are left to the other runs (the code deposit is charged after the
        execution).

        With calls, what a callee gets less is not what its caller got less (the 63/64 rule), so the
        smallest limit cannot be read off as simply; but whether ``low`` itself succeeds can
        (`_GasWatch.holds_with_less`): when it does, ``low`` is the answer, as the run with ``low``
        that would otherwise follow finds. A token transfer that asks a registry contract whether
        its parties may hold the token is such a case: one execution, not two.
        """
        watch = self._watch
        if watch.observed or not tx.to:
            return None
        if watch.called:
            return low if watch.holds_with_less(cap - low) else None
        if watch.least_at_sstore is None:
            return low
        return max(low, cap - watch.least_at_sstore + SSTORE_SENTRY + 1)

    def create_access_list(
        self, tx: SignedTransactionAPI | Any, sender: bytes, target: BlockHeaderAPI
    ) -> tuple[AccessList, int]:
        """The access list ``tx`` from ``sender`` needs on the state after ``target``, and the gas it
        uses with that list (see the module docstring).

        Raises:
            RevertError, ExecutionFailedError: the transaction fails.
            ChainError: the list still grew after `MAX_ACCESS_LIST_ROUNDS` runs.
        """
        with self.state_after(target) as state:
            to = (
                bytes(tx.to)
                if tx.to
                else bytes(generate_contract_address(Address(sender), state.get_nonce(Address(sender))))
            )
            excluded = {
                bytes(sender),
                to,
                *(bytes(address) for address in state.computation_class.get_precompiles()),
            }
            access_list: AccessList = tuple(getattr(tx, "access_list", ()) or ())
            base_class = state.computation_class
            for _round in range(MAX_ACCESS_LIST_ROUNDS):
                recorder = _AccessRecorder(access_list, excluded)
                attempt = self._with_access_list(tx, access_list)
                recording = type(
                    "AccessListComputation",
                    (base_class,),
                    {"opcodes": _recording_table(base_class.opcodes, recorder)},
                )
                snapshot = state.snapshot()
                # An instance attribute: only this throw-away state runs the recording table.
                state.computation_class = recording
                try:
                    computation = state.costless_execute_transaction(_spoof(attempt, sender, state))
                except ValidationError as exc:
                    raise _call_validation_error(exc, sender) from exc
                finally:
                    state.computation_class = base_class
                    state.revert(snapshot)
                error = computation_error(computation)
                if error is not None:
                    raise error
                found = recorder.access_list()
                if _same_access_list(found, access_list):
                    return access_list, _gas_used(attempt, computation)
                access_list = found
        raise ChainError(
            f"the access list of this call kept growing after {MAX_ACCESS_LIST_ROUNDS} runs; "
            "send the transaction without one"
        )

    def _with_access_list(self, tx: Any, access_list: AccessList) -> Any:
        """``tx`` as an unsigned EIP-2930 transaction carrying ``access_list``."""
        if not access_list and not getattr(tx, "access_list", ()):
            return tx
        return self.unsigned_transaction_like(tx, access_list)

    def unsigned_transaction_like(self, tx: Any, access_list: AccessList) -> Any:
        """An unsigned EIP-2930 copy of ``tx`` with ``access_list`` (charged as intrinsic gas)."""
        builder: Any = self._py_evm.get_vm_class(self._py_evm.get_canonical_head()).get_transaction_builder()
        return builder.new_unsigned_access_list_transaction(
            chain_id=self._py_evm.chain_id,
            nonce=0,
            gas_price=0,
            gas=tx.gas,
            to=tx.to,
            value=tx.value,
            data=tx.data,
            access_list=access_list,
        )

    def unsigned_transaction(
        self,
        head: BlockHeaderAPI,
        *,
        to: bytes,
        data: bytes,
        value: int = 0,
        gas: int | None = None,
        gas_price: int = 0,
        access_list: AccessList = (),
    ) -> Any:
        """An unsigned transaction for `call`, `estimate_gas` and `create_access_list` (``to=b""``
        creates a contract): legacy, or EIP-2930 when it carries an access list."""
        tx = self._py_evm.get_vm_class(head).create_unsigned_transaction(
            nonce=0,
            gas_price=gas_price,
            gas=gas if gas is not None else int(head.gas_limit),
            to=Address(to),
            value=value,
            data=data,
        )
        return self.unsigned_transaction_like(tx, access_list) if access_list else tx


def _same_access_list(first: AccessList, second: AccessList) -> bool:
    return {a: frozenset(s) for a, s in first} == {a: frozenset(s) for a, s in second}


def _gas_used(tx: Any, computation: ComputationAPI) -> int:
    """The gas a transaction's receipt would show: refunds applied, the calldata floor respected."""
    spent = int(tx.gas) - int(computation.get_gas_remaining())
    refund = min(int(computation.get_gas_refund()), spent // 5)
    return max(spent - refund, data_floor_gas(tx))


def _spoof(tx: Any, sender: bytes, state: StateAPI, gas: int | None = None) -> SignedTransactionAPI:
    overrides: dict[str, Any] = {"nonce": state.get_nonce(Address(sender))}
    if gas is not None:
        overrides["gas"] = gas
    return cast(SignedTransactionAPI, SpoofTransaction(tx, from_=sender, **overrides))


def _call_validation_error(exc: ValidationError, sender: bytes) -> ChainError:
    text = str(exc)
    if "balance" in text.lower() or "afford" in text.lower():
        return InsufficientFundsError(
            f"insufficient funds for the call's value: sender 0x{sender.hex()}: {text}"
        )
    return InvalidTransactionError(f"the call from 0x{sender.hex()} is invalid: {text}")
