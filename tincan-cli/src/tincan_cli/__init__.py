"""tincan-cli."""
