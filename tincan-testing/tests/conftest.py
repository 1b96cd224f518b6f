"""The plugin is tested as users meet it: through pytest runs of their test files."""

pytest_plugins = ["pytester"]
