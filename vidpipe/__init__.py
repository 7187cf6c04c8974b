"""vidpipe: an AI video production pipeline. Core library; never imports Dagster."""

__version__ = "0.1.0"
