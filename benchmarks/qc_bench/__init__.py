"""The labelled QC benchmark (issue 24): clips with known truth, QC run over them, precision/recall per code."""
