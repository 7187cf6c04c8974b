"""Learning group: the DuckDB QC table as an asset, and LESSONS.md mined from it."""


import dagster as dg

from assets.metadata import clean
from assets.qc import shot_qc
from resources import DuckDBStore, MediaRoot
from vidpipe.learning.mine import learn
from vidpipe.learning.trends import trends


@dg.asset(
    group_name="learning",
    kinds={"duckdb"},
    owners=["team:production"],
    code_version="1",
    deps=[shot_qc],
    description="Every QC pass and score in DuckDB (data/vidpipe.duckdb): row counts and the trend table "
    "(mean overall by model × category, with n).",
)
def qc_scores(context: dg.AssetExecutionContext, store: DuckDBStore) -> dg.MaterializeResult:
    s = store.store()
    counts = s.query("SELECT (SELECT count(*) FROM qc) AS qc_rows, (SELECT count(*) FROM scores) AS score_rows")[0]
    rows = trends(s, by=("model", "category"))
    records = [dg.TableRecord({k: (round(v, 2) if isinstance(v, float) else v)
                               for k, v in r.as_record().items()}) for r in rows[:50]]
    meta = {
        "dagster/row_count": int(counts["qc_rows"]),
        "qc_rows": int(counts["qc_rows"]),
        "score_rows": int(counts["score_rows"]),
        "db": dg.MetadataValue.path(str(s.path)),
    }
    if records:
        meta["trends"] = dg.MetadataValue.table(records)
    return dg.MaterializeResult(metadata=clean(meta))


@dg.asset(
    group_name="learning",
    kinds={"python"},
    owners=["team:production"],
    code_version="1",
    deps=[qc_scores],
    description="LESSONS.md: significant patterns mined from the QC history (model × category × prompt "
    "features × scores × defects) appended with their evidence; they feed prompt lint and routing.",
)
def lessons(context: dg.AssetExecutionContext, media: MediaRoot, store: DuckDBStore) -> dg.MaterializeResult:
    paths = media.paths()
    report = learn(store.store(), paths.lessons)
    return dg.MaterializeResult(metadata=clean({
        "path": dg.MetadataValue.path(str(paths.lessons)),
        "appended": len(report.appended),
        "new_lessons": dg.MetadataValue.md("\n".join(f"- {getattr(x, 'text', x)}" for x in report.appended) or "(none)"),
    }))
