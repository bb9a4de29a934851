using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// Signed checkpoints of the audit trail: what the chain alone cannot show (the whole chain rewritten after a record by
/// someone who can write the database) a checkpoint does, and a checkpoint itself cannot be altered or made with another
/// key unnoticed. Tampering happens on a copy of the live database, as in <see cref="AuditTrailTests"/>.
/// </summary>
public sealed class AuditCheckpointTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>The live silo's checkpoint key, made in its data directory at start.</summary>
    private AuditCheckpointKey Key => AuditCheckpointKey.Open(new AuditOptions(), fixture.DataPath, cluster: false);

    [Fact]
    public async Task A_checkpoint_signs_the_head_once_and_an_auditor_verifies_it_with_the_public_key_file()
    {
        var checkpoints = fixture.App.Services.GetRequiredService<AuditCheckpoints>();
        await fixture.CreateAsync(new ApiKeyRequest("moves the head", Roles.Auditor, null));

        var checkpoint = await checkpoints.WriteAsync(Cancellation);
        Assert.NotNull(checkpoint);
        Assert.Null(await checkpoints.WriteAsync(Cancellation));

        using var auditor = fixture.Client("auditor");
        var verification = await (await auditor.GetAsync("/api/audit/verify", Cancellation)).ExpectAsync(200);
        Assert.True(verification.GetProperty("valid").GetBoolean(), verification.ToString());
        Assert.True(verification.GetProperty("checkpoints").GetInt64() >= 1);
        Assert.True(verification.GetProperty("head_seq").GetInt64() >= checkpoint.Seq);

        var listed = await (await auditor.GetAsync($"/api/audit/checkpoints?after={checkpoint.Seq - 1}", Cancellation)).ExpectAsync(200);
        var first = listed.GetProperty("checkpoints")[0];
        Assert.Equal((checkpoint.Seq, checkpoint.Hash, checkpoint.Signature),
            (first.GetProperty("seq").GetInt64(), first.GetProperty("hash").GetString(), first.GetProperty("signature").GetString()));
        var publicPem = File.ReadAllText(Path.Combine(fixture.DataPath, AuditCheckpointKey.PublicFileName));
        Assert.Equal(publicPem.Trim(), listed.GetProperty("public_key").GetString()!.Trim());
        Assert.DoesNotContain("PRIVATE", listed.ToString(), StringComparison.Ordinal);

        // Outside the platform: the public key file and the documented bytes are all it takes.
        using var outside = ECDsa.Create();
        outside.ImportFromPem(publicPem);
        var signed = AuditCheckpoint.Canonical(
            first.GetProperty("seq").GetInt64(), first.GetProperty("hash").GetString()!, first.GetProperty("at").GetString()!, first.GetProperty("key_id").GetString()!);
        Assert.True(outside.VerifyData(signed, Convert.FromBase64String(first.GetProperty("signature").GetString()!), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(fixture.DataPath, AuditCheckpointKey.FileName)));
        }
    }

    [Fact]
    public async Task A_chain_rewritten_consistently_after_a_record_passes_the_chain_check_but_not_the_checkpoint()
    {
        using var copy = new DataDirectory();
        await CopyAsync(copy.Path);
        var checkpoint = (await Checkpoints(copy.Path, Key).WriteAsync(Cancellation))!;

        await RewriteChainFromAsync(copy.Path, 3);
        var verification = await Trail(copy.Path).VerifyAsync(Key, Cancellation);

        Assert.False(verification.Valid);
        Assert.Equal(checkpoint.Seq, verification.FirstBrokenSeq);
        Assert.StartsWith($"checkpoint at record {checkpoint.Seq}: does not match the chain", verification.Problem, StringComparison.Ordinal);

        // Without the checkpoint the forgery is a consistent chain: only the signature shows it.
        await AccessDatabaseCopy.ExecuteAsync(copy.Path, "DELETE FROM audit_checkpoint");
        Assert.True((await Trail(copy.Path).VerifyAsync(Key, Cancellation)).Valid);
    }

    [Theory]
    [InlineData("UPDATE audit_checkpoint SET signature = 'AAAA'")]
    [InlineData("UPDATE audit_checkpoint SET hash = '" + AuditRecord.Genesis + "'")]
    [InlineData("UPDATE audit_checkpoint SET at = '2020-01-01T00:00:00.0000000Z'")]
    [InlineData("UPDATE audit_checkpoint SET seq = seq - 1")]
    public async Task A_tampered_checkpoint_is_found(string tamper)
    {
        using var copy = new DataDirectory();
        await CopyAsync(copy.Path);
        var checkpoint = (await Checkpoints(copy.Path, Key).WriteAsync(Cancellation))!;
        Assert.True((await Trail(copy.Path).VerifyAsync(Key, Cancellation)).Valid);

        await AccessDatabaseCopy.ExecuteAsync(copy.Path, tamper);
        var verification = await Trail(copy.Path).VerifyAsync(Key, Cancellation);

        Assert.False(verification.Valid);
        Assert.Contains("signature invalid", verification.Problem, StringComparison.Ordinal);
        Assert.InRange(verification.FirstBrokenSeq!.Value, checkpoint.Seq - 1, checkpoint.Seq);
    }

    [Fact]
    public async Task A_checkpoint_signed_with_another_key_is_rejected()
    {
        using var copy = new DataDirectory();
        await CopyAsync(copy.Path);
        using var elsewhere = new DataDirectory();
        var other = AuditCheckpointKey.Open(new AuditOptions(), elsewhere.Path, cluster: false);
        var checkpoint = (await Checkpoints(copy.Path, other).WriteAsync(Cancellation))!;

        var verification = await Trail(copy.Path).VerifyAsync(Key, Cancellation);

        Assert.False(verification.Valid);
        Assert.Equal(checkpoint.Seq, verification.FirstBrokenSeq);
        Assert.Equal($"checkpoint at record {checkpoint.Seq}: signature invalid (it names key {other.KeyId}, which is neither the configured key {Key.KeyId} nor a trusted one)", verification.Problem);
    }

    [Fact]
    public async Task After_a_key_rotation_the_retired_key_still_verifies_its_checkpoints_and_only_while_it_is_trusted()
    {
        using var copy = new DataDirectory();
        await CopyAsync(copy.Path);
        var first = AuditCheckpointKey.Open(new AuditOptions(), copy.Path, cluster: false);
        var before = (await Checkpoints(copy.Path, first).WriteAsync(Cancellation))!;

        var (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "audit", "rotate-key", "--data-dir", copy.Path);
        Assert.True(exit == 0, output);
        var second = AuditCheckpointKey.Open(new AuditOptions(), copy.Path, cluster: false);
        Assert.NotEqual(first.KeyId, second.KeyId);
        Assert.Equal([new AuditPublicKey(first.KeyId, first.PublicKeyPem)], second.TrustedKeys);
        Assert.Equal(second.PublicKeyPem, File.ReadAllText(Path.Combine(copy.Path, AuditCheckpointKey.PublicFileName)).Trim());
        // The rotation is in the trail (so the head moved), and the next checkpoint is the new key's.
        var rotation = Assert.Single(await Trail(copy.Path).QueryAsync(new AuditQuery(null, null, null, "audit.key.rotate", null, 0, 10), Cancellation));
        Assert.Equal($"{{\"before\":\"{first.KeyId}\",\"after\":\"{second.KeyId}\"}}", rotation.Details);
        var after = (await Checkpoints(copy.Path, second).WriteAsync(Cancellation))!;
        Assert.Equal(second.KeyId, after.KeyId);
        var verification = await Trail(copy.Path).VerifyAsync(second, Cancellation);
        Assert.True(verification.Valid, verification.Problem);
        Assert.Equal(2, verification.Checkpoints);

        // Without the retired public key the earlier checkpoint is named as signed by an unknown key; given by
        // configuration (as in a cluster) it verifies again.
        var retiredFile = Path.Combine(copy.Path, $"{AuditCheckpointKey.RetiredFilePrefix}{first.KeyId}.pub.pem");
        using var kept = new DataDirectory();
        var keptFile = Path.Combine(kept.Path, "old.pub.pem");
        File.Move(retiredFile, keptFile);
        verification = await Trail(copy.Path).VerifyAsync(AuditCheckpointKey.Open(new AuditOptions(), copy.Path, cluster: false), Cancellation);
        Assert.Equal($"checkpoint at record {before.Seq}: signature invalid (it names key {first.KeyId}, which is neither the configured key {second.KeyId} nor a trusted one)", verification.Problem);
        var configured = AuditCheckpointKey.Open(new AuditOptions { TrustedPublicKeyFiles = [keptFile] }, copy.Path, cluster: false);
        Assert.True((await Trail(copy.Path).VerifyAsync(configured, Cancellation)).Valid);

        // A public key file left stale (a rotation interrupted after the switch) is put right; a broken retired key file
        // is named, never taken as trust in nothing.
        File.WriteAllText(Path.Combine(copy.Path, AuditCheckpointKey.PublicFileName), first.PublicKeyPem);
        Assert.Equal(second.PublicKeyPem, AuditCheckpointKey.Open(new AuditOptions(), copy.Path, cluster: false).PublicKeyPem);
        Assert.Equal(second.PublicKeyPem, File.ReadAllText(Path.Combine(copy.Path, AuditCheckpointKey.PublicFileName)).Trim());
        var broken = Path.Combine(copy.Path, $"{AuditCheckpointKey.RetiredFilePrefix}0000.pub.pem");
        File.WriteAllText(broken, "not a key");
        var unusable = Assert.Throws<AuditCheckpointKeyException>(() => AuditCheckpointKey.Open(new AuditOptions(), copy.Path, cluster: false));
        Assert.StartsWith($"a retired checkpoint key: {broken} is not an ECDSA P-256 public key", unusable.Message, StringComparison.Ordinal);

        // A configured key, as every cluster has, is rotated by configuration, not by the command.
        var problem = Assert.Throws<AuditCheckpointKeyException>(() => AuditCheckpointKey.PrepareRotation(
            new AuditOptions { CheckpointKeyFile = Path.Combine(copy.Path, AuditCheckpointKey.FileName) }, copy.Path, cluster: true));
        Assert.Contains("rotate it by configuration", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_interval_the_loop_signs_the_head_when_it_moved_and_writes_nothing_when_it_did_not()
    {
        using var copy = new DataDirectory();
        await CopyAsync(copy.Path);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var database = AccessDatabase.Create(null, copy.Path);
        var ticks = new LoopLog();
        var checkpoints = Checkpoints(copy.Path, Key, clock, ticks);
        var head = (await Trail(copy.Path).VerifyAsync(Key, Cancellation)).HeadSeq;
        await checkpoints.StartAsync(Cancellation);
        try
        {
            Assert.Contains("every 01:00:00", await ticks.NextAsync(), StringComparison.Ordinal);
            Assert.Empty(await ListAsync(checkpoints));

            clock.Advance(Interval);
            Assert.Equal($"Audit checkpoint at record {head}, signed with key {Key.KeyId}.", await ticks.NextAsync());
            var firstAt = AccessDatabase.Time(clock.GetUtcNow());
            clock.Advance(Interval);
            Assert.Contains("nothing to sign", await ticks.NextAsync(), StringComparison.Ordinal);
            await AppendAsync(database, new AuditEntry("test", "test.moved", null, "succeeded", null, null));
            clock.Advance(Interval);
            Assert.Equal($"Audit checkpoint at record {head + 1}, signed with key {Key.KeyId}.", await ticks.NextAsync());

            Assert.Equal([(head, firstAt), (head + 1, AccessDatabase.Time(clock.GetUtcNow()))], (await ListAsync(checkpoints)).Select(c => (c.Seq, c.At)));
            Assert.True((await Trail(copy.Path).VerifyAsync(Key, Cancellation)).Valid);
        }
        finally
        {
            await checkpoints.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_interval_whose_checkpoint_fails_is_logged_and_the_loop_signs_at_the_next()
    {
        using var copy = new DataDirectory();
        await CopyAsync(copy.Path);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ticks = new LoopLog();
        var checkpoints = Checkpoints(copy.Path, Key, clock, ticks);
        Assert.Empty(await ListAsync(checkpoints)); // the schema is made, once, before the table goes
        await checkpoints.StartAsync(Cancellation);
        try
        {
            await ticks.NextAsync();
            await AccessDatabaseCopy.ExecuteAsync(copy.Path, "ALTER TABLE audit_checkpoint RENAME TO audit_checkpoint_away");
            clock.Advance(Interval);
            Assert.Contains("could not be written", await ticks.NextAsync(), StringComparison.Ordinal);

            await AccessDatabaseCopy.ExecuteAsync(copy.Path, "ALTER TABLE audit_checkpoint_away RENAME TO audit_checkpoint");
            clock.Advance(Interval);
            Assert.StartsWith("Audit checkpoint at record", await ticks.NextAsync(), StringComparison.Ordinal);
            Assert.Single(await ListAsync(checkpoints));
        }
        finally
        {
            await checkpoints.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_checkpoint_command_signs_the_head_and_verify_exits_1_on_a_forged_signature()
    {
        using var copy = new DataDirectory();
        await CopyAsync(copy.Path);
        var (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "audit", "checkpoint", "--data-dir", copy.Path);
        Assert.True(exit == 0, output);
        var seq = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]).RootElement.GetProperty("seq").GetInt64();
        (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "audit", "verify", "--data-dir", copy.Path);
        Assert.True(exit == 0, output);
        Assert.Contains("\"checkpoints\": 1", output, StringComparison.Ordinal);

        await AccessDatabaseCopy.ExecuteAsync(copy.Path, "UPDATE audit_checkpoint SET signature = 'AAAA'");
        (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "audit", "verify", "--data-dir", copy.Path);
        Assert.True(exit == 1, output);
        Assert.Contains($"checkpoint at record {seq}: signature invalid", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_postgresql_two_silos_signing_at_once_write_one_checkpoint_and_a_forged_one_is_found()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        using var data = new DataDirectory();
        var database = AccessDatabase.Create(postgres.ConnectionString, data.Path);
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync(database, new AuditEntry("test", $"test.{i}", null, "succeeded", null, null));
        }

        // Two silos, each with its own connections, sign the same head at the same moment.
        AuditCheckpoints Silo() => new(AccessDatabase.Create(postgres.ConnectionString, data.Path), Key,
            Options.Create(new SecurityOptions()), TimeProvider.System, NullLogger<AuditCheckpoints>.Instance);
        var written = await Task.WhenAll(Silo().WriteAsync(Cancellation), Silo().WriteAsync(Cancellation));

        Assert.Equal(3, Assert.Single(written, c => c is not null)!.Seq);
        var trail = new AuditTrail(database, TimeProvider.System);
        var verification = await trail.VerifyAsync(Key, Cancellation);
        Assert.True(verification.Valid, verification.Problem);
        Assert.Equal(1, verification.Checkpoints);

        await using (var tamper = postgres.DataSource.CreateCommand("UPDATE audit_checkpoint SET at = '2020-01-01T00:00:00.0000000Z'"))
        {
            await tamper.ExecuteNonQueryAsync(Cancellation);
        }

        Assert.Equal("checkpoint at record 3: signature invalid", (await trail.VerifyAsync(Key, Cancellation)).Problem);
    }

    /// <summary>A copy of the live access database without the checkpoints the live silo made, so each test has only its own.</summary>
    private async Task CopyAsync(string directory)
    {
        await AccessDatabaseCopy.MakeAsync(fixture, directory);
        await AccessDatabaseCopy.ExecuteAsync(directory, "DELETE FROM audit_checkpoint");
    }

    private static AuditTrail Trail(string directory) => new(AccessDatabase.Create(null, directory), TimeProvider.System);

    private static AuditCheckpoints Checkpoints(string directory, AuditCheckpointKey key, TimeProvider? time = null, ILogger<AuditCheckpoints>? log = null) => new(
        AccessDatabase.Create(null, directory), key, Options.Create(new SecurityOptions { Audit = new AuditOptions { CheckpointInterval = Interval } }),
        time ?? TimeProvider.System, log ?? NullLogger<AuditCheckpoints>.Instance);

    private static async Task<IReadOnlyList<AuditCheckpoint>> ListAsync(AuditCheckpoints checkpoints) =>
        (await checkpoints.ListAsync(0, 100, Cancellation)).Checkpoints;

    private static async Task AppendAsync(AccessDatabase database, AuditEntry entry)
    {
        await using var connection = await database.OpenAsync(Cancellation);
        await using var transaction = await database.BeginWriteAsync(connection, Cancellation);
        await new AuditTrail(database, TimeProvider.System).AppendInAsync(connection, transaction, [entry], Cancellation);
        await transaction.CommitAsync(Cancellation);
    }

    /// <summary>
    /// What someone who can write the database but holds no key can do: change record <paramref name="from"/>, then give it
    /// and every later record a fresh hash and link, and move the head, so that the chain is consistent again.
    /// </summary>
    private static async Task RewriteChainFromAsync(string directory, long from)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, AccessDatabase.SqliteFileName)};Pooling=false");
        await connection.OpenAsync(Cancellation);
        var records = new List<(long Seq, string At, string Actor, string Action, string? Resource, string Outcome, string? Source, string? Details)>();
        string prev;
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = $"SELECT seq, at, actor, action, resource, outcome, source, details FROM audit_trail WHERE seq >= {from} ORDER BY seq";
            await using var reader = await read.ExecuteReaderAsync(Cancellation);
            while (await reader.ReadAsync(Cancellation))
            {
                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                records.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), Text(4), reader.GetString(5), Text(6), Text(7)));
            }
        }

        await using (var previous = connection.CreateCommand())
        {
            previous.CommandText = $"SELECT hash FROM audit_trail WHERE seq = {from - 1}";
            prev = (string)(await previous.ExecuteScalarAsync(Cancellation))!;
        }

        records[0] = records[0] with { Resource = "key/forged" };
        foreach (var r in records)
        {
            var hash = AuditRecord.HashOf(r.Seq, r.At, r.Actor, r.Action, r.Resource, r.Outcome, r.Source, r.Details, prev);
            await using var write = connection.CreateCommand();
            write.CommandText = "UPDATE audit_trail SET resource = $resource, prev_hash = $prev, hash = $hash WHERE seq = $seq";
            write.Parameters.AddWithValue("$resource", (object?)r.Resource ?? DBNull.Value);
            write.Parameters.AddWithValue("$prev", prev);
            write.Parameters.AddWithValue("$hash", hash);
            write.Parameters.AddWithValue("$seq", r.Seq);
            await write.ExecuteNonQueryAsync(Cancellation);
            prev = hash;
        }

        await using var head = connection.CreateCommand();
        head.CommandText = "UPDATE audit_head SET hash = $hash";
        head.Parameters.AddWithValue("$hash", prev);
        await head.ExecuteNonQueryAsync(Cancellation);
    }

    /// <summary>What the loop logs, line by line: the signal that an interval's work is done (no sleeping to guess it).</summary>
    private sealed class LoopLog : ILogger<AuditCheckpoints>
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        public async Task<string> NextAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            return await _lines.Reader.ReadAsync(timeout.Token);
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Writer.TryWrite(formatter(state, exception));
    }
}
