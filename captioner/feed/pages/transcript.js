/* The live transcript page: every committed line (up to the last 1000 when it joins) and the line being
 * spoken, with its time in the recording and its speaker once there are several. It follows the newest
 * line while the reader is at the bottom, and stays put (with a button back to the latest) when they
 * scrolled up. The text is plain page text, so the browser's find (Ctrl+F) searches it.
 */
"use strict";

(() => {
  const list = document.getElementById("lines");
  const empty = document.getElementById("empty");
  const status = document.getElementById("status");
  const latest = document.getElementById("latest");
  const lines = new CaptionFeed.Lines(1000);
  const words = { connecting: "Connecting to Captioner…", open: "Live", closed: "Reconnecting…" };

  function clock(seconds) {
    if (typeof seconds !== "number") return "";
    const s = Math.floor(seconds);
    const hh = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60)).padStart(hh ? 2 : 1, "0");
    const ss = String(s % 60).padStart(2, "0");
    return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  function atBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  }

  function item(line, showSpeaker) {
    const li = document.createElement("li");
    li.className = `line ${line.final ? "final" : "interim"}`;
    li.dataset.id = line.id;
    const time = document.createElement("time");
    time.textContent = clock(line.start);
    const text = CaptionFeed.lineElement("span", line, showSpeaker);
    text.className = "body";
    li.append(time, text);
    return li;
  }

  let shownSpeakers = false;

  /* Redraw what changed: only the line of ``id`` when the order of lines stays the same (so a find
     highlight or a selection elsewhere survives), every line otherwise. */
  function render(id) {
    const follow = atBottom();
    const all = lines.ordered();
    const ids = all.map((line) => line.id);
    const shown = [...list.children].map((li) => li.dataset.id);
    const same = ids.length === shown.length && ids.every((x, i) => x === shown[i]);
    const appended = ids.length === shown.length + 1 && shown.every((x, i) => x === ids[i]) && ids.at(-1) === id;
    const many = lines.manySpeakers;
    if (id !== undefined && many === shownSpeakers && (same || appended)) {
      const line = all[ids.indexOf(id)];
      if (same) list.children[ids.indexOf(id)].replaceWith(item(line, many));
      else list.append(item(line, many));
    } else {
      list.replaceChildren(...all.map((line) => item(line, many)));
    }
    shownSpeakers = many;
    empty.hidden = all.length > 0;
    if (follow) window.scrollTo(0, document.body.scrollHeight);
    latest.hidden = atBottom();
  }

  latest.addEventListener("click", () => {
    window.scrollTo(0, document.body.scrollHeight);
    latest.hidden = true;
  });
  window.addEventListener("scroll", () => {
    if (atBottom()) latest.hidden = true;
  });

  CaptionFeed.connect({
    history: 1000,
    onMessage: (msg) => {
      if (msg.type === "hello") {
        lines.clear();
        render();
      } else if (lines.apply(msg)) {
        render(String(msg.id));
      }
    },
    onState: (state) => {
      document.body.dataset.state = state;
      status.textContent = words[state];
    },
  });
})();
