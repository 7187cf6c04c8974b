"""Pipeline stages for episodes and shots: the one implementation behind the CLI, API and Dagster assets.

Nothing is re-exported here (as in vidpipe.qc): a package that imports its stages makes every
`vidpipe.pipeline.x` import load all of them, so a module the stages use that itself needs, say, the
shot record (the storyboard sheet) formed an import cycle. Import from the submodules: record.py
(ShotRef), shot_stages.py, episode_stages.py, cast_stages.py.
"""
