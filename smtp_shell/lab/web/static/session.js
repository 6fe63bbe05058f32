// One SMTP session, live: drawn like the shell draws it (" -> " client, "<-  " server, "~" under
// TLS, "===" notes), reply codes coloured by class, the analyser's findings beside it.
"use strict";
(function () {
  const split = document.querySelector(".split");
  const number = split.dataset.session;
  const pre = document.getElementById("lines");
  const list = document.getElementById("findings");
  const status = document.getElementById("status");

  function prefix(line) {
    if (line.who === "C") return line.tls ? " ~> " : " -> ";
    if (line.who === "S") return line.tls ? "<~  " : "<-  ";
    return "=== ";
  }

  function classes(line) {
    if (line.who === "C") return "line client";
    if (line.who === "S") return "line server c" + (/^[2-5]/.test(line.text) ? line.text[0] : "x") + "xx";
    return "line note";
  }

  function draw(view) {
    if (view.missing !== undefined) {
      status.textContent = "no session " + view.missing + " (yet): it appears here when it starts";
      return;
    }
    while (pre.childNodes.length > view.start) pre.removeChild(pre.lastChild);
    for (const line of view.lines) {
      const span = document.createElement("span");
      span.className = classes(line) + (line.tls ? " tls" : "");
      span.dataset.n = line.n;
      span.textContent = prefix(line) + line.text + "\n";
      pre.appendChild(span);
    }
    list.replaceChildren();
    for (const f of view.findings) {
      const li = document.createElement("li");
      li.dataset.rule = f.rule;
      const title = document.createElement("strong");
      title.textContent = f.title;
      const evidence = document.createElement("code");
      evidence.textContent = f.evidence;
      const fix = document.createElement("small");
      fix.textContent = (f.detail ? f.detail + " · " : "") + "fix: " + f.fix;
      li.append(title, document.createElement("br"), evidence, document.createElement("br"), fix);
      list.appendChild(li);
    }
    if (!view.findings.length) {
      const li = document.createElement("li");
      li.textContent = "no findings so far";
      list.appendChild(li);
    }
    const who = view.user ? view.user + " · " : "";
    status.textContent = who + view.peer + " · " + view.progress + (view.closed ? " · closed" : " · live");
  }

  const source = new EventSource("/events?session=" + encodeURIComponent(number));
  source.addEventListener("session", (event) => draw(JSON.parse(event.data)));
  source.onerror = () => { status.textContent = "connection lost, reconnecting…"; };
})();
