"use strict";
(() => {
  const cfg = JSON.parse(document.getElementById("browser-config").textContent);
  const KEY = "sftaudit.apiKey";
  const base = `${cfg.api_base}/v1/audits/${encodeURIComponent(cfg.audit_id)}`;
  const $ = (id) => document.getElementById(id);
  const state = { rows: [], cursor: null, total: 0, seq: 0, clusters: new Set(),
    // labelling: the dataset's labels by row index, the undo stack, and writes sent one after another
    datasetId: null, labels: new Map(), undo: [], writes: Promise.resolve(), pending: 0, proposed: [], mode: "all" };
  // Opened from a signed link (…/browser?exp=…&sig=…): every data call carries the link's signature
  // instead of an API key, so a pasted URL works in any browser until the link expires. A link opens the
  // audit's pages only: labelling needs an API key.
  const query0 = new URLSearchParams(location.search);
  let LINK = query0.get("sig") && query0.get("exp") ? { exp: query0.get("exp"), sig: query0.get("sig") } : null;
  function authed(url) {
    if (!LINK) return { url, headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` } };
    const sep = url.includes("?") ? "&" : "?";
    return { url: `${url}${sep}exp=${encodeURIComponent(LINK.exp)}&sig=${encodeURIComponent(LINK.sig)}`, headers: {} };
  }

  // Build DOM nodes; text always goes in through textContent, never as HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  class AuthError extends Error {}

  async function request(url, options) {
    const opts = options || {};
    const a = authed(url);
    const headers = { ...a.headers, Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(a.url, { method: opts.method || "GET", headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    if (res.status === 401 || res.status === 403) {
      throw new AuthError(LINK ? "this link has expired or is not valid: enter an API key, or open a new link" : "the API key was not accepted");
    }
    if (!res.ok) {
      let detail = "";
      try { const body = await res.json(); detail = body.error ? body.error.message : JSON.stringify(body.detail); }
      catch (e) { detail = res.statusText; }
      throw new Error(`${res.status} ${detail}`);
    }
    return res.status === 204 ? null : res.json();
  }
  const api = (path) => request(base + path);
  const labelsUrl = (path) => `${cfg.api_base}/v1/datasets/${encodeURIComponent(state.datasetId)}/labels${path}`;

  // --- auth ---------------------------------------------------------------------------------------
  function showAuth(message) {
    $("app").hidden = true;
    $("forget-key").hidden = true;
    $("open-report").hidden = true;
    $("open-curation").hidden = true;
    $("auth").hidden = false;
    $("auth-error").textContent = message || "";
    $("api-key").focus();
  }
  $("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $("api-key").value.trim());
    $("api-key").value = "";
    start();
  });
  $("forget-key").addEventListener("click", () => { sessionStorage.removeItem(KEY); showAuth(""); });

  // The report page needs the key too, so a plain link cannot open it: fetch it, then show it in a
  // new tab (opened during the click, so popup blockers allow it), its links resolved against this page.
  $("open-report").addEventListener("click", async () => {
    if (LINK) { window.open(authed(`${base}/report.html`).url, "_blank"); return; }
    const tab = window.open("", "_blank");
    try {
      const res = await fetch(`${base}/report.html`, { headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` } });
      if (res.status === 401 || res.status === 403) throw new AuthError("the API key was not accepted");
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      const here = location.href.split("#")[0].replace(/"/g, "%22");
      const html = (await res.text()).replace(/<head>/i, `<head><base href="${here}">`);
      const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
      if (tab) tab.location.href = url; else location.href = url;
    } catch (err) {
      if (tab) tab.close();
      fail(err);
    }
  });

  // The newest finished curation of this audit: its report opens from the signed URL the API lists.
  $("open-curation").addEventListener("click", () => {
    const url = $("open-curation").dataset.url;
    if (url) window.open(url, "_blank");
  });
  async function findCuration() {
    try {
      const items = await api("/curations");
      const done = (items || []).find((c) => c.report_url);
      if (!done) return;
      $("open-curation").dataset.url = done.report_url;
      $("open-curation").title = `curation ${done.id}: ${done.kept} rows kept`;
      $("open-curation").hidden = false;
    } catch (err) { /* no curations route or none readable: no button */ }
  }

  function fail(err) {
    if (err instanceof AuthError) { sessionStorage.removeItem(KEY); LINK = null; showAuth(err.message); return; }
    $("error").textContent = `Could not load samples: ${err.message}`;
  }

  // --- loading ------------------------------------------------------------------------------------
  function query(cursor) {
    const form = new FormData($("filters"));
    const q = new URLSearchParams();
    for (const [k, v] of form.entries()) if (String(v).trim() !== "") q.set(k, String(v).trim());
    if (cursor) q.set("cursor", cursor);
    return q;
  }

  async function load(reset) {
    const seq = ++state.seq;
    if (reset) state.mode = "all";
    const q = query(reset ? null : state.cursor);
    $("status").textContent = "Loading…";
    $("error").textContent = "";
    try {
      const page = await api(`/samples?${q}`);
      if (seq !== state.seq) return;  // a newer request was made meanwhile
      if (reset) { state.rows = []; $("rows").replaceChildren(); }
      state.rows.push(...page.items);
      state.cursor = page.next_cursor;
      state.total = page.total;
      for (const rec of page.items) if (rec.cluster !== undefined && rec.cluster !== null) state.clusters.add(String(rec.cluster));
      refreshClusterOptions();
      appendRows(page.items);
      updateStatus();
    } catch (err) {
      if (seq === state.seq) { $("status").textContent = ""; fail(err); }
    }
  }

  function clientFilter(rec) {
    const cluster = $("f-cluster").value, level = $("f-difficulty").value;
    if (cluster && String(rec.cluster) !== cluster) return false;
    if (level && rec.difficulty_level !== level) return false;
    return true;
  }

  function updateStatus() {
    const shown = $("rows").querySelectorAll("tr.row").length;
    const clientSide = $("f-cluster").value || $("f-difficulty").value;
    $("client-note").hidden = !clientSide;
    $("status").textContent = `${shown} shown · ${state.rows.length} loaded of ${state.total} matching` +
      (state.cursor ? "" : " · all loaded");
    $("more").hidden = !state.cursor;
  }

  function refreshClusterOptions() {
    const select = $("f-cluster");
    const have = new Set([...select.options].map((o) => o.value));
    const sorted = [...state.clusters].sort((a, b) => (Number(a) - Number(b)) || a.localeCompare(b));
    for (const c of sorted) if (!have.has(c)) select.append(el("option", { value: c, text: c }));
  }

  // --- rendering ----------------------------------------------------------------------------------
  function instructionOf(rec) {
    const turns = (rec.conversation && rec.conversation.turns) || [];
    let lastAssistant = turns.length;
    for (let i = turns.length - 1; i >= 0; i--) if (turns[i].role === "assistant") { lastAssistant = i; break; }
    for (let i = lastAssistant - 1; i >= 0; i--) if (turns[i].role === "user") return turns[i].content;
    return turns.length ? turns[0].content : "";
  }
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

  const SHORT = { diversity: "diversity", answer_quality: "quality", consistency: "consistency", difficulty: "difficulty", noise: "noise" };
  function scoreChips(scores) {
    // difficulty has no good direction (easy is not bad), so it is never coloured as good or bad
    return Object.entries(scores || {}).map(([dim, v]) => el("span", {
      class: `score ${dim === "difficulty" ? "neutral" : v < 0.4 ? "low" : v < 0.7 ? "mid" : "high"}`,
      title: dim === "difficulty" ? "difficulty (1 = hardest; neither end is bad)" : dim,
      text: `${SHORT[dim] || dim} ${Number(v).toFixed(2)}`,
    }));
  }

  function appendRows(items, unfiltered) {
    const body = $("rows");
    for (const rec of items) {
      if (!unfiltered && !clientFilter(rec)) continue;
      const detail = el("tr", { class: "detail", id: `detail-${rec.index}`, hidden: true }, el("td", { colspan: 7 }));
      const toggle = el("button", { type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": `detail-${rec.index}`,
        text: `▸ #${rec.index}`, onclick: () => toggleRow(rec, row, detail, toggle) });
      const codes = [...new Set((rec.flags || []).map((f) => f.code))];
      const row = el("tr", { class: codes.length ? "row flagged" : "row", id: `sample-${rec.index}`, "data-index": rec.index },
        el("td", {}, toggle),
        el("td", { class: "text", text: clip(instructionOf(rec), 160) }),
        el("td", {}, scoreChips(rec.scores)),
        el("td", {}, codes.map((c) => el("span", { class: "chip", text: c }))),
        el("td", { text: rec.cluster ?? "" }),
        el("td", { text: rec.difficulty_level ?? (rec.difficulty !== undefined ? Number(rec.difficulty).toFixed(2) : "") }),
        state.datasetId ? labelCell(rec.index) : null);
      body.append(row, detail);
      if (state.datasetId) paintLabel(rec.index);
    }
  }

  function toggleRow(rec, row, detail, toggle, open) {
    const willOpen = open === undefined ? detail.hidden : open;
    if (willOpen && !detail.firstChild.firstChild) detail.firstChild.append(renderDetail(rec));
    detail.hidden = !willOpen;
    toggle.setAttribute("aria-expanded", String(willOpen));
    toggle.textContent = `${willOpen ? "▾" : "▸"} #${rec.index}`;
  }

  const SKIP = new Set(["index", "scores", "flags", "conversation"]);

  function renderDetail(rec) {
    const conv = rec.conversation || { system: null, turns: [] };
    const turns = [];
    if (conv.system) turns.push(el("div", { class: "turn system" }, el("span", { class: "role", text: "system" }), conv.system));
    for (const t of conv.turns || []) turns.push(el("div", { class: `turn ${t.role}` }, el("span", { class: "role", text: t.role }), t.content));
    const flags = (rec.flags || []).map((f) => el("li", {},
      el("code", { text: f.code }), " ", el("span", { class: `sev-${f.severity}`, text: f.severity }), ` (${f.dimension}) — ${f.reason}`,
      (f.related || []).length ? el("span", {}, " · related: ", f.related.map((r) => el("button", {
        type: "button", class: "link related", "data-index": r, text: `#${r}`, onclick: () => openSample(r) }))) : null));
    const fields = Object.entries(rec).filter(([k]) => !SKIP.has(k)).flatMap(([k, v]) => [
      el("span", { class: "muted", text: k }), el("span", { class: "mono", text: typeof v === "object" ? JSON.stringify(v) : String(v) })]);
    return el("div", { class: "sample-detail" },
      el("div", { class: "conversation" }, turns),
      el("h3", { text: "Scores" }), el("div", {}, scoreChips(rec.scores).length ? scoreChips(rec.scores) : el("span", { class: "muted", text: "none" })),
      el("h3", { text: "Flags" }), flags.length ? el("ul", { class: "flags" }, flags) : el("p", { class: "muted", text: "No flags." }),
      fields.length ? el("details", {}, el("summary", { text: "Other fields" }), el("div", { class: "kv" }, fields)) : null);
  }

  // Open a sample by index: expand its row when loaded, otherwise fetch it into the linked panel.
  async function openSample(index) {
    const row = document.getElementById(`sample-${index}`);
    if (row) {
      const toggle = row.querySelector("button.toggle");
      const detail = document.getElementById(`detail-${index}`);
      const rec = state.rows.find((r) => r.index === Number(index));
      toggleRow(rec, row, detail, toggle, true);
      row.scrollIntoView({ block: "center" });
      toggle.focus();
      return;
    }
    try {
      const rec = await api(`/samples/${encodeURIComponent(index)}`);
      const panel = $("linked");
      const heading = el("h2", { tabindex: "-1", text: `Sample #${rec.index}` });
      panel.replaceChildren(heading, el("button", { type: "button", text: "Close", onclick: () => { panel.hidden = true; } }),
        renderDetail(rec));
      panel.hidden = false;
      panel.scrollIntoView({ block: "start" });
      heading.focus();
    } catch (err) { fail(err); }
  }


  // --- labels ---------------------------------------------------------------------------------------
  // Keep (good) / drop (bad) per sample, stored through the labels API of the audit's dataset.  Writes go
  // out one after another (a fast typist's g, b, u arrive in order); the page shows each at once and
  // says when it is stored.
  async function startLabelling(datasetId, report) {
    state.datasetId = datasetId;
    $("label-head").hidden = false;
    $("label-bar").hidden = false;
    for (let offset = 0; ; offset += 1000) {
      const page = await request(labelsUrl(`?limit=1000&offset=${offset}`));
      for (const lab of page.items) state.labels.set(lab.index, lab);
      if (offset + page.items.length >= page.total || !page.items.length) break;
    }
    const figures = report && report.dimensions && report.dimensions.answer_quality && report.dimensions.answer_quality.figures;
    const ranker = figures && figures.learned_quality;
    state.proposed = (ranker && Array.isArray(ranker.proposed_next)) ? ranker.proposed_next.map(Number) : [];
    refreshLabelBar();
  }

  function labelCell(index) {
    return el("td", { class: "label-cell", id: `label-${index}` },
      el("button", { type: "button", class: "lab keep", "aria-pressed": "false", title: "keep: a good sample (g)", text: "keep",
        onclick: () => label(index, "keep") }),
      el("button", { type: "button", class: "lab drop", "aria-pressed": "false", title: "drop: a bad sample (b)", text: "drop",
        onclick: () => label(index, "drop") }),
      el("span", { class: "lab-state" }));
  }

  function describe(lab) {
    if (!lab) return "";
    const what = lab.raw || (lab.value >= 0.5 ? "good" : "bad");
    // the pressed button already says keep/drop for a label given here; others say where they came from
    return lab.source === "browser" ? "" : `${what} (${lab.source}${lab.raw ? "" : ` ${Number(lab.value).toFixed(2)}`})`;
  }

  function paintLabel(index, pending) {
    const cell = document.getElementById(`label-${index}`);
    if (!cell) return;
    const lab = state.labels.get(index);
    const good = lab ? lab.value >= 0.5 : null;
    cell.querySelector(".keep").setAttribute("aria-pressed", String(good === true));
    cell.querySelector(".drop").setAttribute("aria-pressed", String(good === false));
    const text = cell.querySelector(".lab-state");
    text.textContent = pending ? "saving…" : describe(lab);
    text.classList.toggle("pending", Boolean(pending));
    const row = document.getElementById(`sample-${index}`);
    row.classList.toggle("labelled-keep", good === true);
    row.classList.toggle("labelled-drop", good === false);
  }

  function labelStatus(message) {
    const counts = { browser: 0, upload: 0, judge: 0 };
    for (const lab of state.labels.values()) counts[lab.source] = (counts[lab.source] || 0) + 1;
    const summary = `${state.labels.size} labelled (${counts.browser} here, ${counts.upload} uploaded, ${counts.judge} by the judge)`;
    $("label-status").textContent = message ? `${message} · ${summary}` : summary;
    $("label-status").dataset.pending = String(state.pending);
  }

  function refreshLabelBar(message) {
    const left = state.proposed.filter((i) => !state.labels.has(i)).length;
    $("label-next").hidden = !state.proposed.length;
    $("label-next").textContent = `Label next (${left} of ${state.proposed.length} left)`;
    labelStatus(message);
  }

  // Queue one write; ``apply`` runs when its turn comes and returns the request's promise.
  function enqueue(apply, index) {
    state.pending += 1;
    paintLabel(index, true);
    labelStatus();
    state.writes = state.writes.then(apply).catch((err) => {
      if (err instanceof AuthError) { fail(err); return; }
      $("error").textContent = `Could not store the label of #${index}: ${err.message}`;
    }).finally(() => {
      state.pending -= 1;
      paintLabel(index, false);
      refreshLabelBar();
    });
  }

  function label(index, verdict) {
    const entry = { index, previous: undefined };
    state.undo.push(entry);
    enqueue(async () => {
      const res = await request(labelsUrl(`/${index}`), { method: "PUT", body: { label: verdict } });
      entry.previous = res.previous;
      state.labels.set(index, res.label);
    }, index);
    refreshLabelBar(`#${index} ${verdict}`);
  }

  function undoLast() {
    const entry = state.undo.pop();
    if (!entry) { labelStatus("Nothing to undo."); return; }
    enqueue(async () => {
      const prev = entry.previous;
      if (prev === undefined) return;  // its write failed: nothing was stored
      if (prev === null) {
        await request(labelsUrl(`/${entry.index}`), { method: "DELETE" });
        state.labels.delete(entry.index);
        return;
      }
      const body = prev.raw && /^[1-5]$/.test(prev.raw) ? { rating: Number(prev.raw) }
        : prev.raw ? { label: prev.raw } : { score: prev.value };
      const res = await request(labelsUrl(`/${entry.index}`), { method: "PUT", body: { ...body, source: prev.source } });
      state.labels.set(entry.index, res.label);
    }, entry.index);
    const row = document.getElementById(`sample-${entry.index}`);
    if (row) row.querySelector("button.toggle").focus();
    refreshLabelBar(`undid #${entry.index}`);
  }

  function moveFocus(row, step) {
    const toggles = [...document.querySelectorAll("#rows button.toggle")];
    const at = toggles.indexOf(row.querySelector("button.toggle"));
    const next = toggles[Math.max(0, Math.min(toggles.length - 1, at + step))];
    if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
  }

  // "Label next": the samples the learned ranker proposes (uncertain ones, spread across clusters), in its order.
  async function loadNext() {
    const seq = ++state.seq;
    state.mode = "next";
    $("status").textContent = "Loading the proposed samples…";
    $("error").textContent = "";
    try {
      const wanted = state.proposed.filter((i) => !state.labels.has(i));
      const items = await Promise.all(wanted.map((i) => api(`/samples/${encodeURIComponent(i)}`)));
      if (seq !== state.seq) return;
      state.rows = items;
      state.cursor = null;
      $("rows").replaceChildren();
      appendRows(items, true);
      $("more").hidden = true;
      $("status").textContent = `Label next: ${items.length} samples the learned ranker is least sure of, spread across ` +
        "clusters · g keeps, b drops, u undoes · Apply or Clear the filters to see every sample again";
      const first = document.querySelector("#rows button.toggle");
      if (first) first.focus();
    } catch (err) {
      if (seq === state.seq) { $("status").textContent = ""; fail(err); }
    }
  }

  // --- keyboard -----------------------------------------------------------------------------------
  document.addEventListener("keydown", (ev) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement && document.activeElement.tagName);
    if (ev.key === "/" && !typing) { ev.preventDefault(); $("f-dimension").focus(); return; }
    if (ev.key === "Escape") {
      const row = document.activeElement && document.activeElement.closest("tr.row");
      if (row && !$(`detail-${row.dataset.index}`).hidden) row.querySelector("button.toggle").click();
      else if (!$("linked").hidden) $("linked").hidden = true;
      return;
    }
    if (!typing && state.datasetId && !ev.ctrlKey && !ev.metaKey && !ev.altKey && ["g", "b", "u", "n"].includes(ev.key)) {
      ev.preventDefault();
      if (ev.key === "u") { undoLast(); return; }
      if (ev.key === "n") { if (state.proposed.length) loadNext(); return; }
      const row = document.activeElement && document.activeElement.closest("#rows tr.row");
      if (!row) { labelStatus("Pick a row first: j / k move between rows."); return; }
      label(Number(row.dataset.index), ev.key === "g" ? "keep" : "drop");
      moveFocus(row, 1);
      return;
    }
    if (typing || !["j", "k", "ArrowDown", "ArrowUp"].includes(ev.key)) return;
    const toggles = [...document.querySelectorAll("#rows button.toggle")];
    if (!toggles.length) return;
    const at = toggles.indexOf(document.activeElement);
    const step = ev.key === "j" || ev.key === "ArrowDown" ? 1 : -1;
    const next = toggles[Math.max(0, Math.min(toggles.length - 1, at < 0 ? 0 : at + step))];
    ev.preventDefault();
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  });

  // --- start --------------------------------------------------------------------------------------
  $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(true); });
  $("label-next").addEventListener("click", () => loadNext());
  $("filters").addEventListener("change", (ev) => { if (ev.target.tagName === "SELECT") load(true); });
  $("f-reset").addEventListener("click", () => setTimeout(() => load(true), 0));
  $("more").addEventListener("click", () => load(false));

  async function start() {
    if (!LINK && !sessionStorage.getItem(KEY)) { showAuth(""); return; }
    $("auth").hidden = true;
    $("app").hidden = false;
    $("forget-key").hidden = !!LINK;
    $("open-report").hidden = false;
    try {  // the report is optional: it fills the flag-code suggestions and the ranker's proposals
      const audit = await api("");
      const report = audit.report || audit;
      const codes = Object.keys((report && report.flags) || {}).sort();
      $("flag-codes").replaceChildren(...codes.map((c) => el("option", { value: c })));
      if (audit.dataset_id && !LINK) await startLabelling(audit.dataset_id, report);  // labelling needs a key
    } catch (err) {
      if (err instanceof AuthError) { fail(err); return; }
    }
    findCuration();
    await load(true);
    openFromHash();
  }
  // …/browser#sample-123 opens sample 123 (the report page links rows this way)
  function openFromHash() {
    const m = /^#sample-(\d+)$/.exec(location.hash);
    if (m && (LINK || sessionStorage.getItem(KEY))) openSample(Number(m[1]));
  }
  window.addEventListener("hashchange", openFromHash);
  start();
})();
