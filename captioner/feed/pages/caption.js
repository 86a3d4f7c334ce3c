/* The caption page: the last few caption lines, rolling up as new ones arrive (like the app's overlay).
 *
 * Its style is the app's caption appearance (sent by the feed in its hello and style messages), each part
 * overridable in the URL's query: font, size (px), color, interim (the colour of words still being spoken),
 * bg (a colour, or "transparent"), opacity (0-1, of bg), outline (1/0), lines, width (characters), clear
 * (seconds without captions before they fade out, 0 = never), speakers (auto: shown once two speakers
 * appear; on; off), pos (bottom/top), page (the page's own background, transparent unless given: e.g. black
 * for a browser tab on a projector) and status (1: show the connection state). Colours are CSS colour
 * names or hex digits, with or without a "#" (written %23 in a URL).
 */
"use strict";

(() => {
  const query = CaptionFeed.params;
  const root = document.documentElement;
  const body = document.body;
  const box = document.getElementById("box");
  const captions = document.getElementById("captions");
  const status = document.getElementById("status");
  const lines = new CaptionFeed.Lines(50);
  let appStyle = {};
  let clearAfter = 0;
  let speakers = "auto";
  let idleTimer = null;
  let connection = "connecting";
  let engineState = "";

  function color(value) {
    if (typeof value !== "string") return null;
    const v = value.trim();
    if (/^#?([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(v)) return v.startsWith("#") ? v : `#${v}`;
    return /^([a-z]{3,20})$/i.test(v) ? v.toLowerCase() : null;
  }

  function number(value, lo, hi) {
    const n = Number(value);
    return value !== null && value !== undefined && value !== "" && Number.isFinite(n)
      ? Math.min(hi, Math.max(lo, n))
      : null;
  }

  function flag(value) {
    if (value === true || value === false) return value;
    if (typeof value !== "string") return null;
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    return /^(0|false|no|off)$/i.test(value) ? false : null;
  }

  /* The query's value when it is valid, else the app's, else the fallback. */
  function setting(name, parse, fallback) {
    const fromQuery = query.has(name) ? parse(query.get(name)) : null;
    if (fromQuery !== null) return fromQuery;
    const fromApp = name in appStyle ? parse(appStyle[name]) : null;
    return fromApp !== null ? fromApp : fallback;
  }

  /* A background colour with an opacity: hex colours become rgba(), names keep their own alpha. */
  function background(bg, opacity) {
    if (bg === "transparent") return "transparent";
    let hex = bg.startsWith("#") ? bg.slice(1) : "";
    if (hex.length === 3 || hex.length === 4) hex = [...hex.slice(0, 3)].map((c) => c + c).join("");
    if (hex.length === 6 || hex.length === 8) {
      const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
      return `rgba(${r}, ${g}, ${b}, ${opacity})`;
    }
    return bg;
  }

  function applyStyle() {
    const font = setting("font", (v) => (typeof v === "string" && v.trim() ? v.trim().slice(0, 100) : null), "");
    root.style.setProperty("--font", font ? `"${font.replace(/["\\]/g, "")}", sans-serif` : "sans-serif");
    root.style.setProperty("--size", `${setting("size", (v) => number(v, 8, 300), 28)}px`);
    root.style.setProperty("--color", setting("color", color, "#ffffff"));
    root.style.setProperty("--interim", setting("interim", color, "#c8c8c8"));
    const bg = setting("bg", color, "#000000");
    root.style.setProperty("--bg", background(bg, setting("opacity", (v) => number(v, 0, 1), 0.6)));
    root.style.setProperty("--lines", String(Math.round(setting("lines", (v) => number(v, 1, 20), 2))));
    root.style.setProperty("--width", `${setting("width", (v) => number(v, 10, 400), 60)}ch`);
    root.style.setProperty("--page", (query.has("page") && color(query.get("page"))) || "transparent");
    body.classList.toggle("outline", setting("outline", flag, true));
    body.classList.toggle("top", query.get("pos") === "top");
    clearAfter = setting("clear", (v) => number(v, 0, 3600), 8);
    const who = query.get("speakers");
    speakers = who === "on" || who === "off" ? who : "auto";
    status.hidden = !flag(query.get("status") || "0");
  }

  function showStatus() {
    body.dataset.state = connection;
    if (engineState) body.dataset.engine = engineState;
    const words = { connecting: "Connecting to Captioner…", open: "Connected", closed: "Reconnecting…" };
    status.textContent = words[connection] + (connection === "open" && engineState ? ` · ${engineState}` : "");
  }

  function render() {
    const show = speakers === "on" || (speakers === "auto" && lines.manySpeakers);
    const recent = lines.ordered().slice(-20);
    captions.replaceChildren(...recent.map((line) => CaptionFeed.lineElement("p", line, show)));
    box.classList.toggle("empty", recent.length === 0);
    box.classList.remove("idle");
    clearTimeout(idleTimer);
    if (clearAfter > 0 && recent.length) idleTimer = setTimeout(() => box.classList.add("idle"), clearAfter * 1000);
  }

  function onMessage(msg) {
    if (msg.type === "hello") {
      lines.clear();
      appStyle = msg.style || {};
      applyStyle();
      render();
    } else if (msg.type === "style") {
      appStyle = msg.style || {};
      applyStyle();
    } else if (msg.type === "status") {
      if (typeof msg.state === "string" && !["speech_started", "usage", "warning"].includes(msg.state)) {
        engineState = msg.state;
        showStatus();
      }
    } else if (lines.apply(msg)) {
      render();
    }
  }

  applyStyle();
  CaptionFeed.connect({
    history: 20,
    onMessage,
    onState: (state) => {
      connection = state;
      showStatus();
    },
  });
})();
