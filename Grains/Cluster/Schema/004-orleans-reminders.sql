-- Durable reminders (Microsoft.Orleans.Reminders.AdoNet): the pipeline schedule survives every restart, and the
-- reminder service's ring ownership (GrainHash ranges) makes each reminder fire on one silo only.
CREATE TABLE OrleansRemindersTable
(
    ServiceId varchar(150) NOT NULL,
    GrainId varchar(150) NOT NULL,
    ReminderName varchar(150) NOT NULL,
    StartTime timestamptz(3) NOT NULL,
    Period bigint NOT NULL,
    GrainHash integer NOT NULL,
    Version integer NOT NULL,
    CONSTRAINT PK_RemindersTable_ServiceId_GrainId_ReminderName PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IX_RemindersTable_GrainHash ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', 'INSERT INTO OrleansRemindersTable AS r
        (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
    VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period::bigint, @GrainHash, 0)
    ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
        SET StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash, Version = r.Version + 1
    RETURNING Version'),
('ReadReminderRowsKey', 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId'),
('ReadReminderRowKey', 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName'),
-- The ring range (BeginHash, EndHash]; when it wraps around, both ends of the hash space.
('ReadRangeRows1Key', 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash'),
('ReadRangeRows2Key', 'SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash)'),
('DeleteReminderRowKey', 'WITH deleted AS (DELETE FROM OrleansRemindersTable
        WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName AND Version = @Version
        RETURNING 1)
    SELECT count(*)::integer FROM deleted'),
('DeleteReminderRowsKey', 'DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId');
