"""A private connection to the X server through libxcb (ctypes): input shapes and passive key grabs.

Qt does not expose what the overlay needs on X11, so this module talks to the X server itself, over its own
connection (the libraries are those Qt's xcb platform plugin already loads: ``libxcb``, ``libxcb-shape``,
``libxcb-keysyms``). It owns three things: the window's *input shape* (empty for click-through, the default
whole window otherwise — set after the window manager has framed the window, so that the manager copies it
to its frame), ``_NET_WM_STATE`` requests to the window manager, and passive key grabs on the root window
with the events they produce. Every request that can
fail is checked on its own, so nothing here installs a process-wide error handler.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass

SHAPE_SO_SET = 0
SHAPE_SK_INPUT = 2
GRAB_MODE_ASYNC = 1
KEY_PRESS, KEY_RELEASE, MAPPING_NOTIFY = 2, 3, 34
BAD_ACCESS = 10

SHIFT, LOCK, CONTROL, MOD1, MOD2, MOD4 = 1, 2, 4, 8, 16, 64
"""Modifier masks: Shift, Caps Lock, Ctrl, Alt (Mod1), Num Lock (Mod2), Super (Mod4)."""
IGNORED_MODIFIERS = (0, LOCK, MOD2, LOCK | MOD2)
"""Caps Lock and Num Lock must not stop a shortcut: each grab is made with every combination of them."""


class X11Unavailable(RuntimeError):
    """No X server to talk to, or its libraries are missing."""


class _ScreenIterator(ctypes.Structure):
    _fields_ = (("data", ctypes.POINTER(ctypes.c_uint32)), ("rem", ctypes.c_int), ("index", ctypes.c_int))


class _Cookie(ctypes.Structure):
    _fields_ = (("sequence", ctypes.c_uint),)


class _GenericError(ctypes.Structure):
    _fields_ = (("response_type", ctypes.c_uint8), ("error_code", ctypes.c_uint8), ("sequence", ctypes.c_uint16))


class _InternAtomReply(ctypes.Structure):
    _fields_ = (
        ("response_type", ctypes.c_uint8),
        ("pad0", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("length", ctypes.c_uint32),
        ("atom", ctypes.c_uint32),
    )


class _ClientMessage(ctypes.Structure):
    _fields_ = (
        ("response_type", ctypes.c_uint8),
        ("format", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("window", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("data", ctypes.c_uint32 * 5),
    )


class _KeyEvent(ctypes.Structure):
    _fields_ = (
        ("response_type", ctypes.c_uint8),
        ("detail", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("time", ctypes.c_uint32),
        ("root", ctypes.c_uint32),
        ("event", ctypes.c_uint32),
        ("child", ctypes.c_uint32),
        ("root_x", ctypes.c_int16),
        ("root_y", ctypes.c_int16),
        ("event_x", ctypes.c_int16),
        ("event_y", ctypes.c_int16),
        ("state", ctypes.c_uint16),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyEvent:
    """A key press or release delivered through a grab."""

    kind: int  # KEY_PRESS, KEY_RELEASE or MAPPING_NOTIFY (keycode and state are then 0)
    keycode: int
    state: int
    time: int


def _load(name: str, soname: str) -> ctypes.CDLL:
    for candidate in (soname, ctypes.util.find_library(name)):
        if candidate:
            try:
                return ctypes.CDLL(candidate)
            except OSError:
                continue
    raise X11Unavailable(f"the X11 library {soname} is not installed")


def _bind(lib: ctypes.CDLL, name: str, restype: object, *argtypes: object) -> None:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


class _Libs:
    """The three libraries and the prototypes used from them (loaded once)."""

    _loaded: _Libs | None = None

    def __init__(self) -> None:
        p, u8, u16, u32, i16 = ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_int16
        self.xcb = xcb = _load("xcb", "libxcb.so.1")
        self.shape = shape = _load("xcb-shape", "libxcb-shape.so.0")
        self.keysyms = keysyms = _load("xcb-keysyms", "libxcb-keysyms.so.1")
        self.libc = ctypes.CDLL(None)
        _bind(xcb, "xcb_connect", p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
        _bind(xcb, "xcb_connection_has_error", ctypes.c_int, p)
        _bind(xcb, "xcb_disconnect", None, p)
        _bind(xcb, "xcb_get_setup", p, p)
        _bind(xcb, "xcb_setup_roots_iterator", _ScreenIterator, p)
        _bind(xcb, "xcb_screen_next", None, ctypes.POINTER(_ScreenIterator))
        _bind(xcb, "xcb_get_file_descriptor", ctypes.c_int, p)
        _bind(xcb, "xcb_flush", ctypes.c_int, p)
        _bind(xcb, "xcb_poll_for_event", p, p)
        _bind(xcb, "xcb_request_check", ctypes.POINTER(_GenericError), p, _Cookie)
        _bind(xcb, "xcb_grab_key_checked", _Cookie, p, u8, u32, u16, u8, u8, u8)
        _bind(xcb, "xcb_ungrab_key_checked", _Cookie, p, u8, u32, u16)
        _bind(xcb, "xcb_intern_atom", _Cookie, p, u8, u16, ctypes.c_char_p)
        _bind(xcb, "xcb_intern_atom_reply", ctypes.POINTER(_InternAtomReply), p, _Cookie, p)
        _bind(xcb, "xcb_send_event_checked", _Cookie, p, u8, u32, u32, ctypes.c_char_p)
        _bind(shape, "xcb_shape_rectangles_checked", _Cookie, p, u8, u8, u8, u32, i16, i16, u32, p)
        _bind(shape, "xcb_shape_mask_checked", _Cookie, p, u8, u8, u32, i16, i16, u32)
        _bind(keysyms, "xcb_key_symbols_alloc", p, p)
        _bind(keysyms, "xcb_key_symbols_free", None, p)
        _bind(keysyms, "xcb_key_symbols_get_keycode", ctypes.POINTER(ctypes.c_uint8), p, u32)
        _bind(self.libc, "free", None, p)

    @classmethod
    def get(cls) -> _Libs:
        if cls._loaded is None:
            cls._loaded = cls()
        return cls._loaded


class XConnection:
    """One connection to the X server of ``display`` (default: ``DISPLAY``)."""

    def __init__(self, display: str | None = None) -> None:
        name = display if display is not None else os.environ.get("DISPLAY", "")
        if not name:
            raise X11Unavailable("DISPLAY is not set")
        self._libs = libs = _Libs.get()
        screen = ctypes.c_int(0)
        conn = libs.xcb.xcb_connect(name.encode(), ctypes.byref(screen))
        if not conn or libs.xcb.xcb_connection_has_error(conn):
            if conn:
                libs.xcb.xcb_disconnect(conn)
            raise X11Unavailable(f"cannot connect to the X server {name}")
        self._conn: int | None = conn
        it = libs.xcb.xcb_setup_roots_iterator(libs.xcb.xcb_get_setup(conn))
        for _ in range(screen.value):
            libs.xcb.xcb_screen_next(ctypes.byref(it))
        self.root = int(it.data[0])  # xcb_screen_t starts with its root window
        self._keysyms = libs.keysyms.xcb_key_symbols_alloc(conn)

    @property
    def conn(self) -> int:
        if self._conn is None:
            raise X11Unavailable("the X connection is closed")
        return self._conn

    def fileno(self) -> int:
        return int(self._libs.xcb.xcb_get_file_descriptor(self.conn))

    def flush(self) -> None:
        self._libs.xcb.xcb_flush(self.conn)

    def close(self) -> None:
        if self._conn is not None:
            if self._keysyms:
                self._libs.keysyms.xcb_key_symbols_free(self._keysyms)
                self._keysyms = None
            self._libs.xcb.xcb_disconnect(self._conn)
            self._conn = None

    def _check(self, cookie: _Cookie) -> int:
        """Wait for the request's outcome: 0, or the X error code."""
        err = self._libs.xcb.xcb_request_check(self.conn, cookie)
        if not err:
            return 0
        code = int(err.contents.error_code)
        self._libs.libc.free(err)
        return code

    # -- input shape ---------------------------------------------------------------------------
    def set_input_passthrough(self, window: int, on: bool) -> bool:
        """Empty the window's input shape (every click goes to what is below it), or remove the shape (the
        whole window takes input again, whatever size it takes later). True when the server accepted it."""
        if on:
            cookie = self._libs.shape.xcb_shape_rectangles_checked(
                self.conn, SHAPE_SO_SET, SHAPE_SK_INPUT, 0, window, 0, 0, 0, None
            )
        else:
            cookie = self._libs.shape.xcb_shape_mask_checked(self.conn, SHAPE_SO_SET, SHAPE_SK_INPUT, window, 0, 0, 0)
        return self._check(cookie) == 0

    # -- window manager hints -----------------------------------------------------------------
    def atom(self, name: str) -> int:
        reply = self._libs.xcb.xcb_intern_atom_reply(
            self.conn, self._libs.xcb.xcb_intern_atom(self.conn, 0, len(name), name.encode()), None
        )
        if not reply:
            raise X11Unavailable(f"the X server has no atom {name}")
        atom = int(reply.contents.atom)
        self._libs.libc.free(reply)
        return atom

    def add_wm_states(self, window: int, *names: str) -> bool:
        """Ask the window manager to add ``_NET_WM_STATE`` states (two at most) to a mapped window."""
        atoms = [self.atom(n) for n in names[:2]] + [0, 0]
        msg = _ClientMessage(33, 32, 0, window, self.atom("_NET_WM_STATE"), (ctypes.c_uint32 * 5)(1, *atoms[:2], 1, 0))
        mask = 0x100000 | 0x80000  # SubstructureRedirect | SubstructureNotify, as the EWMH asks
        raw = ctypes.string_at(ctypes.byref(msg), 32)
        return self._check(self._libs.xcb.xcb_send_event_checked(self.conn, 0, self.root, mask, raw)) == 0

    # -- keys ----------------------------------------------------------------------------------
    def keycodes(self, keysym: int) -> list[int]:
        """The keycodes that produce ``keysym`` in the current keyboard map."""
        codes = self._libs.keysyms.xcb_key_symbols_get_keycode(self._keysyms, keysym)
        if not codes:
            return []
        out: list[int] = []
        i = 0
        while codes[i]:
            out.append(int(codes[i]))
            i += 1
        self._libs.libc.free(codes)
        return out

    def refresh_keymap(self) -> None:
        """The keyboard map changed: forget the cached one."""
        self._libs.keysyms.xcb_key_symbols_free(self._keysyms)
        self._keysyms = self._libs.keysyms.xcb_key_symbols_alloc(self.conn)

    def grab_key(self, keycode: int, modifiers: int) -> int:
        """A passive grab of ``keycode`` with ``modifiers`` on the root window: 0, or the X error code
        (``BAD_ACCESS`` when another client holds that grab)."""
        cookie = self._libs.xcb.xcb_grab_key_checked(
            self.conn, 0, self.root, modifiers, keycode, GRAB_MODE_ASYNC, GRAB_MODE_ASYNC
        )
        return self._check(cookie)

    def ungrab_key(self, keycode: int, modifiers: int) -> None:
        self._check(self._libs.xcb.xcb_ungrab_key_checked(self.conn, keycode, self.root, modifiers))

    def poll_events(self) -> list[KeyEvent]:
        """The key (and keyboard-mapping) events waiting; other events are dropped."""
        out: list[KeyEvent] = []
        while True:
            ev = self._libs.xcb.xcb_poll_for_event(self.conn)
            if not ev:
                return out
            key = ctypes.cast(ev, ctypes.POINTER(_KeyEvent)).contents
            kind = key.response_type & 0x7F
            if kind in (KEY_PRESS, KEY_RELEASE):
                out.append(KeyEvent(kind=kind, keycode=key.detail, state=key.state, time=key.time))
            elif kind == MAPPING_NOTIFY:
                out.append(KeyEvent(kind=kind, keycode=0, state=0, time=0))
            self._libs.libc.free(ev)
