-- The EMR outbox of the cluster profile (docs/fhir.md): the journal is the outbox. Sequences are taken before their
-- transactions commit, so a later sequence can become visible before an earlier one; the order a reader can follow is
-- the id of the transaction that wrote the row, then the sequence. Every transaction with an id below the
-- oldest one still running (pg_snapshot_xmin) has ended, and no new one can take an id that low, so the rows read
-- below it form a prefix that never grows.
ALTER TABLE journal_messages ADD COLUMN committed_in bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
-- Only accepted lab messages are followed: the index costs the other rows nothing.
CREATE INDEX journal_messages_lab_tail ON journal_messages (committed_in, sequence) WHERE status = 1 AND payload_type = 'lab_results';

-- Where the sender has delivered through (one row), and one audit row per delivery. Written in one transaction.
CREATE TABLE emr_outbox_cursor
(
    id integer PRIMARY KEY CHECK (id = 1),
    committed_in bigint NOT NULL,
    sequence bigint NOT NULL
);
INSERT INTO emr_outbox_cursor VALUES (1, 0, 0);

CREATE TABLE emr_deliveries
(
    id bigserial PRIMARY KEY,
    journal_sequence bigint NOT NULL,
    message_id uuid NOT NULL,
    result_index integer NOT NULL,
    outcome text NOT NULL,                  -- created, exists (a resend the EMR already had) or refused (a 4xx)
    http_status integer NULL,
    attempts integer NOT NULL,
    delivered_at timestamptz NOT NULL,
    sender text NOT NULL                    -- the silo process that delivered it
);
