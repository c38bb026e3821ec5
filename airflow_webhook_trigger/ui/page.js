// The Webhooks page's behaviour: reveal and copy a URL, filter deliveries, local times, and
// links that open in the Airflow UI around this page (it runs in the UI's iframe).
(function () {
  "use strict";
  const api = document.body.dataset.api;
  const revealed = new Map(); // row key -> full URL (kept only in this page's memory)

  // Follow the UI's light/dark mode when shown inside it, also when it is switched.
  try {
    if (window.parent !== window) {
      const outer = window.parent.document.documentElement;
      const follow = () => document.documentElement.classList.toggle("dark", outer.classList.contains("dark"));
      follow();
      new MutationObserver(follow).observe(outer, { attributes: true, attributeFilter: ["class"] });
    }
  } catch (e) { /* not inside the Airflow UI */ }

  // Times: in the timezone picked in the Airflow UI (else the browser's), as the UI shows them,
  // with how long ago in the tooltip (the webhooks table shows "ago" and the time in the tooltip).
  const zone = (() => {
    try {
      const raw = window.localStorage.getItem("timezone");
      if (!raw) return undefined;
      try { return JSON.parse(raw); } catch (e) { return raw; }
    } catch (e) { return undefined; }
  })();
  const ago = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  };
  function formatTime(when) {
    const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23" };
    let parts;
    try { parts = new Intl.DateTimeFormat("en-CA", Object.assign({ timeZone: zone }, options)).formatToParts(when); }
    catch (e) { parts = new Intl.DateTimeFormat("en-CA", options).formatToParts(when); }
    const part = (type) => (parts.find((p) => p.type === type) || {}).value;
    return part("year") + "-" + part("month") + "-" + part("day") + " " + part("hour") + ":" + part("minute") + ":" + part("second");
  }
  for (const el of document.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) continue;
    const inTable = Boolean(el.closest("#webhooks"));
    el.textContent = inTable ? ago(Date.now() - when) : formatTime(when);
    el.title = inTable ? formatTime(when) : ago(Date.now() - when);
  }

  // Links to DAGs and runs open in the Airflow UI itself, not inside this frame.
  for (const link of document.querySelectorAll("a[data-airflow-link]")) {
    link.addEventListener("click", (event) => {
      if (window.top === window || event.ctrlKey || event.metaKey || event.shiftKey) return;
      try {
        const top = window.top;
        if (top.location.origin !== window.location.origin) return;
        event.preventDefault();
        const idx = (top.history.state && typeof top.history.state.idx === "number") ? top.history.state.idx : 0;
        top.history.pushState({ usr: null, key: Math.random().toString(36).slice(2, 10), idx: idx + 1 }, "",
          link.getAttribute("href"));
        top.dispatchEvent(new PopStateEvent("popstate", { state: top.history.state }));
      } catch (e) { window.location.href = link.href; }
    });
  }

  // Reveal / Copy: the full URL comes from the server, which checks the right to trigger the DAG.
  const keyOf = (btn) => [btn.dataset.ns, btn.dataset.dag, btn.dataset.trigger];
  async function fetchUrl(btn) {
    const key = JSON.stringify(keyOf(btn));
    if (revealed.has(key)) return revealed.get(key);
    const path = keyOf(btn).map(encodeURIComponent).join("/");
    const response = await fetch(api + "/" + path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = {};
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) throw new Error(body.message || ("HTTP " + response.status));
    revealed.set(key, body.url);
    return body.url;
  }
  function showError(cell, message) {
    const box = cell.querySelector(".error");
    box.textContent = message || "";
    box.hidden = !message;
  }
  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* fall back below */ }
    const area = document.createElement("textarea");
    area.value = text; area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }
  for (const btn of document.querySelectorAll("button.reveal, button.copy")) {
    btn.addEventListener("click", async () => {
      const cell = btn.closest("td");
      const code = cell.querySelector("code.url");
      const reveal = btn.classList.contains("reveal");
      if (reveal && code.classList.contains("revealed")) {
        code.textContent = code.dataset.masked; code.classList.remove("revealed"); btn.textContent = "Reveal";
        return;
      }
      btn.disabled = true;
      try {
        const url = await fetchUrl(btn);
        showError(cell, "");
        if (reveal) {
          code.textContent = url; code.classList.add("revealed"); btn.textContent = "Hide";
        } else {
          const label = btn.textContent;
          btn.textContent = (await copyText(url)) ? "Copied" : "Copy failed";
          setTimeout(() => { btn.textContent = label; }, 1500);
        }
      } catch (e) {
        showError(cell, e.message);
      } finally {
        btn.disabled = false;
      }
    });
  }

  // "N recent" filters the deliveries table to one webhook; "Show all" clears the filter.
  const note = document.querySelector(".filter-note");
  function filterDeliveries(key) {
    for (const row of document.querySelectorAll("#deliveries-table tbody tr")) {
      row.hidden = Boolean(key) && row.dataset.webhook !== key;
    }
    for (const row of document.querySelectorAll("#webhooks tbody tr")) {
      row.classList.toggle("selected", Boolean(key) && row.dataset.webhook === key);
    }
    if (note) {
      note.hidden = !key;
      if (key) {
        const [ns, dag, trigger] = JSON.parse(key);
        note.querySelector(".filter-name").textContent = ns + " / " + dag + " / " + trigger;
      }
    }
  }
  for (const link of document.querySelectorAll("a.filter")) {
    link.addEventListener("click", () => filterDeliveries(link.dataset.webhook));
  }
})();
