"""The desktop UI: the only package (with :mod:`captioner.app`) that imports PySide6 or qasync.

* :mod:`captioner.ui.desktop` — :class:`~captioner.ui.desktop.DesktopApp`, every widget wired together;
* :mod:`captioner.ui.lifecycle` — one running app per user, a clean quit on Ctrl-C/SIGTERM;
* :mod:`captioner.ui.controller` — the bridge from the caption session to Qt signals;
* :mod:`captioner.ui.overlay` — the always-on-top caption overlay window (layout in
  :mod:`captioner.ui.overlay_layout`, painting in :mod:`captioner.ui.overlay_paint`);
* :mod:`captioner.ui.tray` — the tray icon and menu (and a control window without a tray);
* :mod:`captioner.ui.settings.dialog`, :mod:`captioner.ui.transcript_window` — the settings panel and transcript;
* :mod:`captioner.ui.platform` — Wayland detection and the XWayland fallback; :mod:`captioner.ui.icons`.
"""
