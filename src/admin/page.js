"use strict";
// The admin page: fetch the states and the picture, listen to the events, post the buttons.
const base = location.pathname.replace(/\/+$/, "");
const $ = (id) => document.getElementById(id);
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromHash) {
  sessionStorage.setItem("lifecycle-token", fromHash);
  history.replaceState(null, "", location.pathname + location.search);
}
$("token").value = sessionStorage.getItem("lifecycle-token") || "";
$("token").addEventListener("change", (e) => sessionStorage.setItem("lifecycle-token", e.target.value.trim()));

const text = (tag, content, cls) => {
  const el = document.createElement(tag);
  el.textContent = content == null ? "" : String(content);
  if (cls) el.className = cls;
  return el;
};
const when = (ms) => ms == null ? "" : new Date(ms).toLocaleTimeString();
const uptime = (s) => s == null ? "" : s < 60 ? s.toFixed(0) + " s" : s < 3600 ? (s / 60).toFixed(0) + " min" : (s / 3600).toFixed(1) + " h";
const badge = (c) => {
  const el = text("span", c.status.replace("_", " "), "status");
  el.style.background = c.fill; el.style.borderColor = c.line;
  return el;
};

function render(data) {
  const health = $("health");
  health.replaceChildren(
    text("span", "live: " + (data.live ? "yes" : "no"), "badge " + (data.live ? "yes" : "no")),
    text("span", "ready: " + (data.ready ? "yes" : "no"), "badge " + (data.ready ? "yes" : "no")),
    ...data.not_ready.map((n) => text("span", "not ready: " + n, "badge no")),
    text("span", data.states.filter((s) => s.status === "realized").length + " / " + data.states.length + " realized", "badge"));
  $("legend").replaceChildren(...data.legend.map((c) => {
    const item = text("span", c.status.replace("_", " "));
    const box = document.createElement("i");
    box.style.background = c.fill; box.style.borderColor = c.line;
    item.prepend(box);
    return item;
  }));
  const rows = data.states.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.state = s.name;
    tr.dataset.status = s.status;
    tr.dataset.startedAt = s.started_at_ms == null ? "" : String(s.started_at_ms);
    const status = document.createElement("td");
    status.append(badge(s.colour));
    const meta = Object.entries(s.meta).map(([k, v]) => k + "=" + v).join(" ");
    const actions = document.createElement("td");
    actions.className = "actions";
    for (const action of ["restart", "stop", "start"]) {
      const b = text("button", action);
      b.dataset.action = action;
      b.disabled = action !== "stop" && !s.controllable;
      b.addEventListener("click", () => post(action, s.name));
      actions.append(b, " ");
    }
    tr.append(text("td", s.name, "name"), status, text("td", meta, "meta"), text("td", when(s.started_at_ms)),
      text("td", s.start_ms == null ? "" : s.start_ms.toFixed(1) + " ms"), text("td", uptime(s.uptime_s)),
      text("td", s.restarts), text("td", s.last_error, "error"), actions);
    return tr;
  });
  $("states").tBodies[0].replaceChildren(...rows);
  $("startup").textContent = data.startup;
}

let pending = null;
async function refresh() {
  pending = null;
  try {
    const [states, svg] = await Promise.all([fetch(base + "/api/states"), fetch(base + "/api/graph.svg")]);
    render(await states.json());
    $("graph").innerHTML = await svg.text();
    document.body.dataset.refreshed = String(Date.now());
  } catch (e) {
    say("could not reach the program: " + e, false);
  }
}
const soon = () => { if (!pending) pending = setTimeout(refresh, 150); };

function say(message, ok) {
  const el = $("last-action");
  el.textContent = message;
  el.className = "last-action " + (ok ? "ok" : "failed");
}

async function post(action, name) {
  const url = base + "/api/" + action + (name ? "/" + encodeURIComponent(name) : "");
  try {
    const answer = await fetch(url, { method: "POST", headers: { "x-lifecycle-token": $("token").value.trim() } });
    const body = await answer.json();
    const changed = [body.stopped.length ? "stopped " + body.stopped.join(", ") : "",
      body.started.length ? "started " + body.started.join(", ") : ""].filter(Boolean).join("; ");
    say(body.message.replace(/\n/g, " · ") + (changed ? "  (" + changed + ")" : ""), body.ok);
  } catch (e) {
    say(action + " " + (name || "") + ": no answer (" + e + "); refreshing", false);
  }
  refresh();
}
$("stop-all").addEventListener("click", () => post("stop", null));

function listen() {
  const source = new EventSource(base + "/api/events");
  source.addEventListener("hello", () => { $("live").className = "live on"; refresh(); });
  source.addEventListener("lifecycle", (e) => {
    const event = JSON.parse(e.data);
    const item = text("li", new Date().toLocaleTimeString() + "  " + event.state + "  " + event.event);
    const list = $("events");
    list.prepend(item);
    while (list.children.length > 50) list.lastChild.remove();
    soon();
  });
  source.addEventListener("lagged", soon);
  source.onerror = () => { $("live").className = "live off"; };
}
refresh();
listen();
setInterval(refresh, 5000);
