"""The web side of the store: datasette metadata and plugin (`incidents serve`), pages and charts, the Atom
feed, and alerts. See docs/VIEW.md."""
