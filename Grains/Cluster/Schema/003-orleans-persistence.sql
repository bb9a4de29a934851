-- Grain state (Microsoft.Orleans.Persistence.AdoNet): patient snapshots, the model registry, schedulers. The state is
-- the Orleans binary serialisation in PayloadBinary; Version is the ETag. A write carrying a stale version changes
-- nothing and returns that stale version, which Orleans reports as an inconsistent state (a second activation).
CREATE TABLE OrleansStorage
(
    GrainIdHash integer NOT NULL,
    GrainIdN0 bigint NOT NULL,
    GrainIdN1 bigint NOT NULL,
    GrainTypeHash integer NOT NULL,
    GrainTypeString varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId varchar(150) NOT NULL,
    PayloadBinary bytea NULL,
    ModifiedOn timestamptz NOT NULL,
    Version integer NULL
);

-- One row per grain and state: the providers look grains up by the two hashes, then compare the strings.
CREATE UNIQUE INDEX IX_OrleansStorage_Grain ON OrleansStorage
    (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, GrainTypeString, COALESCE(GrainIdExtensionString, ''), ServiceId);

CREATE FUNCTION orleans_write_to_storage(
    p_grain_id_hash integer, p_grain_id_n0 bigint, p_grain_id_n1 bigint, p_grain_type_hash integer,
    p_grain_type_string varchar, p_grain_id_extension_string varchar, p_service_id varchar, p_version integer,
    p_payload bytea)
RETURNS TABLE (NewGrainStateVersion integer) LANGUAGE plpgsql AS $$
DECLARE changed integer;
BEGIN
    IF p_version IS NULL THEN
        -- First write of this grain's state: the unique index lets exactly one concurrent first write in.
        INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
            GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        VALUES (p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type_string,
            p_grain_id_extension_string, p_service_id, p_payload, now(), 1)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN QUERY SELECT CASE WHEN changed > 0 THEN 1 ELSE NULL END;
        RETURN;
    END IF;

    UPDATE OrleansStorage s SET PayloadBinary = p_payload, ModifiedOn = now(), Version = s.Version + 1
    WHERE s.GrainIdHash = p_grain_id_hash AND s.GrainTypeHash = p_grain_type_hash AND s.GrainIdN0 = p_grain_id_n0
        AND s.GrainIdN1 = p_grain_id_n1 AND s.GrainTypeString = p_grain_type_string
        AND COALESCE(s.GrainIdExtensionString, '') = COALESCE(p_grain_id_extension_string, '')
        AND s.ServiceId = p_service_id AND s.Version = p_version;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN QUERY SELECT CASE WHEN changed > 0 THEN p_version + 1 ELSE p_version END;
END $$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('WriteToStorageKey', 'SELECT NewGrainStateVersion FROM orleans_write_to_storage(@GrainIdHash, @GrainIdN0, @GrainIdN1,
    @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary)'),
('ReadFromStorageKey', 'SELECT PayloadBinary, now(), Version FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0
        AND GrainIdN1 = @GrainIdN1 AND GrainTypeString = @GrainTypeString
        AND COALESCE(GrainIdExtensionString, '''') = COALESCE(@GrainIdExtensionString, '''')
        AND ServiceId = @ServiceId'),
('ClearStorageKey', 'UPDATE OrleansStorage SET PayloadBinary = NULL, Version = Version + 1
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0
        AND GrainIdN1 = @GrainIdN1 AND GrainTypeString = @GrainTypeString
        AND COALESCE(GrainIdExtensionString, '''') = COALESCE(@GrainIdExtensionString, '''')
        AND ServiceId = @ServiceId AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion'),
('DeleteStorageKey', 'DELETE FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND GrainIdN0 = @GrainIdN0
        AND GrainIdN1 = @GrainIdN1 AND GrainTypeString = @GrainTypeString
        AND COALESCE(GrainIdExtensionString, '''') = COALESCE(@GrainIdExtensionString, '''')
        AND ServiceId = @ServiceId AND Version = @GrainStateVersion');
