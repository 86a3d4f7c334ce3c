"""The listing commands of ``captioner``: ``engines`` (each engine, whether it is usable here and why not, what it
is for) and ``devices`` (microphones and system-audio sources, with ids for ``--device``), as text or JSON lines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from typing import TextIO

from captioner.engines import registry
from captioner.engines.base import EngineUnavailable
from captioner.exit_codes import EXIT_OK


def cmd_engines(args: argparse.Namespace, out: TextIO) -> int:
    rows = []
    for info in registry.ENGINES.values():
        ok, why = info.availability()
        caps = None
        with contextlib.suppress(EngineUnavailable):
            caps = info.capabilities
        rows.append((info, ok, why, caps))
    if args.json:
        for info, ok, why, caps in rows:
            rec = {"id": info.id, "name": info.name, "available": ok, "reason": why, "description": info.description}
            if caps is not None:
                rec.update(
                    interim=caps.interim_results,
                    word_boost=caps.word_boost,
                    live_update=caps.live_update,
                    silence_threshold=caps.silence_threshold,
                    sample_rate=caps.sample_rate,
                    needs_credentials=caps.needs_credentials,
                )
            out.write(json.dumps(rec) + "\n")
        return EXIT_OK
    for info, ok, why, caps in rows:
        mark = "yes" if ok else "no "
        default = " (default)" if info.id == registry.DEFAULT_ENGINE else ""
        out.write(f"{info.id:<12} {mark}  {info.name}{default}: {why}\n")
        out.write(f"{'':<17}{info.description}\n")
        if caps is not None:
            feats = [
                "interim" if caps.interim_results else "finals only",
                "word boost" if caps.word_boost else "no word boost",
                "silence threshold" if caps.silence_threshold else "no silence threshold",
                "live update" if caps.live_update else "restart on change",
            ]
            out.write(f"{'':<17}{', '.join(feats)}; {caps.sample_rate} Hz\n")
    return EXIT_OK


def cmd_devices(args: argparse.Namespace, out: TextIO) -> int:
    from captioner.audio.devices import list_devices

    devices = list_devices()
    if args.json:
        for dev in devices:
            out.write(json.dumps(dev.as_dict()) + "\n")
        return EXIT_OK
    if not devices:
        out.write("no audio input devices found\n")
        return EXIT_OK
    for kind, title in (("mic", "Microphones"), ("system", "System audio (what the computer plays)")):
        group = [d for d in devices if d.kind == kind]
        out.write(f"{title}:\n")
        if not group:
            out.write("  (none)\n")
        for dev in group:
            default = "  [default]" if dev.default else ""
            out.write(f"  {dev.id:<28} {dev.name}{default}\n")
    return EXIT_OK


# -- caption -------------------------------------------------------------------------------------
