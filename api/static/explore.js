// The /explore page: runs a saved analyst query and shows its rows and its graph.
// The key lives in this script's memory only; every call sends it as a Bearer token.
(function () {
  "use strict";
  const api = document.querySelector("main").dataset.api;
  const numeric = /^(limit|skip|top|days|k|n)$|_(days|count|limit)$/;
  const state = { key: null, queries: [], cy: null, last: null };
  window.ckgExplore = state; // for people (and tests) poking at the page from the console

  const $ = (id) => document.getElementById(id);

  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  async function call(path, body) {
    const init = { headers: { Authorization: "Bearer " + state.key } };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(api + path, init);
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = (data && data.detail) || {};
      throw new Error((detail.reason || response.status) + ": " + (detail.message || ""));
    }
    return data;
  }

  async function connect(event) {
    event.preventDefault();
    state.key = $("key").value.trim();
    try {
      state.queries = (await call("")).queries;
    } catch (err) {
      status(err.message, true);
      return;
    }
    const select = $("query");
    select.replaceChildren();
    for (const q of state.queries) {
      const option = document.createElement("option");
      option.value = q.name;
      option.textContent = q.name;
      select.append(option);
    }
    $("query-panel").hidden = false;
    showParams();
    status(state.queries.length + " queries");
  }

  function showParams() {
    const q = state.queries.find((x) => x.name === $("query").value);
    $("purpose").textContent = q ? q.purpose : "";
    const box = $("params");
    box.replaceChildren();
    for (const name of q ? q.params : []) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.name = name;
      input.required = true;
      input.dataset.type = numeric.test(name) ? "number" : "text";
      input.type = input.dataset.type;
      label.append(name + " ", input);
      box.append(label);
    }
  }

  async function run(event) {
    event.preventDefault();
    const params = {};
    for (const input of $("params").querySelectorAll("input")) {
      params[input.name] = input.dataset.type === "number" ? Number(input.value) : input.value;
    }
    status("running " + $("query").value + " …");
    try {
      state.last = await call("/" + encodeURIComponent($("query").value) + "/run", { params });
    } catch (err) {
      status(err.message, true);
      return;
    }
    const r = state.last;
    draw(r);
    table(r);
    status(r.rows.length + " rows" + (r.truncated ? " (more were left off)" : "") + ", " +
      r.nodes.length + " nodes, " + r.relationships.length + " relationships");
  }

  function caption(node) {
    const p = node.properties;
    const name = p.name !== undefined ? p.name : p.id !== undefined ? p.id : node.id;
    return (node.labels[0] || "") + "\n" + String(name);
  }

  function draw(result) {
    const ids = new Set(result.nodes.map((n) => n.id));
    const elements = result.nodes.map((n) => ({
      data: { id: n.id, key: n.properties.id, label: caption(n), labels: n.labels.join(":") },
    }));
    for (const r of result.relationships) {
      if (ids.has(r.start) && ids.has(r.end)) { // an end the rows do not hold is not drawn
        elements.push({ data: { id: r.id, source: r.start, target: r.end, label: r.type } });
      }
    }
    if (state.cy) state.cy.destroy();
    state.cy = cytoscape({
      container: $("graph"),
      elements,
      layout: { name: "cose", animate: false, randomize: false },
      style: [
        { selector: "node", style: { label: "data(label)", "text-wrap": "wrap",
          "font-size": 9, "text-valign": "center", width: 34, height: 34,
          "background-color": "#7aa7d6" } },
        { selector: "edge", style: { label: "data(label)", "font-size": 7,
          "curve-style": "bezier", "target-arrow-shape": "triangle", width: 1.5,
          "line-color": "#aaa", "target-arrow-color": "#aaa" } },
      ],
    });
    $("graph").dataset.nodes = String(state.cy.nodes().length);
    $("graph").dataset.relationships = String(state.cy.edges().length);
  }

  function cell(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object" && value["~kind"] === "node") {
      return value["~labels"].join(":") + " " + (value.id !== undefined ? value.id : value["~id"]);
    }
    if (typeof value === "object" && value["~kind"] === "relationship") {
      return ":" + value["~type"];
    }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function table(result) {
    const t = $("rows");
    t.replaceChildren();
    const head = t.createTHead().insertRow();
    for (const c of result.columns) {
      const th = document.createElement("th");
      th.textContent = c;
      head.append(th);
    }
    const body = t.createTBody();
    for (const row of result.rows) {
      const tr = body.insertRow();
      for (const c of result.columns) tr.insertCell().textContent = cell(row[c]);
    }
  }

  $("key-form").addEventListener("submit", connect);
  $("query").addEventListener("change", showParams);
  $("query-form").addEventListener("submit", run);
})();
