using System.Text.Json;
using ClinicalTrials.Api;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Grains.Journal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// The administrator's commands, run beside a running silo or without one, with the silo's configuration (the data
/// directory, or <c>ConnectionStrings:Postgres</c> in a cluster): <c>keys create|list|rotate|revoke</c>, <c>token</c>
/// (a staff bearer token signed with the silo's key) and <c>audit verify|export|checkpoint</c>. A key or token is printed alone on
/// standard output, so <c>KEY=$(… keys create …)</c> keeps it; everything else goes to standard error.
/// </summary>
internal sealed class AccessCommand
{
    private static readonly JsonSerializerOptions Indented = new(ApiJson.Options) { WriteIndented = true };

    private readonly string _dataDirectory;
    private readonly SecurityOptions _security;
    private readonly AccessDatabase _database;
    private readonly AuditTrail _audit;
    private readonly ApiKeyStore _keys;
    private readonly string _actor = $"cli:{Environment.UserName}";
    private readonly string _source = $"cli@{Environment.MachineName}";

    private AccessCommand(string dataDirectory, SecurityOptions security, AccessDatabase database)
    {
        _dataDirectory = dataDirectory;
        _security = security;
        _database = database;
        _audit = new AuditTrail(database, TimeProvider.System);
        _keys = new ApiKeyStore(database, _audit, TimeProvider.System);
    }

    /// <param name="settings">Configuration keys from the command line (<c>--Section:Key=value</c>).</param>
    public static AccessCommand Open(string[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings, ContentRootPath = AppContext.BaseDirectory });
        var configuration = builder.Configuration;
        var dataDirectory = configuration.GetSection(JournalOptions.Section).Get<JournalOptions>()?.DataDirectory ?? new JournalOptions().DataDirectory;
        return new AccessCommand(dataDirectory, configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions(),
            AccessDatabase.From(configuration, dataDirectory));
    }

    public async Task<int> CreateKeyAsync(ApiKeyRequest request)
    {
        if (request.Problems() is { Count: > 0 } errors)
        {
            await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, errors.Select(e => $"--{e.Key.Replace('_', '-')}: {e.Value[0]}")));
            return SiloCommandLine.UsageError;
        }

        var created = await _keys.CreateAsync(request, _actor, _source);
        await Console.Error.WriteLineAsync($"Created key {created.Info.KeyId} ({created.Info.Role}{(created.Info.SiteId is { } s ? $", site {s}" : "")}" +
            $"{(created.Info.IngestOnly ? ", ingest only" : "")}). It is shown this once:");
        Console.WriteLine(created.Key);
        return 0;
    }

    public async Task<int> ListKeysAsync()
    {
        Console.WriteLine(JsonSerializer.Serialize(await _keys.ListAsync(), Indented));
        return 0;
    }

    public async Task<int> RotateKeyAsync(string keyId)
    {
        if (await _keys.RotateAsync(keyId, _actor, _source) is not { } rotated)
        {
            await Console.Error.WriteLineAsync($"No key {keyId} that is not revoked.");
            return 1;
        }

        await Console.Error.WriteLineAsync($"Key {keyId} has a new secret (the old one no longer works). It is shown this once:");
        Console.WriteLine(rotated.Key);
        return 0;
    }

    public async Task<int> RevokeKeyAsync(string keyId)
    {
        if (await _keys.RevokeAsync(keyId, _actor, _source) is null)
        {
            await Console.Error.WriteLineAsync($"No key {keyId}.");
            return 1;
        }

        await Console.Error.WriteLineAsync($"Key {keyId} is revoked.");
        return 0;
    }

    /// <param name="subject">Who the token is for.</param>
    /// <param name="roles">Comma-separated roles.</param>
    /// <param name="site">The one site the token may read, or null.</param>
    /// <param name="hours">How long the token is valid.</param>
    public async Task<int> MintTokenAsync(string? subject, string? roles, string? site, double hours)
    {
        var roleList = (roles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (string.IsNullOrWhiteSpace(subject) || roleList.Length == 0 || roleList.Any(r => !Roles.All.Contains(r)) || hours is <= 0 or > 24 * 31)
        {
            await Console.Error.WriteLineAsync($"token: --subject and --role ({string.Join(", ", Roles.All)}) are required; --hours in (0, 744].");
            return SiloCommandLine.UsageError;
        }

        var signingKey = new JwtSigningKey(_security.Jwt, _dataDirectory);
        Console.WriteLine(signingKey.Mint(subject, roleList, site, TimeSpan.FromHours(hours), DateTimeOffset.UtcNow));
        return 0;
    }

    public async Task<int> VerifyAuditAsync()
    {
        if (await CheckpointKeyAsync() is not { } key)
        {
            return 1;
        }

        var verification = await _audit.VerifyAsync(key);
        Console.WriteLine(JsonSerializer.Serialize(verification, Indented));
        return verification.Valid ? 0 : 1;
    }

    /// <summary>Signs the chain's head now (as each silo does every <c>Security:Audit:CheckpointInterval</c>) and prints the checkpoint.</summary>
    public async Task<int> CheckpointAuditAsync()
    {
        if (await CheckpointKeyAsync() is not { } key)
        {
            return 1;
        }

        var checkpoints = new AuditCheckpoints(_database, key, Options.Create(_security), TimeProvider.System, NullLogger<AuditCheckpoints>.Instance);
        if (await checkpoints.WriteAsync() is { } checkpoint)
        {
            Console.WriteLine(JsonSerializer.Serialize(checkpoint, Indented));
        }
        else
        {
            await Console.Error.WriteLineAsync("No record was appended since the last checkpoint (or the trail is empty): nothing to sign.");
        }

        return 0;
    }

    /// <summary>
    /// The embedded default's checkpoint key rotation (<see cref="AuditCheckpointKey.PrepareRotation"/>): the rotation
    /// is recorded in the audit trail, with the key ids before and after, before the new key takes over; if the record
    /// cannot be written the key stays as it was. A running silo signs with the new key once restarted.
    /// </summary>
    public async Task<int> RotateCheckpointKeyAsync()
    {
        AuditCheckpointKey.PendingRotation rotation;
        try
        {
            rotation = AuditCheckpointKey.PrepareRotation(_security.Audit, _dataDirectory, _database.IsPostgres);
        }
        catch (AuditCheckpointKeyException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }

        try
        {
            await using var connection = await _database.OpenAsync();
            await using var transaction = await _database.BeginWriteAsync(connection);
            var details = JsonSerializer.Serialize(new { before = rotation.RetiredKeyId, after = rotation.NextKeyId }, ApiJson.Options);
            await _audit.AppendInAsync(connection, transaction, [new AuditEntry(_actor, "audit.key.rotate", $"audit-key/{rotation.NextKeyId}", "succeeded", _source, details)]);
            await transaction.CommitAsync();
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException)
        {
            rotation.Abandon();
            await Console.Error.WriteLineAsync($"The rotation could not be recorded in the audit trail ({e.Message}); the key {rotation.RetiredKeyId} stays.");
            return 1;
        }

        rotation.Complete();
        var key = AuditCheckpointKey.Open(_security.Audit, _dataDirectory, cluster: false);
        Console.WriteLine($"The audit checkpoint key {rotation.RetiredKeyId} is retired (its public key stays in {AuditCheckpointKey.RetiredFilePrefix}{rotation.RetiredKeyId}.pub.pem, so its checkpoints still verify); new checkpoints are signed with {key.KeyId} once the silo is restarted.");
        return 0;
    }

    /// <summary>The configured checkpoint key (the embedded default's is made on first use), or null after saying what is wrong.</summary>
    private async Task<AuditCheckpointKey?> CheckpointKeyAsync()
    {
        try
        {
            var key = AuditCheckpointKey.Open(_security.Audit, _dataDirectory, _database.IsPostgres);
            if (key.CreatedFile is { } created)
            {
                await Console.Error.WriteLineAsync($"Created the audit checkpoint key {key.KeyId} in {created} (mode 0600); its public key is beside it.");
            }

            return key;
        }
        catch (AuditCheckpointKeyException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return null;
        }
    }

    /// <summary>The records from <paramref name="from"/> to <paramref name="to"/> as JSON lines, page by page.</summary>
    public async Task<int> ExportAuditAsync(DateTimeOffset? from, DateTimeOffset? to)
    {
        long after = 0;
        while (true)
        {
            var page = await _audit.QueryAsync(new AuditQuery(from, to, null, null, null, after, SecurityApi.MaxAuditPage));
            foreach (var record in page)
            {
                Console.WriteLine(JsonSerializer.Serialize(record, ApiJson.Options));
            }

            if (page.Count < SecurityApi.MaxAuditPage)
            {
                return 0;
            }

            after = page[^1].Seq;
        }
    }
}
