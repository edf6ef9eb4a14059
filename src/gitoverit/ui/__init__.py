"""Live displays on stderr. Shown only when stderr is a terminal."""
