"""tincan-testing."""
