"""Moving and resizing the caption overlay with the mouse: drag anywhere to move, an edge to resize.

:class:`EdgeDrag` turns the overlay's mouse events into moves and resizes: the left/right edges set the
width, the top/bottom edges (and the corners) the number of caption lines, snapping to whole lines as the
drag goes. On Wayland, Windows and macOS moves and width changes are handed to the compositor
(``startSystemMove`` / ``startSystemResize``; on Wayland a window cannot move itself). On X11 they are done
by hand: Qt's X11 system move sends the window manager a pointer position mapped through the window's cached
position, which is stale for a while after the window was placed, and the window then jumps away by that
much; a window manager left in its move mode by a short click also holds the keyboard, global shortcuts
included. The overlay saves whatever the
user did once the window settles (see :meth:`captioner.ui.overlay.CaptionOverlay.begin_interaction`).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QCursor, QGuiApplication, QMouseEvent, QWindow

from captioner.ui.overlay_place import MIN_WIDTH


class Draggable(Protocol):
    """What the drag needs of the overlay window."""

    @property
    def compact(self) -> bool: ...
    def begin_interaction(self) -> None: ...
    def end_interaction(self) -> None: ...
    def set_lines(self, lines: int, *, keep_bottom: bool = False) -> None: ...
    def lines_for_height(self, height: int) -> int: ...
    def width(self) -> int: ...
    def height(self) -> int: ...
    def y(self) -> int: ...
    def size(self) -> QSize: ...
    def geometry(self) -> QRect: ...
    def windowHandle(self) -> QWindow: ...
    def setCursor(self, cursor: QCursor | Qt.CursorShape) -> None: ...
    def setGeometry(self, rect: QRect) -> None: ...
    def move(self, pos: QPoint) -> None: ...


EDGE = 8  # px from the border where a press resizes instead of moving
VERTICAL = Qt.Edge.TopEdge | Qt.Edge.BottomEdge


class EdgeDrag:
    """The mouse handling of one overlay window."""

    def __init__(self, overlay: Draggable) -> None:
        self._ov = overlay
        self._press: tuple[QPoint, QRect, Qt.Edge | None] | None = None

    def edges_at(self, pos: QPoint) -> Qt.Edge | None:
        ov = self._ov
        edges = Qt.Edge(0)
        if pos.x() < EDGE:
            edges |= Qt.Edge.LeftEdge
        elif pos.x() >= ov.width() - EDGE:
            edges |= Qt.Edge.RightEdge
        if not ov.compact:  # the status row alone has no lines to resize
            if pos.y() < EDGE:
                edges |= Qt.Edge.TopEdge
            elif pos.y() >= ov.height() - EDGE:
                edges |= Qt.Edge.BottomEdge
        return edges if edges != Qt.Edge(0) else None

    def press(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        ov = self._ov
        edges = self.edges_at(event.position().toPoint())
        ov.begin_interaction()
        handle = ov.windowHandle()
        # The height is a whole number of caption lines, which the compositor cannot snap to: the top and
        # bottom edges (and the corners) are always resized by hand, the drag choosing the line count.
        by_hand = (edges is not None and bool(edges & VERTICAL)) or QGuiApplication.platformName() == "xcb"
        if (
            handle is not None
            and not by_hand
            and (handle.startSystemResize(edges) if edges else handle.startSystemMove())
        ):
            self._press = None  # the compositor has the pointer now; its moves reach moveEvent
            return
        # Where the window is, from the press itself (the server's pointer position less the position in the
        # window): Qt's own idea of it can lag behind the window manager's placement.
        at = event.globalPosition().toPoint()
        self._press = (at, QRect(at - event.position().toPoint(), ov.size()), edges)

    def move(self, event: QMouseEvent) -> None:
        ov = self._ov
        if self._press is None:
            ov.setCursor(cursor_for(self.edges_at(event.position().toPoint())))
            return
        start, rect, edges = self._press
        delta = event.globalPosition().toPoint() - start
        if edges is None:
            ov.move(rect.topLeft() + delta)
            return
        r = QRect(rect)
        if edges & Qt.Edge.LeftEdge:
            r.setLeft(min(r.left() + delta.x(), r.right() - MIN_WIDTH))
        if edges & Qt.Edge.RightEdge:
            r.setRight(max(r.right() + delta.x(), r.left() + MIN_WIDTH))
        r.moveTop(ov.y())  # the height is the line count's, set below: keep it as it is now
        r.setHeight(ov.height())
        ov.setGeometry(r)
        if edges & VERTICAL:
            # The line count nearest to the height the edge was dragged to; the window takes that count's
            # height, keeping the opposite edge where it was.
            dy = delta.y() if edges & Qt.Edge.BottomEdge else -delta.y()
            ov.set_lines(ov.lines_for_height(rect.height() + dy), keep_bottom=bool(edges & Qt.Edge.TopEdge))

    def release(self, event: QMouseEvent) -> None:
        if self._press is not None:
            self._press = None
            self._ov.end_interaction()


def cursor_for(edges: Qt.Edge | None) -> Qt.CursorShape:
    if edges is None:
        return Qt.CursorShape.SizeAllCursor
    vertical = bool(edges & VERTICAL)
    if not edges & (Qt.Edge.LeftEdge | Qt.Edge.RightEdge):
        return Qt.CursorShape.SizeVerCursor
    if not vertical:
        return Qt.CursorShape.SizeHorCursor
    falling = edges in (Qt.Edge.TopEdge | Qt.Edge.LeftEdge, Qt.Edge.BottomEdge | Qt.Edge.RightEdge)
    return Qt.CursorShape.SizeFDiagCursor if falling else Qt.CursorShape.SizeBDiagCursor
