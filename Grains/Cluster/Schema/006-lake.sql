-- The lake's state in the cluster profile (ILakeState): shared, so that a job continues where its last run stopped on
-- whichever silo runs it next, and its runs are listed once for the whole cluster.
CREATE TABLE lake_bronze_progress
(
    location text NOT NULL PRIMARY KEY,     -- a bronze file under the data directory, raw/.../part-0.ndjson
    consumed bigint NOT NULL,               -- bytes already turned into silver
    copied boolean NOT NULL DEFAULT false   -- the file is in the lake storage's raw/ too
);

CREATE TABLE lake_silver_changes
(
    date date NOT NULL PRIMARY KEY
);

CREATE TABLE lake_job_runs
(
    id bigserial PRIMARY KEY,
    job text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NULL,
    status text NOT NULL,
    rows_in bigint NOT NULL DEFAULT 0,
    rows_out bigint NOT NULL DEFAULT 0,
    details jsonb NULL,
    error text NULL
);

CREATE INDEX lake_job_runs_by_job ON lake_job_runs (job, id);

-- Every hour of journal_messages received before exported_before is in the lake (bronze-to-silver moves it).
CREATE TABLE journal_export
(
    singleton boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (singleton),
    exported_before timestamptz NOT NULL
);
