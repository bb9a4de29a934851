-- Each writer's commit number let the site grains skip tallies that the counts they had loaded already held. The
-- counters are now the only count of a site's messages, so nothing numbers commits any more; the table stays as the
-- place each silo's journal writes its health probe to (the probe proves the database takes writes).
ALTER TABLE journal_writers DROP COLUMN last_commit;
ALTER TABLE journal_writers RENAME COLUMN committed_at TO probed_at;
