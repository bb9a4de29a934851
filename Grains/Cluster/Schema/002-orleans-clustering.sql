-- Cluster membership (Microsoft.Orleans.Clustering.AdoNet). One version row per cluster (DeploymentId = ClusterId),
-- bumped by every membership change: a write carrying a stale version changes nothing and reports 0 rows, which
-- Orleans reads as "lost the race, read again".
CREATE TABLE OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp timestamptz(3) NOT NULL DEFAULT now(),
    Version integer NOT NULL DEFAULT 0,
    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

CREATE TABLE OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address varchar(45) NOT NULL,
    Port integer NOT NULL,
    Generation integer NOT NULL,
    SiloName varchar(150) NOT NULL,
    HostName varchar(150) NOT NULL,
    Status integer NOT NULL,
    ProxyPort integer NULL,
    SuspectTimes varchar(8000) NULL,
    StartTime timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Inserts the version row once; 1 when this call created it, 0 when it was there.
CREATE FUNCTION orleans_insert_membership_version(p_deployment_id varchar)
RETURNS TABLE (row_count integer) LANGUAGE plpgsql AS $$
DECLARE inserted integer;
BEGIN
    INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (p_deployment_id)
    ON CONFLICT (DeploymentId) DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    RETURN QUERY SELECT inserted;
END $$;

-- Adds a silo's row if the caller's version is current: both or neither (the function's block is one subtransaction).
CREATE FUNCTION orleans_insert_membership(
    p_deployment_id varchar, p_address varchar, p_port integer, p_generation integer, p_silo_name varchar, p_host_name varchar,
    p_status integer, p_proxy_port integer, p_start_time timestamptz, p_i_am_alive_time timestamptz, p_expected_version integer)
RETURNS TABLE (row_count integer) LANGUAGE plpgsql AS $$
DECLARE changed integer;
BEGIN
    UPDATE OrleansMembershipVersionTable v SET Timestamp = now(), Version = v.Version + 1
    WHERE v.DeploymentId = p_deployment_id AND v.Version = p_expected_version;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RETURN QUERY SELECT 0;
        RETURN;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port, p_start_time, p_i_am_alive_time)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RAISE EXCEPTION 'membership row exists' USING ERRCODE = 'unique_violation';
    END IF;
    RETURN QUERY SELECT 1;
EXCEPTION WHEN unique_violation THEN
    RETURN QUERY SELECT 0; -- the block's changes (the version bump) are rolled back
END $$;

-- Changes a silo's row if the caller's version is current: both or neither.
CREATE FUNCTION orleans_update_membership(
    p_deployment_id varchar, p_address varchar, p_port integer, p_generation integer, p_status integer, p_suspect_times varchar,
    p_i_am_alive_time timestamptz, p_expected_version integer)
RETURNS TABLE (row_count integer) LANGUAGE plpgsql AS $$
DECLARE changed integer;
BEGIN
    UPDATE OrleansMembershipVersionTable v SET Timestamp = now(), Version = v.Version + 1
    WHERE v.DeploymentId = p_deployment_id AND v.Version = p_expected_version;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RETURN QUERY SELECT 0;
        RETURN;
    END IF;

    UPDATE OrleansMembershipTable m
    SET Status = p_status, SuspectTimes = p_suspect_times, IAmAliveTime = GREATEST(m.IAmAliveTime, p_i_am_alive_time)
    WHERE m.DeploymentId = p_deployment_id AND m.Address = p_address AND m.Port = p_port AND m.Generation = p_generation;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed = 0 THEN
        RAISE EXCEPTION 'no membership row' USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY SELECT 1;
EXCEPTION WHEN no_data_found THEN
    RETURN QUERY SELECT 0;
END $$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', 'SELECT row_count FROM orleans_insert_membership_version(@DeploymentId)'),
('InsertMembershipKey', 'SELECT row_count FROM orleans_insert_membership(@DeploymentId, @Address, @Port, @Generation,
    @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version)'),
('UpdateMembershipKey', 'SELECT row_count FROM orleans_update_membership(@DeploymentId, @Address, @Port, @Generation,
    @Status, @SuspectTimes, @IAmAliveTime, @Version)'),
-- A heartbeat: never fails, never moves the time back, leaves the version alone.
('UpdateIAmAlivetimeKey', 'UPDATE OrleansMembershipTable SET IAmAliveTime = GREATEST(IAmAliveTime, @IAmAliveTime)
    WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation'),
-- The version row comes back even when the silo has no row yet (LEFT JOIN), so the caller learns the version.
('MembershipReadRowKey', 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
    m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
        AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId'),
('MembershipReadAllKey', 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
    m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId'),
('DeleteMembershipTableEntriesKey', 'DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId'),
('GatewaysQueryKey', 'SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0'),
-- Dead silos (status 6) not heard of since the cut-off, and with no suspicion pending, are forgotten.
('CleanupDefunctSiloEntriesKey', 'DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = 6 AND IAmAliveTime < @IAmAliveTime AND StartTime < @IAmAliveTime
        AND COALESCE(SuspectTimes, '''') = '''''),
-- One dead silo's row, only if it is still exactly as the caller read it.
('CleanupDefunctSiloEntryKey', 'DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = 6 AND Address = @Address AND Port = @Port
        AND Generation = @Generation AND IAmAliveTime = @IAmAliveTime AND StartTime = @StartTime
        AND COALESCE(SuspectTimes, '''') = COALESCE(@SuspectTimes, '''')');
