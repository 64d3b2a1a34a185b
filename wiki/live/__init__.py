"""Live co-editing: rooms, positions, folding of live edits into per-author commits."""
