using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// The ECDSA P-256 key that signs the audit trail's checkpoints (<see cref="AuditCheckpoints"/>):
/// <c>Security:Audit:CheckpointKeyFile</c>, a PEM private key; or in the embedded default one made on first start in
/// <c>audit-checkpoint.key</c> (mode 0600) in the data directory, its public key written beside it in
/// <c>audit-checkpoint.pub.pem</c> for auditors who check checkpoints outside the platform. A cluster's silos must
/// share one key, so the cluster profile is given it. The private key is never logged nor returned.
/// </summary>
public sealed class AuditCheckpointKey
{
    public const string FileName = "audit-checkpoint.key";

    public const string PublicFileName = "audit-checkpoint.pub.pem";

    /// <summary>The setting that names the key file, as configuration spells it.</summary>
    public const string Setting = $"{SecurityOptions.Section}:{nameof(SecurityOptions.Audit)}:{nameof(AuditOptions.CheckpointKeyFile)}";

    // The OID of NIST P-256 (secp256r1), the one curve accepted.
    private const string P256 = "1.2.840.10045.3.1.7";

    private readonly ECDsa _key;

    private AuditCheckpointKey(ECDsa key, string? createdFile)
    {
        _key = key;
        CreatedFile = createdFile;
        var publicKey = key.ExportSubjectPublicKeyInfo();
        PublicKeyPem = PemEncoding.WriteString("PUBLIC KEY", publicKey);
        KeyId = Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];
    }

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
        if (!string.IsNullOrWhiteSpace(options.CheckpointKeyFile))
        {
            return new AuditCheckpointKey(Load(options.CheckpointKeyFile), null);
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

        var key = new AuditCheckpointKey(Load(path), created);
        var publicPath = Path.Combine(Path.GetDirectoryName(path)!, PublicFileName);
        if (!File.Exists(publicPath))
        {
            File.WriteAllText(publicPath, key.PublicKeyPem + "\n");
        }

        return key;
    }

    /// <summary>
    /// Before the silo starts: one line when the configured key file cannot be used, or the cluster profile has none;
    /// null when the silo may start (the embedded default makes its key at start).
    /// </summary>
    public static string? StartProblem(IConfiguration configuration)
    {
        var options = configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>()?.Audit ?? new AuditOptions();
        var cluster = AccessDatabase.IsCluster(configuration);
        if (string.IsNullOrWhiteSpace(options.CheckpointKeyFile) && !cluster)
        {
            return null;
        }

        try
        {
            Open(options, dataDirectory: "", cluster);
            return null;
        }
        catch (AuditCheckpointKeyException e)
        {
            return e.Message;
        }
    }

    /// <summary>The DER (RFC 3279) ECDSA signature, SHA-256, of <paramref name="data"/>: what <c>openssl dgst -verify</c> reads.</summary>
    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>Whether <paramref name="signature"/> is this key's over <paramref name="data"/>.</summary>
    public bool Verify(byte[] data, byte[] signature) =>
        _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    private static ECDsa Load(string path)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuditCheckpointKeyException($"{Setting}: the key file {path} cannot be read: {e.Message}");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            var parameters = key.ExportParameters(includePrivateParameters: true);
            if (parameters.Curve.Oid.Value != P256 && parameters.Curve.Oid.FriendlyName is not ("nistP256" or "ECDSA_P256"))
            {
                throw new CryptographicException("not on the curve P-256");
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            // The message names the file and the rule, never the key's content.
            throw new AuditCheckpointKeyException(
                $"{Setting}: {path} is not an ECDSA P-256 private key in PEM (make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out FILE).");
        }

        return key;
    }
}

/// <summary>The audit checkpoint key is missing, unreadable or not a P-256 private key; the message says which.</summary>
public sealed class AuditCheckpointKeyException(string message) : Exception(message);
