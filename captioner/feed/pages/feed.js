/* Captioner caption feed: the client shared by the caption page and the transcript page.
 *
 * CaptionFeed.connect() opens the feed's WebSocket (/events on the server that served the page, with the
 * page's ?token=), hands every message to onMessage and reconnects by itself when the connection drops
 * (the app quit or restarted), waiting 0.5 s, then twice as long each time, up to 5 s.
 * CaptionFeed.Lines merges the records into caption lines by id, as the app's transcript does: an interim
 * replaces the live text of its line, a final commits it (a later final of the same id replaces it), a
 * drop abandons a live line. Text is only ever put into the page as text, never as markup.
 */
"use strict";

const CaptionFeed = (() => {
  const params = new URLSearchParams(location.search);

  function eventsUrl(history) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams();
    const token = params.get("token");
    if (token) query.set("token", token);
    if (history !== undefined) query.set("history", String(history));
    const qs = query.toString();
    return `${scheme}//${location.host}/events${qs ? "?" + qs : ""}`;
  }

  class Lines {
    constructor(keep) {
      this.keep = keep;
      this.finals = new Map();
      this.live = new Map();
      this.speakers = new Set();
    }

    clear() {
      this.finals.clear();
      this.live.clear();
      this.speakers.clear();
    }

    /* Merge one record; true when the lines changed. */
    apply(msg) {
      const id = String(msg.id);
      if (msg.type === "interim") {
        if (this.finals.has(id)) return false; // a late interim of a committed line: the final wins
        this.live.set(id, this._line(msg, false, this.live.get(id)));
        return true;
      }
      if (msg.type === "final") {
        const before = this.live.get(id) || this.finals.get(id);
        this.live.delete(id);
        if (!String(msg.text || "").trim() && !this.finals.has(id)) return true; // noise that decoded to nothing
        this.finals.set(id, this._line(msg, true, before));
        while (this.finals.size > this.keep) this.finals.delete(this.finals.keys().next().value);
        return true;
      }
      if (msg.type === "drop") return this.live.delete(id);
      return false;
    }

    _line(msg, final, before) {
      const speaker = msg.speaker != null ? String(msg.speaker) : before ? before.speaker : null;
      if (speaker != null) this.speakers.add(speaker);
      return {
        id: String(msg.id),
        text: String(msg.text || ""),
        tail: final ? "" : String(msg.tail || ""),
        speaker,
        start: typeof msg.start === "number" ? msg.start : before ? before.start : null,
        final,
      };
    }

    /* Committed lines, oldest first, then the lines still being spoken. */
    ordered() {
      return [...this.finals.values(), ...this.live.values()];
    }

    /* Speaker labels are shown once more than one speaker has appeared. */
    get manySpeakers() {
      return this.speakers.size > 1;
    }
  }

  function connect({ history, onMessage, onState }) {
    let delay = 500;
    function open() {
      onState("connecting");
      const ws = new WebSocket(eventsUrl(history));
      ws.onopen = () => {
        delay = 500;
        onState("open");
      };
      ws.onmessage = (event) => {
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch {
          return;
        }
        if (msg && typeof msg.type === "string") onMessage(msg);
      };
      ws.onclose = () => {
        onState("closed");
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 5000);
      };
    }
    open();
  }

  /* A line as an element: [speaker label] text [tentative tail], with classes for its state. */
  function lineElement(tag, line, showSpeaker) {
    const el = document.createElement(tag);
    el.className = `line ${line.final ? "final" : "interim"}`;
    el.dataset.id = line.id;
    if (showSpeaker && line.speaker) {
      const who = document.createElement("span");
      who.className = "speaker";
      who.textContent = line.speaker;
      el.append(who, " ");
    }
    let text = line.text;
    let tail = "";
    if (line.tail && text.endsWith(line.tail)) {
      tail = line.tail;
      text = text.slice(0, text.length - tail.length);
    }
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    el.append(body);
    if (tail) {
      const t = document.createElement("span");
      t.className = "tail";
      t.textContent = tail;
      el.append(t);
    }
    return el;
  }

  return { params, Lines, connect, lineElement };
})();
