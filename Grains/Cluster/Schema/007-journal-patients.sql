-- Which patients each site has accepted messages for, one row per pair, written in the commit that first stores one:
-- listing patients reads a table the size of the trial's enrolment instead of every message. Ids compare as bytes
-- (COLLATE "C"), as in the embedded ledger, so that a page's keyset order is the same in both profiles.
CREATE TABLE journal_patients
(
    patient_id text COLLATE "C" NOT NULL,
    site_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (patient_id, site_id)
);

CREATE INDEX journal_patients_by_site ON journal_patients (site_id, patient_id);

INSERT INTO journal_patients (patient_id, site_id)
SELECT DISTINCT patient_id, site_id FROM journal_messages
WHERE status = 1 AND patient_id IS NOT NULL AND site_id IS NOT NULL;
