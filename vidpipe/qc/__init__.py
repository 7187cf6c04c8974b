"""Quality control: technical checks in one decode pass (report.run_qc), scoring by judges (judge.py).

Nothing is re-exported here: a package that imports its submodules makes every `vidpipe.qc.x`
import pull in the whole of QC (and, through report.py, learning) — an import cycle waiting to happen.
"""
