"""The settings panel: :mod:`~captioner.ui.settings.dialog` with its :mod:`~captioner.ui.settings.pages`, the word
boost editor, the level meter and the appearance preview."""
