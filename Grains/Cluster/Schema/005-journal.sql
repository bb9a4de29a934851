-- The ingest journal of the cluster profile (docs/cluster.md): every received message, accepted or rejected, as the
-- bronze line that holds its raw body. A row is the durable record: it is there once its commit returned.
CREATE SEQUENCE journal_sequence;

CREATE TABLE journal_messages
(
    sequence bigint NOT NULL DEFAULT nextval('journal_sequence') PRIMARY KEY,
    message_id uuid NULL,
    status smallint NOT NULL,               -- 1 accepted, 2 rejected (quarantined)
    patient_id text NULL,
    site_id text NULL,
    payload_type text NULL,
    received_at timestamptz NOT NULL,
    event_time timestamptz NULL,
    location text NOT NULL,                 -- the bronze (or quarantine) partition the line belongs in
    violations jsonb NULL,
    line bytea NOT NULL                     -- the bronze line, newline included
);

ALTER SEQUENCE journal_sequence OWNED BY journal_messages.sequence;

-- message_id is stored once across all silos: this index is the cluster-wide de-duplication.
CREATE UNIQUE INDEX journal_messages_by_id ON journal_messages (message_id);
-- A patient's replay after its snapshot.
CREATE INDEX journal_messages_by_patient ON journal_messages (patient_id, sequence) WHERE status = 1;
-- Sealing bronze hours into the lake.
CREATE INDEX journal_messages_by_received ON journal_messages (received_at);

-- Counts per writer (one silo's journal), so that silos never wait on each other's counter rows; readers sum them.
CREATE TABLE journal_counts
(
    writer text NOT NULL,
    site_id text NOT NULL,
    payload_type text NOT NULL,
    outcome text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (writer, site_id, payload_type, outcome)
);

CREATE TABLE journal_reasons
(
    writer text NOT NULL,
    site_id text NOT NULL,
    field text NOT NULL,
    rule text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (writer, site_id, field, rule)
);

-- Each writer's last commit number, committed with the counts it includes.
CREATE TABLE journal_writers
(
    writer text NOT NULL PRIMARY KEY,
    last_commit bigint NOT NULL,
    committed_at timestamptz NOT NULL
);
