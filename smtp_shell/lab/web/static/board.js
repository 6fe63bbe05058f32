// The class board: one row per student (or client address), redrawn from server-sent events.
// Everything is put into the page with textContent: nothing a client sent can become markup.
"use strict";
(function () {
  const STAGES = ["greeted", "EHLO", "TLS", "AUTH", "MAIL", "RCPT", "DATA", "accepted"];
  const tbody = document.querySelector("#board tbody");
  const status = document.getElementById("status");

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function progress(tr, row) {
    const td = cell(tr, "", "progress");
    td.dataset.progress = row.progress;
    for (const stage of STAGES) {
      const span = document.createElement("span");
      span.textContent = stage;
      span.className = "stage" + (row.stages.includes(stage) ? " done" : "");
      td.appendChild(span);
    }
    if (!row.stages.length) td.append(row.progress);
  }

  function render(rows) {
    tbody.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement("tr");
      tr.dataset.name = row.name;
      tr.className = [row.stuck ? "stuck" : "", row.connected ? "connected" : ""].join(" ").trim();
      const name = cell(tr, "", "name");
      if (row.session) {
        const a = document.createElement("a");
        a.href = "/session/" + row.session;
        a.textContent = row.name;
        name.appendChild(a);
      } else {
        name.textContent = row.name;
      }
      if (row.kind === "address") name.append(" (address)");
      cell(tr, row.connected ? "connected" : "—", "now");
      progress(tr, row);
      cell(tr, String(row.messages), "num");
      const errors = cell(tr, String(row.errors) + (row.fives >= 3 ? " (repeated 5xx)" : ""), row.errors ? "errors bad" : "errors");
      if (row.last_errors.length) errors.title = row.last_errors.join("\n");
      cell(tr, row.findings.join(", "), "findings");
      cell(tr, row.last_activity ? new Date(row.last_activity * 1000).toLocaleTimeString() : "—", "when");
      tbody.appendChild(tr);
    }
  }

  const source = new EventSource("/events");
  source.addEventListener("board", (event) => {
    const data = JSON.parse(event.data);
    render(data.rows);
    status.textContent = "live · " + data.rows.length + " row(s)";
  });
  source.onerror = () => { status.textContent = "connection lost, reconnecting…"; };
})();
