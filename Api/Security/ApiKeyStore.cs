using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Api.Security;

/// <summary>What is known about a key, never its secret.</summary>
public sealed record ApiKeyInfo(
    string KeyId, string Name, string Role, string? SiteId, bool IngestOnly, DateTimeOffset CreatedAt, DateTimeOffset? RotatedAt, DateTimeOffset? RevokedAt)
{
    public bool Revoked => RevokedAt is not null;
}

/// <summary>A key as issued: <see cref="Key"/> is the whole secret (<c>ctk_{key_id}_{secret}</c>), shown once and stored nowhere.</summary>
public sealed record IssuedKey(ApiKeyInfo Info, string Key);

/// <summary>A request to create a key: a role, and for a site key its site and whether it may only send data.</summary>
public sealed record ApiKeyRequest(string? Name, string? Role, string? SiteId, bool IngestOnly = false)
{
    /// <summary>The fields that break a rule, by name, or an empty dictionary.</summary>
    public Dictionary<string, string[]> Problems()
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            errors["name"] = ["required: 'name' names the key's holder (1 to 100 characters)."];
        }

        if (Role is null || !Roles.All.Contains(Role))
        {
            errors["role"] = [$"enum: 'role' must be one of {string.Join(", ", Roles.All)}."];
        }
        else if (Role == Roles.Site && (SiteId is null || !ClinicalIds.IsSiteId(SiteId)))
        {
            errors["site_id"] = [$"required: a site key names its site ({ClinicalIds.SiteIdShape})."];
        }
        else if (Role != Roles.Site && (SiteId is not null || IngestOnly))
        {
            errors[SiteId is not null ? "site_id" : "ingest_only"] = ["consistency: only a key of role 'site' is scoped to a site or to ingest."];
        }

        return errors;
    }
}

/// <summary>
/// API keys, stored only as a salted hash (HMAC-SHA256 of the secret under a random 16-byte salt; the secret is 32 random
/// bytes, so a slow password hash would add cost and no strength). Every change is written with its audit record in the
/// same transaction.
/// </summary>
public sealed class ApiKeyStore(AccessDatabase database, AuditTrail audit, TimeProvider time)
{
    public const string Prefix = "ctk_";

    /// <summary>Creates a key.</summary>
    /// <param name="request">A request without <see cref="ApiKeyRequest.Problems"/>.</param>
    /// <param name="actor">Who creates it (for the audit trail).</param>
    /// <param name="source">From where.</param>
    /// <param name="presetKey">The whole key to store (a deployment's bootstrap key, <c>ctk_{12 hex}_{secret}</c>); null makes a random one.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task<IssuedKey> CreateAsync(ApiKeyRequest request, string actor, string? source, string? presetKey = null, CancellationToken cancellationToken = default) =>
        InsertAsync(request, actor, source, presetKey, cancellationToken, onlyIfEmpty: false);

    private async Task<IssuedKey> InsertAsync(ApiKeyRequest request, string actor, string? source, string? presetKey, CancellationToken cancellationToken, bool onlyIfEmpty)
    {
        var keyId = presetKey is null ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))
            : KeyIdOf(presetKey) ?? throw new ArgumentException($"A preset key has the shape {Prefix}{{12 hex digits}}_{{secret}}.", nameof(presetKey));
        var now = time.GetUtcNow();
        var info = new ApiKeyInfo(keyId, request.Name!, request.Role!, request.SiteId, request.IngestOnly, now, null, null);
        var key = presetKey ?? NewKey(keyId);
        var (salt, hash) = Hash(key);
        await WriteAsync(actor, source, "key.create", info, null, cancellationToken, (connection, transaction) => connection.Command(transaction, """
            INSERT INTO api_keys (key_id, name, role, site_id, ingest_only, salt, hash, created_at)
            VALUES (@id, @name, @role, @site, @ingest, @salt, @hash, @at)
            """, ("@id", keyId), ("@name", info.Name), ("@role", info.Role), ("@site", info.SiteId), ("@ingest", info.IngestOnly ? 1 : 0),
            ("@salt", salt), ("@hash", hash), ("@at", AccessDatabase.Time(now))), onlyIfEmpty);
        return new IssuedKey(info, key);
    }

    /// <summary>
    /// Creates the key only when no key exists yet (decided under the write lock, so silos starting together make one);
    /// null when there was one.
    /// </summary>
    public async Task<IssuedKey?> CreateFirstAsync(ApiKeyRequest request, string actor, string? presetKey, CancellationToken cancellationToken = default)
    {
        try
        {
            return await InsertAsync(request, actor, null, presetKey, cancellationToken, onlyIfEmpty: true);
        }
        catch (KeysExistException)
        {
            return null;
        }
    }

    /// <summary>A new secret for the key (the old one stops working); null for an unknown or revoked key.</summary>
    public async Task<IssuedKey?> RotateAsync(string keyId, string actor, string? source, CancellationToken cancellationToken = default)
    {
        if (await FindAsync(keyId, cancellationToken) is not { Info.Revoked: false } stored)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var key = NewKey(keyId);
        var (salt, hash) = Hash(key);
        var after = stored.Info with { RotatedAt = now };
        await WriteAsync(actor, source, "key.rotate", after, stored.Info, cancellationToken, (connection, transaction) => connection.Command(transaction,
            "UPDATE api_keys SET salt = @salt, hash = @hash, rotated_at = @at WHERE key_id = @id AND revoked_at IS NULL",
            ("@salt", salt), ("@hash", hash), ("@at", AccessDatabase.Time(now)), ("@id", keyId)));
        return new IssuedKey(after, key);
    }

    /// <summary>Revokes the key for good; null for an unknown key. Revoking twice keeps the first time.</summary>
    public async Task<ApiKeyInfo?> RevokeAsync(string keyId, string actor, string? source, CancellationToken cancellationToken = default)
    {
        if (await FindAsync(keyId, cancellationToken) is not { } stored)
        {
            return null;
        }

        if (stored.Info.Revoked)
        {
            return stored.Info;
        }

        var after = stored.Info with { RevokedAt = time.GetUtcNow() };
        await WriteAsync(actor, source, "key.revoke", after, stored.Info, cancellationToken, (connection, transaction) => connection.Command(transaction,
            "UPDATE api_keys SET revoked_at = @at WHERE key_id = @id", ("@at", AccessDatabase.Time(after.RevokedAt!.Value)), ("@id", keyId)));
        return after;
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(null, $"SELECT {Columns} FROM api_keys ORDER BY created_at, key_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKeyInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(ReadStored(reader).Info);
        }

        return keys;
    }

    /// <summary>The stored key with its salt and hash, revoked or not; null when unknown.</summary>
    public async Task<StoredKey?> FindAsync(string keyId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(null, $"SELECT {Columns} FROM api_keys WHERE key_id = @id", ("@id", keyId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadStored(reader) : null;
    }

    /// <summary>The key id of a presented key (<c>ctk_{key_id}_{secret}</c>), or null when it does not have that shape.</summary>
    public static string? KeyIdOf(string presented)
    {
        if (!presented.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var separator = presented.IndexOf('_', Prefix.Length);
        return separator == Prefix.Length + 12 && presented.Length > separator + 1 && Uri.IsHexDigit(presented[Prefix.Length])
            ? presented[Prefix.Length..separator] : null;
    }

    private const string Columns = "key_id, name, role, site_id, ingest_only, created_at, rotated_at, revoked_at, salt, hash";

    private static StoredKey ReadStored(DbDataReader r) => new(
        new ApiKeyInfo(r.GetString(0), r.GetString(1), r.GetString(2), r.NullableString(3), r.GetInt64(4) != 0, AccessDatabase.ParseTime(r.GetString(5)),
            r.NullableString(6) is { } rotated ? AccessDatabase.ParseTime(rotated) : null,
            r.NullableString(7) is { } revoked ? AccessDatabase.ParseTime(revoked) : null),
        r.GetString(8), r.GetString(9));

    private async Task WriteAsync(string actor, string? source, string action, ApiKeyInfo after, ApiKeyInfo? before, CancellationToken cancellationToken,
        Func<DbConnection, DbTransaction, DbCommand> change, bool onlyIfEmpty = false)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        if (onlyIfEmpty)
        {
            await using var count = connection.Command(transaction, "SELECT COUNT(*) FROM api_keys");
            if (Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken)) > 0)
            {
                throw new KeysExistException();
            }
        }

        await using (var command = change(connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var details = JsonSerializer.Serialize(new { before, after }, ApiJson.Options);
        await audit.AppendInAsync(connection, transaction, [new AuditEntry(actor, action, $"key/{after.KeyId}", "succeeded", source, details)], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static string NewKey(string keyId) => $"{Prefix}{keyId}_{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')}";

    private static (string Salt, string Hash) Hash(string key)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return (Convert.ToBase64String(salt), Convert.ToBase64String(HMACSHA256.HashData(salt, Encoding.UTF8.GetBytes(key))));
    }
}

/// <summary>A key's record with its salt and hash, for checking a presented key.</summary>
public sealed record StoredKey(ApiKeyInfo Info, string Salt, string Hash)
{
    /// <summary>Whether <paramref name="presented"/> is this key's secret (in constant time).</summary>
    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(
            HMACSHA256.HashData(Convert.FromBase64String(Salt), Encoding.UTF8.GetBytes(presented)),
            Convert.FromBase64String(Hash));
}

/// <summary>A first key was asked for, but keys exist.</summary>
internal sealed class KeysExistException : Exception;
