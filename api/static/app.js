// The workshop dashboard: reads the registry's HTTP API with the key pasted in the page (kept in this tab's
// sessionStorage, sent as `Authorization: Bearer`, never in a URL) and follows GET /events, the server-sent
// event stream, through fetch() and a stream reader so that the header can be sent.
//
// Which panels work depends on the routes this server has: the page reads /openapi.json first and asks
// only for routes that exist (a missing one shows "not available on this server"), and reads each
// operation's `x-roles` to disable what the key's role may not do, saying which roles may.
//
// Everything the API returns is written with textContent (never as HTML): token names and symbols are
// chosen by whoever issued them.
"use strict";

(() => {
  const KEY_STORE = "registry.apiKey";
  const CHAINS = ["permissioned", "permissionless"];
  const MAX_BLOCKS = 8;
  const MAX_TXS = 6;
  const MAX_REFUSALS = 4;
  const POLL_MS = 2000;
  const REFRESH_MS = 5000;

  // What each role may do (the API's roles; each operation's own list is its `x-roles`).
  const ROLE_TEXT = {
    admin: "may do everything, keys included",
    issuer: "may issue assets and run its own",
    agent: "may enforce (pause, freeze, force) on the assets assigned to it",
    "kyc-provider": "may register investors and manage their KYC",
    validator: "may sign votes and interventions as its validator",
    investor: "may send from its own wallets",
    auditor: "read-only: it may watch everything and change nothing",
  };

  const state = {
    key: null,
    role: null,
    paths: {},
    generation: 0,
    lastEventId: null,
    streaming: false,
    chains: {},
    blocks: { permissioned: new Map(), permissionless: new Map() },
    txs: { permissioned: [], permissionless: [] },
    refusals: { permissioned: [], permissionless: [] },
    validators: [],
    threshold: null,
    interventions: new Map(),
    assets: [],
    asset: null,
    demoRun: null,
    timers: [],
  };

  // ---- small helpers -------------------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);

  function el(tag, attrs, ...children) {
    const svg = ["svg", "rect", "text", "g"].includes(tag);
    const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "on") for (const [kind, fn] of Object.entries(value)) node.addEventListener(kind, fn);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fill(container, ...children) {
    container.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  }

  function short(value) {
    const text = String(value ?? "");
    return /^0x[0-9a-fA-F]{16,}$/.test(text) ? `${text.slice(0, 6)}…${text.slice(-4)}` : text;
  }

  function clock(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().slice(11, 19) + " UTC";
  }

  function randomKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function unavailable(what) {
    return el("p", { class: "unavailable", text: `Not available on this server (${what} is not served here).` });
  }

  // The route `method path` (an OpenAPI path template) exists on this server.
  function has(method, path) {
    return Boolean(state.paths[path] && state.paths[path][method.toLowerCase()]);
  }

  // The roles that may call `method path`, from its OpenAPI operation ([] when unknown).
  function rolesOf(method, path) {
    const op = state.paths[path] && state.paths[path][method.toLowerCase()];
    return (op && op["x-roles"]) || [];
  }

  function mayCall(method, path) {
    return has(method, path) && rolesOf(method, path).includes(state.role);
  }

  // Why a button is disabled: the roles that may use it.
  function roleNote(method, path, what) {
    if (!has(method, path)) return `${what}: not available on this server (${method} ${path}).`;
    const roles = rolesOf(method, path);
    return `Only ${roles.join(" or ")} keys may ${what}; this key is ${state.role}.`;
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function api(path, options = {}) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (state.key) headers.Authorization = `Bearer ${state.key}`;
    const init = { method: options.method || "GET", headers, cache: "no-store" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const detail = (body && (body.detail || body.title)) || `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, detail);
    }
    return body;
  }

  // Runs `task` and writes its failure into `where` (the page never throws into the console).
  async function guarded(where, task) {
    try {
      await task();
    } catch (error) {
      if (where) fill(where, el("p", { class: "unavailable", text: `Could not load: ${error.message}` }));
    }
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  function every(ms, fn) {
    state.timers.push(setInterval(fn, ms));
  }

  // ---- key and role --------------------------------------------------------------------------------

  function setKeyStatus(text) {
    $("#key-help").textContent = text;
  }

  function setStream(kind, text) {
    const node = $("#stream-status");
    node.dataset.state = kind;
    node.textContent = `Stream: ${text}`;
  }

  function disconnect() {
    state.generation += 1;
    if (state.abort) state.abort.abort();
    for (const timer of state.timers) clearInterval(timer);
    state.timers = [];
    state.streaming = false;
    state.lastEventId = null;
    setStream("off", "not connected");
  }

  async function connect() {
    disconnect();
    const generation = state.generation;
    try {
      const spec = await api("/openapi.json");
      state.paths = (spec && spec.paths) || {};
    } catch (error) {
      setKeyStatus(`This server's API description could not be read: ${error.message}`);
      return;
    }
    try {
      const me = await api("/keys/me");
      state.role = me.role;
      const can = ROLE_TEXT[me.role] || "see GET /keys/me";
      setKeyStatus(`Connected as ${me.role} (key ${me.key_id}, “${me.label}”): ${can}.`);
      document.body.dataset.role = me.role;
    } catch (error) {
      state.role = null;
      setKeyStatus(
        error.status === 401
          ? "This key is not valid (malformed, unknown or revoked): ask the instructor for one."
          : `Could not check the key: ${error.message}`,
      );
      return;
    }
    if (generation !== state.generation) return;
    await Promise.all([
      loadChains(),
      loadValidators(),
      loadAssets(),
      loadInvestors(),
      loadDemos(),
      loadInterventions(),
    ]);
    if (generation !== state.generation) return;
    if (has("GET", "/events")) {
      for (const chain of CHAINS) {
        fill($(`#chain-${chain} .txs`), el("li", { class: "muted", text: "none since the page opened" }));
        fill($(`#chain-${chain} .refusals`), el("li", { class: "muted", text: "none since the page opened" }));
      }
      streamLoop(generation);
    } else {
      setStream("off", "not available on this server (GET /events): blocks are polled");
      for (const chain of CHAINS) {
        fill($(`#chain-${chain} .txs`), el("li", {}, unavailable("the event stream, GET /events")));
        fill($(`#chain-${chain} .refusals`), el("li", {}, unavailable("the event stream, GET /events")));
      }
      every(POLL_MS, () => CHAINS.forEach((chain) => loadBlocks(chain)));
    }
    every(REFRESH_MS, () => {
      loadAssets();
      refreshCapTable();
      loadInvestors();
      if (!state.streaming) loadInterventions();
    });
  }

  // ---- chains and blocks ---------------------------------------------------------------------------

  async function loadChains() {
    await guarded($("#wallet-body"), async () => {
      const page = await api("/chains");
      for (const chain of page.items) state.chains[chain.name] = chain;
      for (const name of CHAINS) {
        const chain = state.chains[name];
        const meta = $(`#chain-${name} .chain-meta`);
        meta.textContent = chain ? `chain id ${chain.chain_id} · head ${chain.head}` : "not open on this server";
        if (chain) await loadBlocks(name);
      }
      renderWallet();
    });
  }

  async function loadBlocks(chain) {
    if (!state.chains[chain]) return;
    try {
      const page = await api(`/chains/${chain}/blocks?limit=${MAX_BLOCKS}`);
      for (const block of page.items) {
        const known = state.blocks[chain].get(block.number);
        if (known && known.hash === block.hash && !known.dropped) continue;
        state.blocks[chain].set(block.number, {
          number: block.number,
          hash: block.hash,
          timestamp: block.timestamp,
          tx_count: block.transactions.length,
        });
      }
      const known = state.chains[chain];
      if (page.items.length) known.head = Math.max(known.head, page.items[0].number);
      $(`#chain-${chain} .chain-meta`).textContent = `chain id ${known.chain_id} · head ${known.head}`;
      renderBlocks(chain);
    } catch (error) {
      fill($(`#chain-${chain} .blocks`), el("li", { class: "unavailable", text: `Could not load blocks: ${error.message}` }));
    }
  }

  function validatorName(address) {
    const index = state.validators.findIndex((v) => v.toLowerCase() === String(address).toLowerCase());
    return index >= 0 ? `V${index + 1}` : short(address);
  }

  function renderBlocks(chain) {
    const blocks = [...state.blocks[chain].values()].sort((a, b) => b.number - a.number);
    for (const old of blocks.slice(MAX_BLOCKS * 2)) state.blocks[chain].delete(old.number);
    const items = blocks.slice(0, MAX_BLOCKS).map((block) => {
      const parts = [
        el("span", { class: "num", text: `#${block.number}` }),
        ` · ${block.tx_count} tx · ${clock(block.timestamp)}`,
      ];
      if (chain === "permissioned" && Array.isArray(block.sealers)) {
        const set = (block.validators && block.validators.length ? block.validators : state.validators);
        const sealed = new Set(block.sealers.map((s) => s.toLowerCase()));
        parts.push(
          ` · seals ${block.sealers.length}/${set.length}:`,
          set.map((v) =>
            sealed.has(v.toLowerCase())
              ? el("span", { class: "seal on", title: v, text: validatorName(v) })
              : el("span", { class: "seal off", title: `${v}: no seal` }, validatorName(v), el("span", { class: "sr-only", text: " (no seal)" })),
          ),
        );
      }
      if (block.dropped) parts.push(" · dropped by a rollback");
      return el(
        "li",
        { "data-number": block.number, "data-hash": block.hash, class: block.dropped ? "dropped" : null },
        parts,
      );
    });
    fill($(`#chain-${chain} .blocks`), items.length ? items : [el("li", { class: "muted", text: "no block yet" })]);
  }

  function onBlock(data) {
    if (!state.blocks[data.chain]) return;
    state.blocks[data.chain].set(data.number, { ...data, dropped: false });
    if (data.chain === "permissioned" && Array.isArray(data.validators) && data.validators.length) {
      if (data.validators.join() !== state.validators.join()) {
        state.validators = data.validators.slice();
        renderValidators();
      }
    }
    const chain = state.chains[data.chain];
    if (chain) {
      chain.head = Math.max(chain.head, data.number);
      $(`#chain-${data.chain} .chain-meta`).textContent = `chain id ${chain.chain_id} · head ${chain.head}`;
    }
    renderBlocks(data.chain);
  }

  // ---- validators ----------------------------------------------------------------------------------

  function addressOf(item) {
    return typeof item === "string" ? item : item && (item.address || item.validator || item.account);
  }

  async function loadValidators() {
    const body = $("#chain-permissioned .validators-body");
    if (!has("GET", "/chains/{chain}/validators")) {
      fill(body, unavailable("GET /chains/{chain}/validators"));
      return;
    }
    await guarded(body, async () => {
      const answer = await api("/chains/permissioned/validators");
      const current = Array.isArray(answer.current) ? answer.current : answer.validators || [];
      state.validators = current.map(addressOf).filter(Boolean);
      state.threshold = answer.threshold ?? null;
      renderValidators();
    });
  }

  function renderValidators() {
    const body = $("#chain-permissioned .validators-body");
    const threshold = state.threshold ?? Math.ceil((2 * state.validators.length) / 3);
    fill(
      body,
      `${state.validators.length} validators, ${threshold} seals needed per block: `,
      state.validators.map((v, i) => el("span", { class: "seal on", title: v, text: `V${i + 1} ${short(v)}` })),
    );
  }

  // ---- transactions and refusals (stream only) -----------------------------------------------------

  function describeArgs(args) {
    return Object.entries(args || {})
      .map(([name, value]) => `${name} ${short(typeof value === "object" ? JSON.stringify(value) : value)}`)
      .join(", ");
  }

  function renderTxs(chain) {
    const list = state.txs[chain];
    if (!list.length) return;
    fill(
      $(`#chain-${chain} .txs`),
      list.map((tx) =>
        el(
          "li",
          { "data-tx": tx.tx_hash, class: tx.dropped ? "dropped" : null },
          el("span", { class: "num", text: `#${tx.block_number}` }),
          ` ${tx.symbol || short(tx.asset_id)} ${tx.event}: ${describeArgs(tx.args)} `,
          el("code", { title: tx.tx_hash, text: short(tx.tx_hash) }),
          tx.dropped ? " · rolled back" : null,
        ),
      ),
    );
  }

  function onTokenEvent(data) {
    const list = state.txs[data.chain];
    if (!list) return;
    list.unshift(data);
    list.length = Math.min(list.length, MAX_TXS);
    renderTxs(data.chain);
    if (state.asset && state.asset.asset_id === data.asset_id) refreshCapTable();
  }

  function onRefusal(data) {
    const list = state.refusals[data.chain];
    if (!list) return;
    list.unshift(data);
    list.length = Math.min(list.length, MAX_REFUSALS);
    fill(
      $(`#chain-${data.chain} .refusals`),
      list.map((r) =>
        el("li", {}, el("strong", { text: short(r.sender) || "someone" }), `: ${r.reason || r.error}`),
      ),
    );
  }

  function onRollback(data) {
    const blocks = state.blocks[data.chain];
    if (!blocks) return;
    for (const block of blocks.values()) if (block.number >= data.first_changed_block) block.dropped = true;
    for (const tx of state.txs[data.chain]) if (tx.block_number >= data.first_changed_block) tx.dropped = true;
    const chain = state.chains[data.chain];
    if (chain) {
      chain.head = data.new_head;
      $(`#chain-${data.chain} .chain-meta`).textContent = `chain id ${chain.chain_id} · head ${chain.head}`;
    }
    renderBlocks(data.chain);
    renderTxs(data.chain);
    loadBlocks(data.chain);
    loadInterventions();
    refreshCapTable();
  }

  // ---- the event stream ----------------------------------------------------------------------------

  const handlers = {
    block: onBlock,
    "token-event": onTokenEvent,
    refusal: onRefusal,
    intervention: onIntervention,
    rollback: onRollback,
    demo: onDemo,
  };

  function dispatch(kind, data) {
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const handler = handlers[kind];
    if (handler) handler(parsed);
  }

  // Reads `body` as text/event-stream (the WHATWG rules: lines, `field: value`, a blank line ends a message).
  async function readEvents(body, generation) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let kind = "";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || generation !== state.generation) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          if (data.length) dispatch(kind || "message", data.join("\n"));
          kind = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) {
          // The server says this reader missed messages: read the current state instead.
          if (line.startsWith(": dropped")) resync();
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") kind = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) state.lastEventId = value;
      }
    }
  }

  const resync = debounce(() => {
    CHAINS.forEach((chain) => loadBlocks(chain));
    loadInterventions();
    refreshCapTable();
  }, 200);

  async function streamLoop(generation) {
    let delay = 1000;
    while (generation === state.generation) {
      const controller = new AbortController();
      state.abort = controller;
      try {
        const headers = { Authorization: `Bearer ${state.key}`, Accept: "text/event-stream" };
        if (state.lastEventId !== null) headers["Last-Event-ID"] = state.lastEventId;
        const response = await fetch("/events", { headers, signal: controller.signal, cache: "no-store" });
        if (response.ok && response.body) {
          state.streaming = true;
          setStream("live", "live");
          delay = 1000;
          // Blocks sealed between the first read and this subscription came on no stream: read them.
          CHAINS.forEach((chain) => loadBlocks(chain));
          await readEvents(response.body, generation);
        } else if (response.status === 401 || response.status === 403) {
          setStream("down", `refused by the server (${response.status}): check the key`);
          return;
        }
      } catch {
        // A dropped connection, or our own abort: reconnect below unless the key changed.
      }
      state.streaming = false;
      if (generation !== state.generation) return;
      setStream("down", "connection lost, reconnecting…");
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  // ---- assets and cap tables -----------------------------------------------------------------------

  async function loadAssets() {
    const select = $("#asset-select");
    await guarded($("#asset-terms"), async () => {
      const items = [];
      let cursor = null;
      do {
        const page = await api(`/assets?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor && items.length < 500);
      const same = items.map((a) => a.asset_id).join() === state.assets.map((a) => a.asset_id).join();
      state.assets = items;
      if (same && select.options.length === items.length && items.length) return;
      const chosen = state.asset && items.find((a) => a.asset_id === state.asset.asset_id);
      fill(
        select,
        items.length ? null : el("option", { value: "", text: "no asset issued yet" }),
        items.map((a) =>
          el("option", { value: a.asset_id, text: `${a.symbol} · ${a.name} (${a.kind}, ${a.chain})` }),
        ),
      );
      state.asset = chosen || items.find((a) => a.kind !== "cash") || items[0] || null;
      if (state.asset) select.value = state.asset.asset_id;
      renderAsset();
    });
  }

  function termRows(asset) {
    const rows = [
      ["kind", asset.kind],
      ["chain", asset.chain],
      ["mode", asset.mode === "kyc" ? "kyc (identity registry and rules)" : "open (no checks)"],
      ["status", asset.status],
      ["address", asset.address],
    ];
    for (const [name, value] of Object.entries(asset.terms || {})) {
      if (name === "kind" || value === null || value === "") continue;
      rows.push([name.replaceAll("_", " "), name.endsWith("_bps") ? `${value} (${Number(value) / 100}%)` : value]);
    }
    return rows;
  }

  function renderAsset() {
    const asset = state.asset;
    const terms = $("#asset-terms");
    if (!asset) {
      fill(terms, el("p", { class: "muted", text: "No asset yet: an issuer issues one (POST /assets) or a demo does." }));
      fill($("#cap-table"));
      return;
    }
    fill(
      terms,
      el("h3", { text: `${asset.symbol}: ${asset.name}` }),
      el(
        "table",
        { "aria-label": `Terms of ${asset.symbol}` },
        el("tbody", {}, termRows(asset).map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", { class: k === "address" ? "mono" : null, text: short(v) })))),
      ),
    );
    refreshCapTable(true);
  }

  let capTableBusy = false;
  async function loadCapTable() {
    const asset = state.asset;
    const where = $("#cap-table");
    if (!asset) return;
    if (!has("GET", "/assets/{asset_id}/cap-table")) {
      fill(where, el("h3", { text: "Cap table" }), unavailable("GET /assets/{asset_id}/cap-table"));
      return;
    }
    if (capTableBusy) return;
    capTableBusy = true;
    try {
      await guarded(where, async () => {
        const table = await api(`/assets/${encodeURIComponent(asset.asset_id)}/cap-table?limit=20`);
        if (!state.asset || state.asset.asset_id !== asset.asset_id) return;
        renderCapTable(where, asset, table);
      });
    } finally {
      capTableBusy = false;
    }
  }
  const refreshCapTable = debounce(loadCapTable, 250);

  function renderCapTable(where, asset, table) {
    const holders = table.items || [];
    const block = table.block || {};
    const caption = `Cap table of ${asset.symbol} as of block ${block.number ?? "?"}: supply ${table.total_supply ?? "?"}${table.paused ? " (paused)" : ""}`;
    if (!holders.length) {
      fill(where, el("h3", { text: caption }), el("p", { class: "muted", text: "No holder." }));
      where.dataset.block = block.number ?? "";
      return;
    }
    const width = 640;
    const row = 30;
    const label = 190;
    const max = Math.max(...holders.map((h) => Number(h.balance)), 1);
    const chart = el(
      "svg",
      {
        class: "bars",
        viewBox: `0 0 ${width} ${holders.length * row + 4}`,
        role: "img",
        "aria-label": `Holdings of ${asset.symbol}: ${holders.map((h) => `${short(h.wallet)} ${h.balance}`).join(", ")}`,
      },
      holders.map((h, i) => {
        const bar = Math.max(2, ((width - label - 110) * Number(h.balance)) / max);
        return el(
          "g",
          {},
          el("text", { x: 0, y: i * row + 20, text: short(h.wallet) }),
          el("rect", {
            x: label,
            y: i * row + 4,
            width: bar.toFixed(1),
            height: row - 8,
            class: h.account_frozen || Number(h.frozen) > 0 ? "frozen" : null,
          }),
          el("text", { x: label + bar + 6, y: i * row + 20, text: h.balance }),
        );
      }),
    );
    const rows = holders.map((h) => {
      const kyc = h.investor ? h.investor.kyc_state : "no investor";
      return el(
        "tr",
        { "data-wallet": h.wallet },
        el("td", { class: "mono", title: h.wallet, text: short(h.wallet) }),
        el("td", { text: h.investor ? `#${h.investor.investor_id}` : "—" }),
        el("td", { class: `kyc-${kyc}`, text: kyc }),
        el("td", { class: "amount", text: h.balance }),
        el("td", { class: "amount", text: `${(Number(h.share) * 100).toFixed(1)}%` }),
        el("td", { text: h.account_frozen ? "account frozen" : Number(h.frozen) > 0 ? `${h.frozen} frozen` : "" }),
      );
    });
    fill(
      where,
      el("h3", { text: caption }),
      chart,
      el(
        "table",
        { "aria-label": caption },
        el("thead", {}, el("tr", {}, ["wallet", "investor", "KYC", "balance", "share", "frozen"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows),
      ),
    );
    where.dataset.block = block.number ?? "";
  }

  // ---- investors -----------------------------------------------------------------------------------

  function investorTable(chain, items, title) {
    const head = ["investor", "wallets", "country", "accredited", "KYC", "expires"];
    const rows = items.map((inv) =>
      el(
        "tr",
        {},
        el("td", { text: `#${inv.investor_id}` }),
        el("td", { class: "mono", text: (inv.wallets || []).map(short).join(" ") }),
        el("td", { text: inv.country_alpha2 || inv.country }),
        el("td", { text: inv.accredited ? "yes" : "no" }),
        el("td", { class: `kyc-${inv.kyc_state}`, text: inv.kyc_state }),
        el("td", { text: inv.kyc_expires_at ? String(inv.kyc_expires_at).slice(0, 10) : "never" }),
      ),
    );
    // A long list scrolls in its box (reachable with Tab, scrolled with the arrow keys).
    return el(
      "div",
      { class: "scroll", tabindex: "0", role: "region", "aria-label": title },
      el(
        "table",
        { "aria-label": `Investors on the ${chain} chain` },
        el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows),
      ),
    );
  }

  async function loadInvestors() {
    const where = $("#investors-body");
    if (!has("GET", "/investors")) {
      fill(where, unavailable("GET /investors"));
      $("#investors-reload").disabled = true;
      return;
    }
    $("#investors-reload").disabled = false;
    await guarded(where, async () => {
      const pages = [];
      for (const chain of CHAINS.filter((name) => state.chains[name])) {
        pages.push([chain, await api(`/investors?chain=${chain}&limit=100`)]);
      }
      // Unchanged: keep the tables as they are (and the keyboard focus in them).
      const signature = JSON.stringify(pages);
      if (signature === state.investorsSeen && where.childElementCount) return;
      state.investorsSeen = signature;
      const columns = [];
      for (const [chain, page] of pages) {
        const items = page.items || [];
        const title = `${chain}: ${items.length}${page.next_cursor ? "+" : ""} investors`;
        columns.push(
          el(
            "div",
            {},
            el("h3", { text: title }),
            items.length ? investorTable(chain, items, title) : el("p", { class: "muted", text: "none registered" }),
          ),
        );
      }
      const scroll = [...where.querySelectorAll(".scroll")].map((box) => box.scrollTop);
      fill(where, el("div", { class: "two" }, columns));
      where.querySelectorAll(".scroll").forEach((box, i) => (box.scrollTop = scroll[i] || 0));
    });
  }

  // ---- demos ---------------------------------------------------------------------------------------

  async function loadDemos() {
    const where = $("#demo-buttons");
    const note = $("#demos-note");
    if (!has("GET", "/demos")) {
      fill(where, unavailable("GET /demos"));
      note.textContent = "";
      return;
    }
    await guarded(where, async () => {
      const answer = await api("/demos");
      const demos = Array.isArray(answer) ? answer : answer.items || [];
      const allowed = mayCall("POST", "/demos/{name}");
      note.textContent = allowed
        ? "Each button runs a scenario on both chains; its steps show below as they happen."
        : roleNote("POST", "/demos/{name}", "start a demo");
      fill(
        where,
        demos.map((demo) => {
          const line = demo.summary || demo.title || demo.description || demo.one_line || "";
          const shows = demo.shows || demo.what_it_shows || "";
          return el(
            "div",
            { class: "demo" },
            el("button", {
              type: "button",
              "data-demo": demo.name,
              disabled: !allowed,
              "aria-describedby": allowed ? null : "demos-note",
              text: `Run “${demo.name}”`,
              on: { click: () => startDemo(demo.name) },
            }),
            line ? el("p", { text: line }) : null,
            shows ? el("p", { class: "muted", text: shows }) : null,
          );
        }),
      );
    });
  }

  async function startDemo(name) {
    const title = $("#demo-run-title");
    const buttons = document.querySelectorAll("#demo-buttons button");
    buttons.forEach((b) => (b.disabled = true));
    fill($("#demo-steps"));
    fill($("#demo-result"));
    title.textContent = `Starting ${name}…`;
    try {
      const answer = await api(`/demos/${encodeURIComponent(name)}`, {
        method: "POST",
        headers: { "Idempotency-Key": randomKey() },
        body: {},
      });
      state.demoRun = { run_id: answer.run_id, name, steps: [] };
      title.textContent = `${name}: running`;
      followDemo(answer.run_id);
    } catch (error) {
      title.textContent = `${name} could not start: ${error.message}`;
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  async function followDemo(runId) {
    const generation = state.generation;
    for (;;) {
      if (generation !== state.generation || !state.demoRun || state.demoRun.run_id !== runId) return;
      let run;
      try {
        run = await api(`/demos/runs/${encodeURIComponent(runId)}`);
      } catch (error) {
        $("#demo-run-title").textContent = `Lost the run ${runId}: ${error.message}`;
        break;
      }
      renderDemoRun(run);
      if (run.status !== "running") break;
      await new Promise((resolve) => {
        state.demoWake = resolve;
        setTimeout(resolve, 1000);
      });
    }
    document.querySelectorAll("#demo-buttons button").forEach((b) => (b.disabled = !mayCall("POST", "/demos/{name}")));
  }

  function stepItem(step) {
    return el(
      "li",
      { "data-status": step.status },
      step.chain ? el("strong", { text: `[${step.chain}] ` }) : null,
      `${step.step}: `,
      el("span", { class: `status-${step.status}`, text: step.status }),
      step.detail ? ` · ${typeof step.detail === "string" ? step.detail : JSON.stringify(step.detail)}` : "",
    );
  }

  function renderDemoRun(run) {
    const title = $("#demo-run-title");
    title.textContent = `${run.name}: ${run.status}${run.error ? ` (${run.error})` : ""}`;
    title.className = `status-${run.status}`;
    $("#demo-run").dataset.status = run.status;
    const steps = $("#demo-steps");
    const following = steps.scrollTop + steps.clientHeight >= steps.scrollHeight - 4;
    fill(steps, (run.steps || []).map(stepItem));
    if (following) steps.scrollTop = steps.scrollHeight; // keep the newest step in view, unless scrolled up
    const result = run.result;
    if (result && Array.isArray(result.columns) && Array.isArray(result.rows)) {
      fill(
        $("#demo-result"),
        el(
          "table",
          { "aria-label": `Result of ${run.name}` },
          el("thead", {}, el("tr", {}, result.columns.map((c) => el("th", { scope: "col", text: c })))),
          el("tbody", {}, result.rows.map((row) => el("tr", {}, row.map((cell) => el("td", { text: cell ?? "" }))))),
        ),
      );
    }
  }

  function onDemo(data) {
    if (!state.demoRun || data.run_id !== state.demoRun.run_id) return;
    // Show the step at once; the run's own document (read on the wake-up) stays the authority.
    const steps = $("#demo-steps");
    steps.append(stepItem(data));
    steps.scrollTop = steps.scrollHeight;
    if (state.demoWake) state.demoWake();
  }

  // ---- interventions -------------------------------------------------------------------------------

  async function loadInterventions() {
    const where = $("#interventions-body");
    if (!has("GET", "/chains/{chain}/interventions")) {
      fill(where, unavailable("GET /chains/{chain}/interventions"));
      return;
    }
    await guarded(where, async () => {
      const page = await api("/chains/permissioned/interventions?limit=50");
      // Merged, not replaced: an intervention the stream announced may be newer than this page.
      for (const item of page.items || []) {
        const id = interventionId(item);
        state.interventions.set(id, { ...(state.interventions.get(id) || {}), ...item, id });
      }
      renderInterventions();
    });
  }

  function listed(values) {
    const items = Array.isArray(values) ? values : [];
    if (!items.length) return "none";
    const shown = items.slice(0, 3).map((v) => short(typeof v === "object" ? v.tx_hash || v.hash || addressOf(v) || JSON.stringify(v) : v));
    return items.length > 3 ? `${items.length}: ${shown.join(", ")} and ${items.length - 3} more` : shown.join(", ");
  }

  function renderInterventions() {
    const where = $("#interventions-body");
    // Newest first: by the order of creation when the list gave it, an announced newcomer on top.
    const order = (item) => (typeof item.sequence === "number" ? item.sequence : Number.MAX_SAFE_INTEGER);
    const items = [...state.interventions.values()].sort((a, b) => order(b) - order(a));
    if (!items.length) {
      fill(where, el("p", { class: "muted", text: "No intervention proposed yet: validators propose one (freeze, unfreeze, rollback) and a quorum signs it." }));
      return;
    }
    fill(
      where,
      el(
        "table",
        { "aria-label": "Interventions on the permissioned chain" },
        el("thead", {}, el("tr", {}, ["#", "kind", "status", "signed by", "dropped", "replayed", "excluded"].map((h) => el("th", { scope: "col", text: h })))),
        el(
          "tbody",
          {},
          items.map((item) =>
            el(
              "tr",
              { "data-intervention": item.id, "data-status": item.status },
              el("td", { title: item.id, text: typeof item.sequence === "number" ? `#${item.sequence}` : short(item.id) }),
              el("td", {}, item.kind, item.reason ? el("span", { class: "note", text: item.reason }) : null),
              el("td", { class: `status-${item.status}`, text: item.status }),
              el("td", { text: (item.signers || []).map((s) => validatorName(addressOf(s))).join(", ") || "nobody yet" }),
              el("td", { text: listed(item.dropped) }),
              el("td", { text: listed(item.replayed) }),
              el("td", { text: listed(item.excluded) }),
            ),
          ),
        ),
      ),
    );
  }

  const reloadInterventions = debounce(loadInterventions, 300);

  function interventionId(item) {
    return String(item.id ?? item.intervention_id ?? item.proposal_id);
  }

  function onIntervention(data) {
    if (data.chain !== "permissioned") return;
    const id = interventionId(data);
    state.interventions.set(id, { ...(state.interventions.get(id) || {}), ...data, id });
    renderInterventions();
    reloadInterventions();
  }

  // ---- connect your wallet -------------------------------------------------------------------------

  function renderWallet() {
    const wallet = window.ethereum;
    $("#wallet-note").textContent = wallet
      ? "Each button asks your browser wallet to add the chain (EIP-3085); the wallet asks you to confirm."
      : "No browser wallet in this browser: copy a chain's RPC URL and chain id into your wallet or tool.";
    fill(
      $("#wallet-body"),
      CHAINS.filter((name) => state.chains[name]).map((name) => {
        const chain = state.chains[name];
        const url = chain.rpc_url;
        return el(
          "div",
          { class: "wallet-chain", "data-chain": name },
          el("h3", { text: name }),
          el(
            "dl",
            {},
            el("dt", { text: "RPC URL" }),
            el("dd", {}, url ? el("code", { text: url }) : "an external node: not served here"),
            el("dt", { text: "chain id" }),
            el("dd", {}, el("code", { text: `${chain.chain_id} (0x${chain.chain_id.toString(16)})` })),
            el("dt", { text: "currency" }),
            el("dd", { text: "test ether (ETH, 18 decimals)" }),
          ),
          el("button", {
            type: "button",
            disabled: !wallet || !url,
            "aria-describedby": "wallet-note",
            text: `Add ${name} to my wallet`,
            on: { click: (event) => addToWallet(chain, event.currentTarget) },
          }),
        );
      }),
    );
  }

  async function addToWallet(chain, button) {
    const status = button.nextElementSibling || button.parentElement.appendChild(el("p", { class: "note", role: "status" }));
    try {
      await window.ethereum.request({
        method: "wallet_addEthereumChain",
        params: [
          {
            chainId: `0x${chain.chain_id.toString(16)}`,
            chainName: `Registry ${chain.name}`,
            nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
            rpcUrls: [chain.rpc_url],
          },
        ],
      });
      status.textContent = `${chain.name} added to the wallet.`;
    } catch (error) {
      status.textContent = `The wallet did not add it: ${error && error.message ? error.message : error}`;
    }
  }

  // ---- start ---------------------------------------------------------------------------------------

  function start() {
    $("#key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("#api-key").value.trim();
      if (!value) {
        setKeyStatus("Paste a key first (it starts with rk_).");
        return;
      }
      sessionStorage.setItem(KEY_STORE, value);
      $("#api-key").value = "";
      state.key = value;
      connect();
    });
    $("#forget-key").addEventListener("click", () => {
      // A shared workshop machine: forget the key and everything it showed.
      sessionStorage.removeItem(KEY_STORE);
      state.key = null;
      disconnect();
      location.reload();
    });
    $("#asset-select").addEventListener("change", (event) => {
      state.asset = state.assets.find((a) => a.asset_id === event.target.value) || null;
      renderAsset();
    });
    $("#assets-reload").addEventListener("click", () => loadAssets());
    $("#investors-reload").addEventListener("click", () => loadInvestors());
    CHAINS.forEach(renderBlocks);
    renderWallet();
    state.key = sessionStorage.getItem(KEY_STORE);
    if (state.key) connect();
  }

  start();
})();
