using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Retention;
using ClinicalTrials.Lake.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// The audit trail records who read which patient and who changed keys, models and jobs, and its hash chain shows any
/// record that was changed, removed or moved afterwards (tampered on a copy of the live database).
/// </summary>
public sealed class AuditTrailTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>The live silo's checkpoint key, made in its data directory at start.</summary>
    private AuditCheckpointKey CheckpointKey => AuditCheckpointKey.Open(new AuditOptions(), fixture.DataPath, cluster: false);

    [Fact]
    public async Task A_patient_read_is_recorded_with_who_which_patient_and_the_outcome_and_no_values()
    {
        var message = TestMessages.Vitals(siteId: fixture.SiteA, heartRate: 133);
        var patient = (string)message["vital_signs"]!["patient_id"]!;
        await (await fixture.App.Http.PostAsync("/api/clinical/data", TestMessages.Json(message), Cancellation)).ExpectAsync(202);
        using var dataManager = fixture.Client("data_manager");
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/patients/{patient}") { Headers = { { EndpointAccess.ReasonHeader, "query 17 from the monitor" } } };
        await (await dataManager.SendAsync(read, Cancellation)).ExpectAsync(200);
        await (await dataManager.GetAsync($"/api/patients/{TestMessages.NewPatientId()}/features", Cancellation)).ExpectAsync(404);

        using var auditor = fixture.Client("auditor");
        var records = await (await auditor.GetAsync($"/api/audit?resource=patient/{patient}", Cancellation)).ExpectAsync(200);
        var record = Assert.Single(records.EnumerateArray());
        Assert.Equal($"key:{ApiKeyStore.KeyIdOf(fixture.Keys["data_manager"])}", record.GetProperty("actor").GetString());
        Assert.Equal("patient.read", record.GetProperty("action").GetString());
        Assert.Equal("200", record.GetProperty("outcome").GetString());
        Assert.Contains("query 17", record.GetProperty("details").GetString());
        // The record's own fields, not its hashes (hex, which may hold any digits).
        Assert.All(new[] { "actor", "action", "resource", "outcome", "source", "details" },
            field => Assert.DoesNotContain("133", record.GetProperty(field).ToString(), StringComparison.Ordinal));

        var denied = await (await auditor.GetAsync("/api/audit?action=patient.features.read", Cancellation)).ExpectAsync(200);
        Assert.Contains(denied.EnumerateArray(), r => r.GetProperty("outcome").GetString() == "404");
    }

    [Fact]
    public async Task Every_message_received_is_recorded_with_its_id_site_outcome_and_the_key_that_sent_it_and_no_values()
    {
        using var siteA = fixture.Client("site_a");
        var patient = TestMessages.NewPatientId();
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var (first, second) = (TestMessages.Vitals(patient, fixture.SiteA, at, heartRate: 131), TestMessages.Vitals(patient, fixture.SiteA, at.AddMinutes(1), heartRate: 132));
        var impossible = TestMessages.ImpossibleVitals(patient, fixture.SiteA, at);
        await (await siteA.PostAsync("/api/clinical/data", TestMessages.Json(first), Cancellation)).ExpectAsync(202);
        await (await siteA.PostAsync("/api/clinical/data/batch", TestMessages.Json(new JsonArray(first.DeepClone(), second, impossible)), Cancellation)).ExpectAsync(200);
        // Another site's message: refused whole, and recorded as refused.
        await (await siteA.PostAsync("/api/clinical/data", TestMessages.Json(TestMessages.Vitals(patient, fixture.SiteB, at, heartRate: 133)), Cancellation)).ExpectAsync(403);

        using var auditor = fixture.Client("auditor");
        var records = (await (await auditor.GetAsync($"/api/audit?action=data.receive&actor=key:{ApiKeyStore.KeyIdOf(fixture.Keys["site_a"])}", Cancellation)).ExpectAsync(200))
            .EnumerateArray().ToList();
        Assert.Equal(["202", "200", "403"], records.Select(r => r.GetProperty("outcome").GetString()));
        Assert.All(records[..2], r => Assert.Equal($"site/{fixture.SiteA}", r.GetProperty("resource").GetString()));
        JsonElement Messages(JsonElement record) => JsonDocument.Parse(record.GetProperty("details").GetString()!).RootElement.GetProperty("messages").GetProperty(fixture.SiteA);
        Assert.Equal([TestMessages.IdOf(first).ToString()], Messages(records[0]).GetProperty("accepted").EnumerateArray().Select(id => id.GetString()));
        var batch = Messages(records[1]);
        Assert.Equal([TestMessages.IdOf(first).ToString()], batch.GetProperty("duplicate").EnumerateArray().Select(id => id.GetString()));
        Assert.Equal([TestMessages.IdOf(second).ToString()], batch.GetProperty("accepted").EnumerateArray().Select(id => id.GetString()));
        var rejected = Assert.Single(batch.GetProperty("rejected").EnumerateArray());
        Assert.Equal(TestMessages.IdOf(impossible), rejected.GetProperty("message_id").GetGuid());
        Assert.Contains(Rules.Range, rejected.GetProperty("rules").EnumerateArray().Select(r => r.GetString()));
        Assert.False(records[2].TryGetProperty("details", out _)); // nothing was handed to ingest
        // Ids, statuses and rule names only: no patient, no field, no value (message ids are hex, so no number is sought).
        Assert.All(records[..2], r => Assert.All(new[] { patient, "heart_rate", "vital_signs" },
            text => Assert.DoesNotContain(text, r.GetProperty("details").GetString()!, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Key_changes_are_recorded_with_before_and_after_and_never_the_secret()
    {
        var key = await fixture.CreateAsync(new ApiKeyRequest("rotating", Roles.DataManager, null));
        var keyId = ApiKeyStore.KeyIdOf(key)!;
        var rotated = await (await fixture.App.Http.PostAsync($"/api/admin/keys/{keyId}/rotate", null, Cancellation)).ExpectAsync(200);
        var newKey = rotated.GetProperty("key").GetString()!;
        using (var old = fixture.App.CreateClient(key))
        {
            Assert.Equal(401, (int)(await old.GetAsync("/api/clinical/stats", Cancellation)).StatusCode);
        }

        using (var current = fixture.App.CreateClient(newKey))
        {
            await (await current.GetAsync("/api/clinical/stats", Cancellation)).ExpectAsync(200);
        }

        await (await fixture.App.Http.PostAsync($"/api/admin/keys/{keyId}/revoke", null, Cancellation)).ExpectAsync(200);
        using (var revoked = fixture.App.CreateClient(newKey))
        {
            Assert.Equal(401, (int)(await revoked.GetAsync("/api/clinical/stats", Cancellation)).StatusCode);
        }

        var listed = await (await fixture.App.Http.GetAsync("/api/admin/keys", Cancellation)).ExpectAsync(200);
        Assert.DoesNotContain(Secret(key), listed.ToString());
        Assert.DoesNotContain(Secret(newKey), listed.ToString());

        using var auditor = fixture.Client("auditor");
        var records = await (await auditor.GetAsync($"/api/audit?resource=key/{keyId}", Cancellation)).ExpectAsync(200);
        Assert.Equal(["key.create", "key.rotate", "key.revoke"], records.EnumerateArray().Select(r => r.GetProperty("action").GetString()));
        var revoke = JsonDocument.Parse(records[2].GetProperty("details").GetString()!).RootElement;
        Assert.False(revoke.GetProperty("before").TryGetProperty("revoked_at", out _));
        Assert.True(revoke.GetProperty("after").TryGetProperty("revoked_at", out _));
        Assert.DoesNotContain(Secret(newKey), records.ToString());
    }

    /// <summary>The secret part of a key: what follows <c>ctk_{key_id}_</c> (it may itself hold '_').</summary>
    private static string Secret(string key) => key[(ApiKeyStore.Prefix.Length + ApiKeyStore.KeyIdOf(key)!.Length + 1)..];

    [Fact]
    public async Task Bad_key_requests_name_the_field()
    {
        var problem = await (await fixture.App.Http.PostAsJsonAsync("/api/admin/keys", new ApiKeyRequest("x", Roles.Site, null), ApiJson.Options, Cancellation)).ExpectAsync(400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("site_id", out _));
        problem = await (await fixture.App.Http.PostAsJsonAsync("/api/admin/keys", new ApiKeyRequest("x", "root", null), ApiJson.Options, Cancellation)).ExpectAsync(400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("role", out _));
    }

    [Fact]
    public async Task The_intact_chain_verifies()
    {
        await fixture.CreateAsync(new ApiKeyRequest("for the chain", Roles.Auditor, null));
        using var auditor = fixture.Client("auditor");
        var verification = await (await auditor.GetAsync("/api/audit/verify", Cancellation)).ExpectAsync(200);
        Assert.True(verification.GetProperty("valid").GetBoolean(), verification.ToString());
        Assert.True(verification.GetProperty("records").GetInt64() >= 7);
    }

    [Theory]
    [InlineData("UPDATE audit_trail SET resource = 'key/000000000000' WHERE seq = 3", 3, "modified")]
    [InlineData("DELETE FROM audit_trail WHERE seq = 3", 3, "missing")]
    [InlineData("UPDATE audit_trail SET seq = -1 WHERE seq = 3; UPDATE audit_trail SET seq = 3 WHERE seq = 4; UPDATE audit_trail SET seq = 4 WHERE seq = -1", 3, "does not follow")]
    [InlineData("DELETE FROM audit_trail WHERE seq = (SELECT MAX(seq) FROM audit_trail)", null, "removed")]
    public async Task Every_kind_of_tampering_is_found(string tamper, int? brokenSeq, string problem)
    {
        using var copy = new DataDirectory();
        await AccessDatabaseCopy.MakeAsync(fixture, copy.Path);
        var trail = new AuditTrail(AccessDatabase.Create(null, copy.Path), TimeProvider.System);
        Assert.True((await trail.VerifyAsync(CheckpointKey, Cancellation)).Valid);

        await AccessDatabaseCopy.ExecuteAsync(copy.Path, tamper);
        var verification = await trail.VerifyAsync(CheckpointKey, Cancellation);
        Assert.False(verification.Valid);
        Assert.Contains(problem, verification.Problem);
        if (brokenSeq is { } seq)
        {
            Assert.Equal(seq, verification.FirstBrokenSeq);
        }
    }

    [Fact]
    public async Task A_record_rewritten_with_a_fresh_hash_breaks_the_link_to_the_next()
    {
        using var copy = new DataDirectory();
        await AccessDatabaseCopy.MakeAsync(fixture, copy.Path);
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(copy.Path, AccessDatabase.SqliteFileName)};Pooling=false"))
        {
            await connection.OpenAsync(Cancellation);
            await using var read = connection.CreateCommand();
            read.CommandText = "SELECT at, actor, action, outcome, source, details, prev_hash FROM audit_trail WHERE seq = 2";
            await using var reader = await read.ExecuteReaderAsync(Cancellation);
            await reader.ReadAsync(Cancellation);
            var hash = AuditRecord.HashOf(2, reader.GetString(0), reader.GetString(1), reader.GetString(2), "key/forged", reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6));
            await reader.DisposeAsync();
            await using var write = connection.CreateCommand();
            write.CommandText = $"UPDATE audit_trail SET resource = 'key/forged', hash = '{hash}' WHERE seq = 2";
            await write.ExecuteNonQueryAsync(Cancellation);
        }

        var verification = await new AuditTrail(AccessDatabase.Create(null, copy.Path), TimeProvider.System).VerifyAsync(CheckpointKey, Cancellation);
        Assert.False(verification.Valid);
        Assert.Equal(3, verification.FirstBrokenSeq);
    }

    [Fact]
    public async Task The_verify_command_exits_1_on_a_broken_chain_and_export_writes_json_lines()
    {
        using var copy = new DataDirectory();
        await AccessDatabaseCopy.MakeAsync(fixture, copy.Path);
        var (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "audit", "verify", "--data-dir", copy.Path);
        Assert.True(exit == 0, output);
        (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "audit", "export", "--data-dir", copy.Path);
        Assert.True(exit == 0, output);
        Assert.Contains(output.Split('\n'), l => l.StartsWith('{') && JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64() == 1);

        await AccessDatabaseCopy.ExecuteAsync(copy.Path, "DELETE FROM audit_trail WHERE seq = 2");
        (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "audit", "verify", "--data-dir", copy.Path);
        Assert.True(exit == 1, output);
        Assert.Contains("record 2 is missing", output);
    }

    [Fact]
    public async Task The_retention_job_deletes_records_past_the_audit_retention_and_what_remains_still_verifies()
    {
        using var copy = new DataDirectory();
        await AccessDatabaseCopy.MakeAsync(fixture, copy.Path);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var trail = new AuditTrail(AccessDatabase.Create(null, copy.Path), clock);
        var before = await trail.VerifyAsync(CheckpointKey, Cancellation);
        var checkpoints = new AuditCheckpoints(AccessDatabase.Create(null, copy.Path), CheckpointKey, Options.Create(new SecurityOptions()), clock,
            NullLogger<AuditCheckpoints>.Instance);
        var checkpoint = await checkpoints.WriteAsync(Cancellation);
        Assert.Equal(before.HeadSeq, checkpoint?.Seq);
        var lake = new LakeContext(copy.Path, new LocalLakeStorage(copy.Path), new PipelineOptions(), clock, auditTrail: trail);

        // Within the seven years nothing goes; the day after, every record made before then does.
        Assert.False((await new RetentionJob(lake).RunAsync(new JobArguments(null, null), Cancellation)).Details.ContainsKey("deleted.audit_trail"));
        clock.Advance(TimeSpan.FromDays(new PipelineOptions().Retention.AuditDays + 1));
        var run = await new RetentionJob(lake).RunAsync(new JobArguments(null, null), Cancellation);

        Assert.Equal(before.Records, run.Details["deleted.audit_trail"]);
        var after = await trail.VerifyAsync(CheckpointKey, Cancellation);
        Assert.True(after.Valid, after.Problem);
        // The checkpoint vouched for records that are gone; it goes with them, and put back it is found.
        Assert.Empty((await checkpoints.ListAsync(0, 10, Cancellation)).Checkpoints);
        var restore = $"INSERT INTO audit_checkpoint VALUES ({checkpoint!.Seq}, '{checkpoint.Hash}', '{checkpoint.At}', '{checkpoint.KeyId}', '{checkpoint.Signature}')";
        await AccessDatabaseCopy.ExecuteAsync(copy.Path, restore);
        var restored = await trail.VerifyAsync(CheckpointKey, Cancellation);
        Assert.Equal((false, checkpoint.Seq), (restored.Valid, restored.FirstBrokenSeq));
        Assert.StartsWith($"checkpoint at record {checkpoint.Seq}: does not match the chain", restored.Problem, StringComparison.Ordinal);
        await AccessDatabaseCopy.ExecuteAsync(copy.Path, "DELETE FROM audit_checkpoint");
        var deletion = Assert.Single(await trail.QueryAsync(new AuditQuery(null, null, null, null, null, 0, 10), Cancellation));
        Assert.Equal((before.HeadSeq + 1, AuditTrail.RetentionActor, "audit.retention"), (deletion.Seq, deletion.Actor, deletion.Action));
        Assert.Equal(before.HeadSeq, JsonDocument.Parse(deletion.Details!).RootElement.GetProperty("through_seq").GetInt64());

        // The anchor is what the remaining chain hangs on: changing it is found like any other tampering.
        await AccessDatabaseCopy.ExecuteAsync(copy.Path, "UPDATE audit_anchor SET hash = '" + AuditRecord.Genesis + "'");
        var tampered = await trail.VerifyAsync(CheckpointKey, Cancellation);
        Assert.False(tampered.Valid);
        Assert.Equal(deletion.Seq, tampered.FirstBrokenSeq);
    }

    [Fact]
    public async Task Deleting_before_a_time_keeps_the_later_records_and_the_chain_verifies_from_the_first_kept()
    {
        using var copy = new DataDirectory();
        await AccessDatabaseCopy.MakeAsync(fixture, copy.Path);
        var trail = new AuditTrail(AccessDatabase.Create(null, copy.Path), TimeProvider.System);
        var records = await trail.QueryAsync(new AuditQuery(null, null, null, null, null, 0, 1000), Cancellation);
        var firstKept = records.First(r => r.At == records[^1].At);

        var deleted = await trail.DeleteBeforeAsync(firstKept.At, Cancellation);

        Assert.Equal(firstKept.Seq - 1, deleted);
        Assert.Equal(firstKept.Seq, (await trail.QueryAsync(new AuditQuery(null, null, null, null, null, 0, 1), Cancellation))[0].Seq);
        Assert.True((await trail.VerifyAsync(CheckpointKey, Cancellation)).Valid);
        Assert.Equal(0, await trail.DeleteBeforeAsync(firstKept.At, Cancellation));
    }
}
