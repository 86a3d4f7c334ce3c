"""The pages of the settings panel (:mod:`captioner.ui.settings.dialog`).

Each page is a small widget that shows part of a :class:`~captioner.settings.Settings`,
emits ``edited(delay_ms)`` when the user changes something, and folds its
current values into a ``Settings`` with ``apply(settings) -> Settings``.
"""
