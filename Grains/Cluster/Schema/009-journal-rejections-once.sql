-- A rejection is stored once however often it is delivered, as an accepted message is: its key is the SHA-256 of its
-- bytes as received (JournalEntry.RejectionKey), unique across all silos. A redelivery is answered duplicate.
ALTER TABLE journal_messages ADD COLUMN digest bytea NULL;
-- Partial, so that an accepted row (no digest) costs this index nothing.
CREATE UNIQUE INDEX journal_messages_by_digest ON journal_messages (digest) WHERE digest IS NOT NULL;

-- A message_id is accepted once; its rejections (an invalid message, then the corrected one; or two different invalid
-- bodies under one id) stay beside it as rows of their own rather than being replaced, so each stays in quarantine and
-- keeps its key. Rejections stored before have no digest: a redelivery of one is quarantined once more.
DROP INDEX journal_messages_by_id;
CREATE UNIQUE INDEX journal_messages_by_id ON journal_messages (message_id) WHERE status = 1;
CREATE INDEX journal_messages_rejected_by_id ON journal_messages (message_id) WHERE status = 2;
