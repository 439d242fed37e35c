"""azml-console: the CLI, the app shell, configuration, profiles, credentials and headless output."""

__version__ = "0.1.0"
