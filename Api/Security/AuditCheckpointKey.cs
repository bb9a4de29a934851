using System.Security.Cryptography;
using ClinicalTrials.Grains.Journal;
using Microsoft.Extensions.Configuration;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// The ECDSA P-256 key that signs the audit trail's checkpoints (<see cref="AuditCheckpoints"/>):
/// <c>Security:Audit:CheckpointKeyFile</c>, a PEM private key; or in the embedded default one made on first start in
/// <c>audit-checkpoint.key</c> (mode 0600) in the data directory, its public key written beside it in
/// <c>audit-checkpoint.pub.pem</c> for auditors who check checkpoints outside the platform. A cluster's silos must
/// share one key, so the cluster profile is given it. The private key is never logged nor returned.
/// Other keys' checkpoints verify by their public keys alone: <c>Security:Audit:TrustedPublicKeyFiles</c> (keys retired
/// by a rotation, and the next key while a cluster rotates), and in the embedded default the
/// <c>audit-checkpoint-retired-*.pub.pem</c> files that <see cref="PrepareRotation"/> leaves in the data directory.
/// </summary>
public sealed class AuditCheckpointKey
{
    public const string FileName = "audit-checkpoint.key";

    public const string PublicFileName = "audit-checkpoint.pub.pem";

    /// <summary>A retired key's public key in the embedded default's data directory: this, its key id, <c>.pub.pem</c>.</summary>
    public const string RetiredFilePrefix = "audit-checkpoint-retired-";

    /// <summary>The setting that names the key file, as configuration spells it.</summary>
    public const string Setting = $"{SecurityOptions.Section}:{nameof(SecurityOptions.Audit)}:{nameof(AuditOptions.CheckpointKeyFile)}";

    // The OID of NIST P-256 (secp256r1), the one curve accepted.
    private const string P256 = "1.2.840.10045.3.1.7";

    private readonly ECDsa _key;
    private readonly Dictionary<string, ECDsa> _trusted = [];

    private AuditCheckpointKey(ECDsa key, string? createdFile, IEnumerable<ECDsa> trusted)
    {
        _key = key;
        CreatedFile = createdFile;
        (KeyId, PublicKeyPem) = Describe(key);
        // A key given twice (configured and in the data directory), or the signing key itself, is trusted once.
        foreach (var other in trusted)
        {
            var id = Describe(other).KeyId;
            if (id != KeyId)
            {
                _trusted.TryAdd(id, other);
            }
        }

        TrustedKeys = [.. _trusted.Values.Select(Describe).Select(d => new AuditPublicKey(d.KeyId, d.Pem)).OrderBy(k => k.KeyId, StringComparer.Ordinal)];
    }

    /// <summary>The other keys whose checkpoints verify, by their public keys: trusted to verify, never used to sign.</summary>
    public IReadOnlyList<AuditPublicKey> TrustedKeys { get; }

    /// <summary>The first 16 hex digits of the SHA-256 of the public key (DER SubjectPublicKeyInfo): which key signed.</summary>
    public string KeyId { get; }

    /// <summary>The public key as PEM (<c>-----BEGIN PUBLIC KEY-----</c>), what an auditor verifies with.</summary>
    public string PublicKeyPem { get; }

    /// <summary>The file the key was made in on this start (the embedded default's first), or null when it existed.</summary>
    public string? CreatedFile { get; }

    /// <summary>
    /// The configured key, or in the embedded default (<paramref name="cluster"/> false) the data directory's, made on
    /// first use. Throws <see cref="AuditCheckpointKeyException"/> with one line saying what is wrong.
    /// </summary>
    public static AuditCheckpointKey Open(AuditOptions options, string dataDirectory, bool cluster)
    {
        var trusted = options.TrustedPublicKeyFiles.Select(f => LoadPublic(f, TrustedSetting)).ToList();
        if (!string.IsNullOrWhiteSpace(options.CheckpointKeyFile))
        {
            return new AuditCheckpointKey(Load(options.CheckpointKeyFile), null, trusted);
        }

        if (cluster)
        {
            throw new AuditCheckpointKeyException(
                $"Cluster:Mode is Postgres, but {Setting} is not set: every silo signs the audit trail's checkpoints with the same " +
                "ECDSA P-256 key, given as a PEM file (docs/security.md).");
        }

        var path = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        string? created = null;
        if (!File.Exists(path))
        {
            using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            SecretFiles.Write(path, fresh.ExportPkcs8PrivateKeyPem());
            created = path;
        }

        var directory = Path.GetDirectoryName(path)!;
        trusted.AddRange(RetiredFiles(directory).Select(f => LoadPublic(f, RetiredKey)));
        var key = new AuditCheckpointKey(Load(path), created, trusted);
        // Rewritten whenever it is not the key's (a rotation interrupted after the switch leaves the old one).
        var publicPath = Path.Combine(directory, PublicFileName);
        if (!File.Exists(publicPath) || File.ReadAllText(publicPath).Trim() != key.PublicKeyPem.Trim())
        {
            WriteAtomically(publicPath, key.PublicKeyPem + "\n");
        }

        return key;
    }

    /// <summary>
    /// The embedded default's rotation, first half: the data directory's key is retired (its public key kept beside it as
    /// <c>audit-checkpoint-retired-{key id}.pub.pem</c>, so its checkpoints still verify) and the next key is written
    /// beside the current one; <see cref="PendingRotation.Complete"/> then puts it in place, after the caller has
    /// recorded the rotation. A configured key (always so in the cluster) is rotated by configuration instead
    /// (docs/security.md); that throws <see cref="AuditCheckpointKeyException"/> saying so.
    /// </summary>
    public static PendingRotation PrepareRotation(AuditOptions options, string dataDirectory, bool cluster)
    {
        if (cluster || !string.IsNullOrWhiteSpace(options.CheckpointKeyFile))
        {
            throw new AuditCheckpointKeyException(
                $"The checkpoint key is configured ({Setting}): rotate it by configuration: trust the new key's public key on every silo, then " +
                $"give the new key file in {Setting} and the old key's public key in {TrustedSetting}, restarting the silos one by one (docs/security.md).");
        }

        var current = Open(options, dataDirectory, cluster: false);
        var directory = Path.GetDirectoryName(Path.GetFullPath(Path.Combine(dataDirectory, FileName)))!;
        // The old public key is kept first: a rotation stopped after it leaves the old key signing and trusted twice.
        WriteAtomically(Path.Combine(directory, $"{RetiredFilePrefix}{current.KeyId}.pub.pem"), current.PublicKeyPem + "\n");
        using var next = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nextPath = Path.Combine(directory, FileName + ".next");
        File.Delete(nextPath);
        SecretFiles.Write(nextPath, next.ExportPkcs8PrivateKeyPem());
        return new PendingRotation(current.KeyId, Describe(next).KeyId, nextPath, Path.Combine(directory, FileName));
    }

    /// <summary>A rotation prepared: <see cref="Complete"/> switches to the next key, <see cref="Abandon"/> leaves the current one.</summary>
    public sealed record PendingRotation(string RetiredKeyId, string NextKeyId, string NextPath, string KeyPath)
    {
        public void Complete() => File.Move(NextPath, KeyPath, overwrite: true); // the public key file follows at the next Open

        public void Abandon() => File.Delete(NextPath);
    }

    /// <summary>
    /// Before the silo starts: one line when the configured key file cannot be used, or the cluster profile has none;
    /// null when the silo may start (the embedded default makes its key at start).
    /// </summary>
    public static string? StartProblem(IConfiguration configuration)
    {
        var options = configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>()?.Audit ?? new AuditOptions();
        var cluster = AccessDatabase.IsCluster(configuration);
        try
        {
            if (!string.IsNullOrWhiteSpace(options.CheckpointKeyFile) || cluster)
            {
                Open(options, dataDirectory: "", cluster); // loads the trusted keys too
            }
            else
            {
                // The embedded default's key is made at start; what it trusts is checked here.
                var dataDirectory = configuration.GetSection(JournalOptions.Section).Get<JournalOptions>()?.DataDirectory ?? new JournalOptions().DataDirectory;
                var trusted = options.TrustedPublicKeyFiles.Select(f => (File: f, What: TrustedSetting))
                    .Concat((Directory.Exists(dataDirectory) ? RetiredFiles(dataDirectory) : []).Select(f => (File: f, What: RetiredKey)));
                foreach (var (file, what) in trusted)
                {
                    LoadPublic(file, what).Dispose();
                }
            }

            return null;
        }
        catch (AuditCheckpointKeyException e)
        {
            return e.Message;
        }
    }

    /// <summary>The DER (RFC 3279) ECDSA signature, SHA-256, of <paramref name="data"/>: what <c>openssl dgst -verify</c> reads.</summary>
    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>Whether <paramref name="keyId"/> is this key or a trusted one.</summary>
    public bool Knows(string keyId) => keyId == KeyId || _trusted.ContainsKey(keyId);

    /// <summary>Whether <paramref name="signature"/> is the key <paramref name="keyId"/>'s (this one or a trusted one) over <paramref name="data"/>.</summary>
    public bool Verify(string keyId, byte[] data, byte[] signature) =>
        (keyId == KeyId ? _key : _trusted.GetValueOrDefault(keyId)) is { } key
        && key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    private const string TrustedSetting = $"{SecurityOptions.Section}:{nameof(SecurityOptions.Audit)}:{nameof(AuditOptions.TrustedPublicKeyFiles)}";

    private const string RetiredKey = "a retired checkpoint key";

    private static IEnumerable<string> RetiredFiles(string directory) =>
        Directory.EnumerateFiles(directory, $"{RetiredFilePrefix}*.pub.pem").Order(StringComparer.Ordinal);

    private static (string KeyId, string Pem) Describe(ECDsa key)
    {
        var publicKey = key.ExportSubjectPublicKeyInfo();
        return (Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16], PemEncoding.WriteString("PUBLIC KEY", publicKey));
    }

    /// <summary>Replaces <paramref name="path"/> whole or not at all: the text goes to a new file, is flushed to disk, then renamed over it.</summary>
    private static void WriteAtomically(string path, string text)
    {
        var next = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var file = new FileStream(next, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }

        File.Move(next, path, overwrite: true);
    }

    /// <summary>A trusted key: a PEM public key (or a private key, of which only the public part is kept) on P-256; <paramref name="what"/> names where it came from.</summary>
    private static ECDsa LoadPublic(string path, string what)
    {
        using var read = Import(path, what, includePrivateParameters: false,
            "an ECDSA P-256 public key in PEM (make one from the old key with: openssl pkey -in OLD -pubout -out FILE)");
        var publicOnly = ECDsa.Create();
        publicOnly.ImportSubjectPublicKeyInfo(read.ExportSubjectPublicKeyInfo(), out _);
        return publicOnly;
    }

    private static ECDsa Load(string path) => Import(path, Setting, includePrivateParameters: true,
        "an ECDSA P-256 private key in PEM (make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out FILE)");

    /// <summary>
    /// The key in the PEM file <paramref name="path"/>, on P-256 and with its private part when
    /// <paramref name="includePrivateParameters"/>; else <see cref="AuditCheckpointKeyException"/> naming
    /// <paramref name="what"/>, the file and <paramref name="expected"/>, never the key's content.
    /// </summary>
    private static ECDsa Import(string path, string what, bool includePrivateParameters, string expected)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuditCheckpointKeyException($"{what}: the key file {path} cannot be read: {e.Message}");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            var parameters = key.ExportParameters(includePrivateParameters);
            if (parameters.Curve.Oid.Value != P256 && parameters.Curve.Oid.FriendlyName is not ("nistP256" or "ECDSA_P256"))
            {
                throw new CryptographicException("not on the curve P-256");
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new AuditCheckpointKeyException($"{what}: {path} is not {expected}.");
        }

        return key;
    }
}

/// <summary>A key that verifies checkpoints: its id and its public key as PEM.</summary>
public sealed record AuditPublicKey(string KeyId, string PublicKey);

/// <summary>The audit checkpoint key is missing, unreadable or not a P-256 private key; the message says which.</summary>
public sealed class AuditCheckpointKeyException(string message) : Exception(message);
