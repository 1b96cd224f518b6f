"""tincan-static."""
