// The list of sessions, newest first, redrawn from server-sent events (textContent only).
"use strict";
(function () {
  const tbody = document.querySelector("#sessions tbody");
  const status = document.getElementById("status");
  function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }
  const source = new EventSource("/events");
  source.addEventListener("board", (event) => {
    const data = JSON.parse(event.data);
    tbody.replaceChildren();
    for (const s of data.sessions) {
      const tr = document.createElement("tr");
      tr.dataset.session = s.number;
      const first = cell(tr, "");
      const a = document.createElement("a");
      a.href = "/session/" + s.number;
      a.textContent = "#" + s.number;
      first.appendChild(a);
      cell(tr, s.peer);
      cell(tr, s.user || "—");
      cell(tr, s.closed ? s.progress + " (closed)" : s.progress + " (live)");
      cell(tr, String(s.findings));
      tbody.appendChild(tr);
    }
    status.textContent = "live · " + data.sessions.length + " session(s)";
  });
  source.onerror = () => { status.textContent = "connection lost, reconnecting…"; };
})();
