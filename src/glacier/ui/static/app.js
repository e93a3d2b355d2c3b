// Glacier's page: the DAG, runs, a run's timeline and logs, the plan.
// Every value from a record goes into the document as text (h() never parses markup), so a
// task named like a script element stays a name. Data comes from the server's /api/ paths, or, in a
// self-contained report, from the same paths' answers inlined in #glacier-data.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("glacier-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const BIG = 300; // above this many tasks the DAG opens collapsed by group
  const LONGEST_PATH_ABOVE = 500; // nodes: see layout()
  const state = { graph: null, lastRun: null, history: {}, plan: null, groupBy: null,
    expanded: new Set(), showDatasets: null, selected: null, poll: null, view: null,
    layoutMs: null };
  window.glacier = state; // for the browser tests and the benchmark

  // -- helpers -------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  async function get(path) {
    const inlined = DATA.api || {};
    if (Object.prototype.hasOwnProperty.call(inlined, path)) return inlined[path];
    if (DATA.mode !== "server") throw new Error("not in this report: " + path);
    const resp = await fetch(path, { headers: { Accept: "application/json" } });
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.error || resp.statusText);
    return body;
  }
  function main(...children) {
    const m = document.getElementById("main");
    m.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined &&
      c !== false));
    return m;
  }
  function when(t) {
    if (t === null || t === undefined) return "";
    return new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }
  function secs(x) {
    if (x === null || x === undefined) return "";
    return x < 1 ? (x * 1000).toFixed(1) + " ms" : x.toFixed(3) + " s";
  }
  function badge(status) {
    return h("span", { class: "badge " + (status || ""), "data-status": status || "" },
      status || "not run");
  }
  function kv(rows) {
    return h("table", { class: "kv" }, rows.filter((r) => r[1] !== undefined && r[1] !== "" &&
      r[1] !== null).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))));
  }
  function table(columns, rows) {
    return h("table", {}, h("tr", {}, columns.map((c) => h("th", {}, c))),
      rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))));
  }
  function route() {
    // Split first, then decode: a name may hold "/" (its link encodes it).
    const raw = location.hash.replace(/^#\/?/, "") || DATA.start;
    const [path, query] = raw.split("?");
    const parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent);
    const params = new URLSearchParams(query || "");
    return { parts, params };
  }
  function go(hash) { location.hash = hash; }
  function enc(x) { return encodeURIComponent(x); }

  // -- navigation ----------------------------------------------------------------------------

  function nav(active) {
    const links = [];
    if (DATA.has.graph) links.push(["graph", "#/graph", "Pipeline"]);
    if (DATA.has.runs) links.push(["runs", "#/runs", "Runs"]);
    if (DATA.has.plan) links.push(["plan", "#/plan", "Plan"]);
    document.getElementById("nav").replaceChildren(...links.map(([k, href, label]) =>
      h("a", { href, class: k === active ? "active" : null }, label)));
  }

  async function render() {
    if (state.poll) { clearTimeout(state.poll); state.poll = null; }
    const { parts, params } = route();
    const page = parts[0];
    nav(page);
    try {
      if (page === "graph") await graphPage(parts.slice(1));
      else if (page === "runs") await runsPage(params);
      else if (page === "run") await runPage(parts[1], parts[3] || null);
      else if (page === "plan") await planPage(parts[1] || null);
      else main(h("p", {}, "Nothing here: ", h("a", { href: "#/" + DATA.start }, "start")));
    } catch (err) {
      main(h("p", { class: "error" }, String(err.message || err)));
    }
    document.body.setAttribute("data-ready", page);
  }

  // -- the DAG -------------------------------------------------------------------------------

  function namespaceOf(name) {
    const m = /^(.+?)(\.|\/|__)/.exec(name);
    return m ? m[1] : "(top level)";
  }
  function groupKeys(graph) {
    const keys = [["none", "none"], ["namespace", "namespace"]];
    const tags = new Set();
    for (const t of graph.tasks) for (const k of Object.keys(t.tags)) tags.add(k);
    for (const k of [...tags].sort()) keys.push(["tag:" + k, "tag " + k]);
    return keys;
  }
  function groupOf(task, by) {
    if (!by || by === "none") return null;
    if (by === "namespace") return namespaceOf(task.name);
    return task.tags[by.slice(4)] ?? "(no " + by.slice(4) + ")";
  }
  function defaultGrouping(graph) {
    if (graph.tasks.length <= BIG) return "none";
    for (const [by] of groupKeys(graph).slice(1)) {
      const groups = new Set(graph.tasks.map((t) => groupOf(t, by)));
      if (groups.size > 1) return by;
    }
    return "none";
  }
  const RANK = { failed: 5, running: 4, skipped: 3, pending: 2, succeeded: 1 };
  function statusOf(name) {
    const run = state.lastRun;
    if (!run) return null;
    const t = state.runTasks[name];
    return t ? t.status : null;
  }

  // The graph to draw: tasks (or their collapsed groups), datasets when shown, edges.
  function visible() {
    const g = state.graph, by = state.groupBy, withDs = state.showDatasets;
    const nodes = new Map(), edges = new Map();
    const rep = new Map(); // task name -> drawn node id
    for (const t of g.tasks) {
      const group = groupOf(t, by);
      if (group !== null && !state.expanded.has(group)) {
        const id = "group:" + group;
        let n = nodes.get(id);
        if (!n) {
          n = { id, kind: "group", label: group, counts: {}, members: 0, status: null };
          nodes.set(id, n);
        }
        n.members += 1;
        const st = statusOf(t.name) || "not run";
        n.counts[st] = (n.counts[st] || 0) + 1;
        if ((RANK[st] || 0) > (RANK[n.status] || 0)) n.status = st;
        rep.set(t.name, id);
      } else {
        nodes.set("task:" + t.name, { id: "task:" + t.name, kind: "task", label: t.name,
          sub: t.compute, status: statusOf(t.name) });
        rep.set(t.name, "task:" + t.name);
      }
    }
    const edge = (a, b) => { if (a !== b) edges.set(a + "\u0000" + b, [a, b]); };
    for (const d of g.datasets) {
      const producers = d.producers.map((p) => rep.get(p));
      const consumers = d.consumers.map((c) => rep.get(c));
      const home = producers[0] || consumers[0];
      const inGroup = home && home.startsWith("group:") &&
        producers.concat(consumers).every((x) => x === home);
      if (withDs && !inGroup) {
        const id = "dataset:" + d.name;
        nodes.set(id, { id, kind: "dataset", label: d.name, sub: d.uri, status: null });
        producers.forEach((p) => edge(p, id));
        consumers.forEach((c) => edge(id, c));
      } else {
        for (const p of producers) for (const c of consumers) edge(p, c);
      }
    }
    return { nodes: [...nodes.values()], edges: [...edges.values()] };
  }

  function layout(view) {
    const t0 = performance.now();
    const g = new dagre.graphlib.Graph();
    // Network simplex ranks best but costs most; above a few hundred nodes the longest-path
    // ranker keeps the layout within seconds (benchmarks/ui_layout.py).
    const ranker = view.nodes.length > LONGEST_PATH_ABOVE ? "longest-path" : "network-simplex";
    g.setGraph({ rankdir: "LR", nodesep: 12, ranksep: 36, marginx: 10, marginy: 10, ranker });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of view.nodes) {
      const label = n.kind === "group" ? n.label + " (" + n.members + ")" : n.label;
      const width = Math.min(260, Math.max(90, 7.2 * Math.max(label.length,
        n.sub ? Math.min(n.sub.length, 34) : 0) + 16));
      g.setNode(n.id, { width, height: n.sub || n.kind === "group" ? 38 : 26 });
    }
    for (const [a, b] of view.edges) g.setEdge(a, b);
    dagre.layout(g);
    state.layoutMs = performance.now() - t0;
    return g;
  }

  function drawGraph(canvas, panel) {
    const view = visible();
    const g = layout(view);
    const size = g.graph();
    const svg = s("svg", { id: "dag", viewBox: `0 0 ${size.width} ${size.height}`,
      "data-nodes": view.nodes.length, "data-layout-ms": state.layoutMs.toFixed(1) });
    const edges = s("g", {});
    for (const [a, b] of view.edges) {
      const pts = g.edge(a, b).points;
      edges.append(s("path", { class: "edge", "marker-end": "url(#arrow)",
        d: "M" + pts.map((p) => p.x.toFixed(1) + "," + p.y.toFixed(1)).join("L") }));
    }
    const defs = s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10,
      refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" },
    s("path", { d: "M0,0L10,5L0,10z", fill: "#8c959f" })));
    const nodes = s("g", {});
    for (const n of view.nodes) {
      const box = g.node(n.id);
      const x = box.x - box.width / 2, y = box.y - box.height / 2;
      const cls = ["node", n.kind, n.status ? "st-" + n.status.replace(/\W/g, "") : ""];
      if (state.selected === n.id) cls.push("selected");
      const label = n.kind === "group" ? n.label + " (" + n.members + ")" : n.label;
      const sub = n.kind === "group"
        ? Object.entries(n.counts).map(([k, v]) => v + " " + k).join(", ") : n.sub;
      const el = s("g", { class: cls.join(" "), "data-id": n.id, "data-kind": n.kind,
        "data-name": n.label, "data-status": n.status || "",
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
        onclick: (ev) => { ev.stopPropagation(); select(n); } },
      s("title", {}, label + (n.status ? " — " + n.status : "")),
      s("rect", { width: box.width, height: box.height, rx: n.kind === "dataset" ? 10 : 3 }),
      s("text", { x: 8, y: 16 }, label.length > 36 ? label.slice(0, 35) + "…" : label),
      sub ? s("text", { class: "sub", x: 8, y: 30 }, sub.length > 40 ? sub.slice(0, 39) + "…"
        : sub) : null);
      nodes.append(el);
    }
    svg.append(defs, edges, nodes);
    panZoom(svg, size);
    canvas.replaceChildren(svg);
    // As tall as the drawing at the canvas's width, within the window.
    const natural = size.height * (canvas.clientWidth / Math.max(size.width, 1));
    svg.style.height = Math.max(140, Math.min(natural + 20, window.innerHeight * 0.72)) + "px";
    state.view = { nodes: view.nodes.length, edges: view.edges.length };
    if (state.selected) showPanel(panel, state.selected);
  }

  function panZoom(svg, size) {
    let vb = [0, 0, size.width, size.height], drag = null;
    const set = () => svg.setAttribute("viewBox", vb.map((v) => v.toFixed(1)).join(" "));
    svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const k = ev.deltaY > 0 ? 1.15 : 1 / 1.15, r = svg.getBoundingClientRect();
      const fx = (ev.clientX - r.left) / r.width, fy = (ev.clientY - r.top) / r.height;
      const w = vb[2] * k, hh = vb[3] * k;
      vb = [vb[0] + (vb[2] - w) * fx, vb[1] + (vb[3] - hh) * fy, w, hh];
      set();
    }, { passive: false });
    svg.addEventListener("mousedown", (ev) => { drag = [ev.clientX, ev.clientY, vb[0], vb[1]]; });
    window.addEventListener("mouseup", () => { drag = null; });
    svg.addEventListener("mousemove", (ev) => {
      if (!drag) return;
      const r = svg.getBoundingClientRect(), k = vb[2] / r.width;
      vb = [drag[2] - (ev.clientX - drag[0]) * k, drag[3] - (ev.clientY - drag[1]) * k,
        vb[2], vb[3]];
      set();
    });
    svg.focusOn = (id) => {
      const el = svg.querySelector(`[data-id="${CSS.escape(id)}"]`);
      if (!el) return;
      const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(el.getAttribute("transform"));
      const w = Math.min(size.width, 900), hh = Math.min(size.height, 600);
      vb = [+m[1] - w / 2, +m[2] - hh / 2, w, hh];
      set();
    };
  }

  function select(n) {
    if (n.kind === "group") {
      state.expanded.add(n.label);
      state.selected = null;
      if (location.hash === "#/graph") drawCurrent();
      else go("#/graph"); // the route change redraws
      return;
    }
    go("#/graph/" + n.kind + "/" + enc(n.label));
  }
  function drawCurrent() {
    const canvas = document.getElementById("canvas"), panel = document.getElementById("panel");
    if (canvas) drawGraph(canvas, panel);
  }

  async function loadGraph() {
    if (state.graph) return;
    const data = await get("/api/graph");
    state.graph = data.graph;
    state.lastRun = data.last_run;
    state.runTasks = {};
    for (const t of (data.last_run ? data.last_run.tasks : [])) state.runTasks[t.name] = t;
    state.history = data.history || {};
    state.groupBy = defaultGrouping(state.graph);
    state.showDatasets = state.graph.tasks.length <= BIG;
  }

  async function graphPage(rest) {
    await loadGraph();
    const g = state.graph;
    const kind = rest[0] || null, name = rest.length > 1 ? rest[1] : null;
    const groupSel = h("select", { id: "group-by", onchange: (ev) => {
      state.groupBy = ev.target.value; state.expanded.clear(); drawCurrent(); } },
    groupKeys(g).map(([v, label]) => h("option", { value: v,
      selected: v === state.groupBy ? "selected" : null }, label)));
    const dsBox = h("input", { type: "checkbox", id: "show-datasets",
      checked: state.showDatasets ? "checked" : null,
      onchange: (ev) => { state.showDatasets = ev.target.checked; drawCurrent(); } });
    const results = h("ul", { class: "results", id: "search-results" });
    const search = h("input", { type: "search", id: "search", placeholder: "find a task or dataset",
      oninput: (ev) => findNodes(ev.target.value, results) });
    const last = state.lastRun;
    const head = h("div", { class: "toolbar" },
      h("h2", {}, "pipeline ", g.pipeline),
      g.environment ? h("span", { class: "muted" }, "environment " + g.environment) : null,
      h("span", { class: "muted" }, g.tasks.length + " tasks, " + g.datasets.length + " datasets"),
      last ? h("span", {}, "last run ", h("a", { href: "#/run/" + enc(last.run_id) },
        last.run_id), " ", badge(last.status)) : h("span", { class: "muted" }, "no recorded run"),
      h("label", {}, "group by ", groupSel),
      h("label", {}, dsBox, " datasets"),
      state.expanded.size ? h("button", { onclick: () => { state.expanded.clear();
        drawCurrent(); } }, "collapse all") : null,
      search);
    const canvas = h("div", { class: "canvas", id: "canvas" });
    const panel = h("div", { class: "panel", id: "panel" });
    state.selected = kind && name ? kind + ":" + name : null;
    if (state.selected && kind === "task") expandFor(name);
    main(head, results, h("div", { class: "layout" }, canvas, panel));
    drawGraph(canvas, panel);
    if (state.selected) {
      const svg = document.getElementById("dag");
      if (svg && svg.focusOn && g.tasks.length > 40) svg.focusOn(state.selected);
    }
  }

  function expandFor(taskName) {
    const t = state.graph.tasks.find((x) => x.name === taskName);
    const group = t ? groupOf(t, state.groupBy) : null;
    if (group !== null) state.expanded.add(group);
  }

  function findNodes(text, results) {
    const q = text.trim().toLowerCase();
    const found = [];
    if (q) {
      for (const t of state.graph.tasks) if (t.name.toLowerCase().includes(q)) found.push(["task", t.name]);
      for (const d of state.graph.datasets) if (d.name.toLowerCase().includes(q)) found.push(["dataset", d.name]);
    }
    results.replaceChildren(...found.slice(0, 30).map(([kind, name]) => h("li", {
      "data-kind": kind, onclick: () => {
        if (kind === "task") expandFor(name);
        else {
          const d = state.graph.datasets.find((x) => x.name === name);
          (d.producers.concat(d.consumers)).forEach(expandFor);
          state.showDatasets = true;
        }
        go("#/graph/" + kind + "/" + enc(name));
      } }, kind + " ", h("strong", {}, name))));
    if (found.length > 30) results.append(h("li", { class: "muted" }, (found.length - 30) + " more"));
  }

  function showPanel(panel, id) {
    const [kind, ...rest] = id.split(":");
    const name = rest.join(":");
    panel.replaceChildren(kind === "task" ? taskPanel(name) : datasetPanel(name));
  }

  function taskPanel(name) {
    const t = state.graph.tasks.find((x) => x.name === name);
    if (!t) return h("p", {}, "No task ", name);
    const run = state.runTasks[name];
    const box = h("div", { id: "task-panel", "data-task": name },
      h("h2", {}, "task ", name, " ", run ? badge(run.status) : null),
      t.doc ? h("p", {}, t.doc) : null,
      kv([["source", t.location], ["compute", t.compute], ["environment", t.environment],
        ["reads", t.inputs.join(", ")], ["writes", t.outputs.join(", ")]]),
      Object.keys(t.options).length ? [h("h3", {}, "options"), kv(Object.entries(t.options))]
        : null,
      Object.keys(t.tags).length ? [h("h3", {}, "tags"), kv(Object.entries(t.tags))] : null,
      Object.keys(t.params).length ? [h("h3", {}, "parameters"), kv(Object.entries(t.params))]
        : null);
    if (run) box.append(h("h3", {}, "last run"), taskRunDetails(run, state.lastRun));
    if (DATA.has.plan) {
      // The plan runs the Pulumi program under mocks (seconds for a large pipeline): on ask.
      const target = h("div", { id: "task-policy" });
      const load = () => {
        target.replaceChildren(h("p", { class: "muted" }, "planning offline…"));
        policyOf(name, target);
      };
      if (state.plan) load();
      else target.append(h("button", { id: "show-policy", onclick: load },
        "show its grants and IAM policy per environment"));
      box.append(h("h3", {}, "access in each environment"), target);
    }
    return box;
  }

  async function policyOf(name, target) {
    try {
      const plan = await loadPlan();
      const parts = [];
      for (const [env, e] of Object.entries(plan.environments)) {
        const t = e.tasks[name];
        if (!t) continue;
        parts.push(h("h4", {}, env), table(["store", "objects", "access"],
          t.grants.map((g) => [g.store, g.pattern, g.access.join(", ")])));
        for (const p of t.policies) {
          parts.push(h("p", { class: "muted" }, "policy " + p.name),
            h("pre", { class: "policy" }, JSON.stringify(p.document, null, 2)));
        }
      }
      target.replaceChildren(...(parts.length ? parts
        : [h("p", { class: "muted" }, "no grants in the plan")]));
    } catch (err) {
      target.replaceChildren(h("p", { class: "muted" }, String(err.message || err)));
    }
  }
  async function loadPlan() {
    if (!state.plan) state.plan = await get("/api/plan");
    return state.plan;
  }

  function datasetPanel(name) {
    const d = state.graph.datasets.find((x) => x.name === name);
    if (!d) return h("p", {}, "No dataset ", name);
    const versions = state.history[name] || [];
    const checks = [];
    for (const t of (state.lastRun ? state.lastRun.tasks : [])) {
      for (const c of t.checks) if (!c.dataset || c.dataset === name) checks.push(c);
    }
    for (const c of (state.lastRun ? state.lastRun.checks : [])) {
      if (!c.dataset || c.dataset === name) checks.push(c);
    }
    return h("div", { id: "dataset-panel", "data-dataset": name },
      h("h2", {}, "dataset ", name),
      d.description ? h("p", {}, d.description) : null,
      kv([["storage", d.uri], ["format", d.format], ["environment", d.environment],
        ["declared at", d.declared_at], ["written by", d.producers.join(", ")],
        ["read by", d.consumers.join(", ")]]),
      Object.keys(d.schema).length ? [h("h3", {}, "schema"), kv(Object.entries(d.schema))]
        : h("p", { class: "muted" }, "no declared schema"),
      h("h3", {}, "versions"),
      versions.length ? table(["run", "started", "version", "rows"], versions.map((v) => [
        h("a", { href: "#/run/" + enc(v.run_id) }, v.run_id), when(v.started), v.version || "",
        v.rows === null || v.rows === undefined ? "not recorded" : String(v.rows)]))
        : h("p", { class: "muted" }, "no recorded run wrote it"),
      checks.length ? [h("h3", {}, "checks (last run)"), checksTable(checks)] : null);
  }

  function checksTable(checks) {
    const cols = [...new Set(checks.flatMap((c) => Object.keys(c)))];
    return h("table", { class: "checks" }, h("tr", {}, cols.map((c) => h("th", {}, c))),
      checks.map((c) => h("tr", { "data-status": c.status || "" },
        cols.map((k) => h("td", {}, c[k] ?? "")))));
  }

  // -- runs ----------------------------------------------------------------------------------

  async function runsPage(params) {
    const q = new URLSearchParams();
    if (params.get("pipeline")) q.set("pipeline", params.get("pipeline"));
    if (params.get("status")) q.set("status", params.get("status"));
    const path = "/api/runs" + (q.toString() ? "?" + q : "");
    const data = await get(path);
    const filter = (key, values) => h("select", { id: "filter-" + key, onchange: (ev) => {
      const p = new URLSearchParams(params);
      if (ev.target.value) p.set(key, ev.target.value); else p.delete(key);
      go("#/runs" + (p.toString() ? "?" + p : ""));
    } }, h("option", { value: "" }, "any " + key), values.map((v) => h("option",
      { value: v, selected: params.get(key) === v ? "selected" : null }, v)));
    main(h("div", { class: "toolbar" }, h("h2", {}, "runs"),
      DATA.mode === "server" ? [filter("pipeline", data.pipelines), filter("status",
        data.statuses)] : null),
    data.runs.length ? h("table", { id: "runs" },
      h("tr", {}, ["run", "pipeline", "status", "started", "duration", "tasks"].map((c) =>
        h("th", {}, c))),
      data.runs.map((r) => h("tr", { "data-run": r.run_id, "data-status": r.status },
        h("td", {}, h("a", { href: "#/run/" + enc(r.run_id) }, r.run_id)),
        h("td", {}, r.pipeline), h("td", {}, badge(r.status)), h("td", {}, when(r.started)),
        h("td", {}, secs(r.duration)),
        h("td", {}, Object.entries(r.tasks).map(([k, v]) => v + " " + k).join(", ")))))
      : h("p", { class: "muted" }, "No recorded runs match."));
  }

  async function runPage(runId, selectedTask) {
    const run = await get("/api/run/" + enc(runId));
    const selected = selectedTask || (run.tasks.find((t) => t.status === "failed") || {}).name
      || null;
    const detail = h("div", { class: "panel", id: "panel" });
    const withRows = run.datasets.some((d) => d.rows !== null && d.rows !== undefined);
    main(h("div", { class: "toolbar" }, h("h2", {}, "run ", run.run_id), badge(run.status),
      h("span", {}, "pipeline ", DATA.has.graph ? h("a", { href: "#/graph" }, run.pipeline)
        : run.pipeline),
      h("span", { class: "muted" }, "started " + when(run.started)),
      h("span", { class: "muted", id: "progress" }, run.status === "running"
        ? "running for " + secs(run.duration) + "; progress recorded " +
          secs(Math.max(0, Date.now() / 1000 - run.started - run.duration)) +
          " ago (a run whose process died stays running)"
        : "took " + secs(run.duration))),
    h("div", { class: "layout" }, h("div", { class: "canvas timeline", id: "timeline" },
      timeline(run, selected)), detail),
    h("h3", {}, "datasets written"),
    run.datasets.length ? h("table", { id: "datasets" },
      h("tr", {}, ["dataset", "where", "version", withRows ? "rows" : null].map((c) =>
        c && h("th", {}, c))),
      run.datasets.map((d) => h("tr", { "data-dataset": d.name }, h("td", {}, d.name),
        h("td", {}, d.uri || ""), h("td", {}, d.version || ""),
        withRows ? h("td", {}, d.rows === null || d.rows === undefined ? "" : String(d.rows))
          : null)))
      : h("p", { class: "muted" }, "none"),
    run.checks.length ? [h("h3", {}, "checks"), checksTable(run.checks)] : null);
    const task = run.tasks.find((t) => t.name === selected);
    if (task) detail.replaceChildren(h("h2", {}, "task ", task.name, " ", badge(task.status)),
      taskRunDetails(task, run));
    if (run.status === "running" && DATA.mode === "server") {
      state.poll = setTimeout(() => { if (route().parts[1] === runId) render(); }, 1000);
    }
  }

  function timeline(run, selected) {
    const rowH = 22, labelW = 190, width = 900, top = 24;
    const end = Math.max(run.duration || 0, ...run.tasks.flatMap((t) => t.bars.map((b) => b.end)),
      1e-6);
    const x = (t) => labelW + (t / end) * (width - labelW - 10);
    const height = top + rowH * run.tasks.length + 6;
    const svg = s("svg", { id: "timeline-svg", viewBox: `0 0 ${width} ${height}`,
      width: "100%" });
    for (let i = 0; i <= 4; i++) {
      const t = (end * i) / 4;
      svg.append(s("text", { x: x(t), y: 14, "text-anchor": i ? "end" : "start",
        class: "muted" }, secs(t)));
    }
    run.tasks.forEach((t, i) => {
      const y = top + i * rowH;
      const row = s("g", { class: "row" + (t.name === selected ? " selected" : ""),
        "data-task": t.name, "data-status": t.status || "",
        onclick: () => go("#/run/" + enc(run.run_id) + "/task/" + enc(t.name)) },
      s("rect", { x: 0, y, width, height: rowH, fill: i % 2 ? "#fff" : "#f6f8fa" }),
      s("text", { class: "label", x: 4, y: y + 15 },
        t.name.length > 26 ? t.name.slice(0, 25) + "…" : t.name));
      for (const b of t.bars) {
        row.append(s("rect", { class: "bar st-" + String(b.outcome).replace(/\W/g, "") +
          (b.estimated ? " estimated" : ""), "data-attempt": b.attempt,
        x: x(b.start), y: y + 4, width: Math.max(2, x(b.end) - x(b.start)), height: rowH - 8 },
        s("title", {}, `${t.name} attempt ${b.attempt}: ${b.outcome}, ` +
          `${secs(b.end - b.start)}${b.estimated ? " (boundaries estimated)" : ""}`)));
      }
      if (!t.bars.length) row.append(s("text", { x: labelW, y: y + 15, class: "muted" },
        t.status || ""));
      svg.append(row);
    });
    return svg;
  }

  function taskRunDetails(t, run) {
    const parts = [kv([["attempts", String(t.attempts)], ["started", t.start === null ? ""
      : "+" + secs(t.start)], ["took", secs(t.duration)], ["cached", t.cached ? "yes" : ""],
    ["reused (resume)", t.resumed ? "yes" : ""], ["workers", t.workers]])];
    if (t.error) parts.push(h("h3", {}, "error"), h("pre", { class: "error" }, t.error));
    if (t.traceback) parts.push(h("h3", {}, "traceback"), h("pre", { class: "traceback" },
      t.traceback));
    if (t.checks && t.checks.length) parts.push(h("h3", {}, "checks"), checksTable(t.checks));
    parts.push(h("h3", {}, "logs"), t.logs.length ? h("pre", { class: "logs",
      "data-task": t.name }, t.logs.map((l) => h("div", { class: "log-" + l.level },
      (l.at === null || l.at === undefined ? "" : "+" + l.at.toFixed(3) + "s ") +
      (l.attempt && t.attempts > 1 ? "[attempt " + l.attempt + "] " : "") +
      (l.level ? l.level + " " : "") + l.message)))
      : h("p", { class: "muted" }, "no output"));
    return h("div", { class: "task-run", "data-task": t.name }, parts);
  }

  // -- the plan ------------------------------------------------------------------------------

  async function planPage(env) {
    main(h("p", { class: "muted" }, "planning offline (Pulumi's mock engine)…"));
    const plan = await loadPlan();
    const envs = Object.keys(plan.environments);
    const chosen = env && plan.environments[env] ? env : envs[0];
    const e = plan.environments[chosen];
    if (!e) { main(h("p", {}, "The plan declares nothing.")); return; }
    main(h("div", { class: "toolbar" }, h("h2", {}, "plan of ", plan.pipeline),
      envs.map((n) => h("a", { href: "#/plan/" + enc(n), class: n === chosen ? "active" : null },
        n))),
    kv([["account", e.account || ""], ["region", e.region || ""]]),
    h("h3", {}, e.resources.length + " resources"),
    h("table", { id: "plan-resources" }, h("tr", {}, h("th", {}, "type"), h("th", {}, "name")),
      e.resources.map((r) => h("tr", {}, h("td", {}, r.type), h("td", {}, r.name)))),
    h("h3", {}, "grants per task"),
    Object.entries(e.tasks).map(([name, t]) => [h("h4", {}, name + " (" + t.compute + ")"),
      table(["store", "objects", "access"], t.grants.map((g) => [g.store, g.pattern,
        g.access.join(", ")]))]));
  }

  window.addEventListener("hashchange", render);
  render();
})();
