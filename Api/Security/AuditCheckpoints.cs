using System.Data.Common;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// A signed statement that the chain's record <see cref="Seq"/> had the hash <see cref="Hash"/>, made at <see cref="At"/>
/// with the key <see cref="KeyId"/>. <see cref="Signature"/> is the base64 of the DER ECDSA P-256 / SHA-256 signature
/// of <see cref="Canonical"/>. <see cref="At"/> is kept as the text signed (UTC, <c>2026-12-03T06:00:00.0000000Z</c>),
/// so what an auditor is given is what they check.
/// </summary>
public sealed record AuditCheckpoint(long Seq, string Hash, string At, string KeyId, string Signature)
{
    /// <summary>The first line of the signed text: what the signature is for, and the format's version.</summary>
    public const string Purpose = "clinicaltrials-audit-checkpoint-v1";

    /// <summary>
    /// The bytes signed: UTF-8 of <c>{Purpose}\n{seq}\n{hash}\n{at}\n{key_id}\n</c>, <c>seq</c> in decimal, <c>hash</c> in
    /// lower-case hex and <c>at</c> as the trail writes times (<c>2026-12-03T06:00:00.0000000Z</c>), so that
    /// <c>printf</c> and <c>openssl dgst -verify</c> check a checkpoint outside the platform.
    /// </summary>
    public static byte[] Canonical(long seq, string hash, string at, string keyId) =>
        Encoding.UTF8.GetBytes($"{Purpose}\n{seq}\n{hash}\n{at}\n{keyId}\n");

    /// <summary>Whether the key it names, <paramref name="key"/> or one it trusts, made <see cref="Signature"/> over this checkpoint's fields.</summary>
    public bool IsSignedBy(AuditCheckpointKey key)
    {
        var signature = new byte[Signature.Length];
        return Convert.TryFromBase64String(Signature, signature, out var length)
            && key.Verify(KeyId, Canonical(Seq, Hash, At, KeyId), signature[..length]);
    }
}

/// <summary>The checkpoints, and the key id and public key (PEM) that signs now and the other keys trusted to have signed.</summary>
public sealed record AuditCheckpointList(string KeyId, string PublicKey, IReadOnlyList<AuditPublicKey> TrustedKeys, IReadOnlyList<AuditCheckpoint> Checkpoints);

/// <summary>
/// Signed checkpoints of the audit trail (<c>audit_checkpoint</c>, beside the records): every
/// <c>Security:Audit:CheckpointInterval</c>, when records were appended since the last one, each silo signs the chain's
/// head with <see cref="AuditCheckpointKey"/>. The chain alone shows a record changed in place; a checkpoint also shows
/// the whole chain rewritten after it by someone who can write the database but does not hold the key, which
/// <see cref="AuditTrail.VerifyAsync"/> then reports. A checkpoint is written under the appends' write lock, so it
/// names the true head and silos take turns (the second finds the head already signed and writes nothing).
/// </summary>
public sealed partial class AuditCheckpoints(
    AccessDatabase database, AuditCheckpointKey key, IOptions<SecurityOptions> options, TimeProvider time, ILogger<AuditCheckpoints> logger)
    : BackgroundService
{
    private PeriodicTimer? _timer;

    /// <summary>Signs the chain's head unless it is signed already (or the trail is empty); returns the checkpoint written, or null.</summary>
    public async Task<AuditCheckpoint?> WriteAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        var (seq, hash) = await AuditTrail.HeadAsync(connection, transaction, cancellationToken);
        await using (var last = connection.Command(transaction, "SELECT max(seq) FROM audit_checkpoint"))
        {
            if (seq <= (await last.ExecuteScalarAsync(cancellationToken) is long signed ? signed : 0))
            {
                return null;
            }
        }

        var at = AccessDatabase.Time(time.GetUtcNow());
        var signature = Convert.ToBase64String(key.Sign(AuditCheckpoint.Canonical(seq, hash, at, key.KeyId)));
        await using var insert = connection.Command(transaction, """
            INSERT INTO audit_checkpoint (seq, hash, at, key_id, signature) VALUES (@seq, @hash, @at, @key, @signature)
            """, ("@seq", seq), ("@hash", hash), ("@at", at), ("@key", key.KeyId), ("@signature", signature));
        await insert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AuditCheckpoint(seq, hash, at, key.KeyId, signature);
    }

    /// <summary>The checkpoints after <paramref name="afterSeq"/> in order (at most <paramref name="limit"/>), with the key to check them.</summary>
    public async Task<AuditCheckpointList> ListAsync(long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return new AuditCheckpointList(key.KeyId, key.PublicKeyPem, key.TrustedKeys, await ReadAsync(connection, null, afterSeq, limit, cancellationToken));
    }

    /// <summary>Every checkpoint in order, read in the caller's transaction (a verification's snapshot).</summary>
    internal static Task<List<AuditCheckpoint>> ReadAllAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        ReadAsync(connection, transaction, long.MinValue, int.MaxValue, cancellationToken);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (key.CreatedFile is { } created)
        {
            LogKeyCreated(logger, key.KeyId, created, Path.Combine(Path.GetDirectoryName(created)!, AuditCheckpointKey.PublicFileName));
        }

        var interval = options.Value.Audit.CheckpointInterval;
        LogSigning(logger, key.KeyId, interval);
        // The intervals count from the start, not from whenever ExecuteAsync's task first runs.
        _timer = new PeriodicTimer(interval, time);
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timer = _timer ?? throw new InvalidOperationException("Not started.");
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await WriteAsync(stoppingToken) is { } checkpoint)
                {
                    LogWritten(logger, checkpoint.Seq, checkpoint.KeyId);
                }
                else
                {
                    LogUnmoved(logger);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The next tick tries again. That includes an OperationCanceledException this silo did not ask for (a
                // command the database cancelled): let out of ExecuteAsync, it would stop the whole silo.
                LogFailed(logger, e.Message);
            }
        }
    }

    private static async Task<List<AuditCheckpoint>> ReadAsync(
        DbConnection connection, DbTransaction? transaction, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(transaction,
            "SELECT seq, hash, at, key_id, signature FROM audit_checkpoint WHERE seq > @after ORDER BY seq LIMIT @limit",
            ("@after", afterSeq), ("@limit", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var checkpoints = new List<AuditCheckpoint>();
        while (await reader.ReadAsync(cancellationToken))
        {
            checkpoints.Add(new AuditCheckpoint(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }

        return checkpoints;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Created the audit checkpoint key {KeyId} in {Path} (mode 0600); its public key, for auditors, is {PublicPath}. Back up the key file with the data directory.")]
    private static partial void LogKeyCreated(ILogger logger, string keyId, string path, string publicPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit checkpoints: the chain's head is signed every {Interval} with key {KeyId} when it moved.")]
    private static partial void LogSigning(ILogger logger, string keyId, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit checkpoint at record {Seq}, signed with key {KeyId}.")]
    private static partial void LogWritten(ILogger logger, long seq, string keyId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No audit record was appended since the last checkpoint: nothing to sign.")]
    private static partial void LogUnmoved(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The audit checkpoint could not be written; the next one is tried at the next interval: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
