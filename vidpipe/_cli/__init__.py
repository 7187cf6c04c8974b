"""CLI command modules. Each module imports `app` from vidpipe.cli and registers its commands."""
