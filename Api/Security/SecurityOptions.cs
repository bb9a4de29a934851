namespace ClinicalTrials.Api.Security;

/// <summary><c>Security:*</c>: who may call the gateway (docs/security.md).</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>
    /// False lets every request in as an administrator, for local experiments only; the silo then logs a warning at
    /// every start.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The value of the admin key created on first start when no key exists (a deployment's secret); unset, a random one
    /// is written to <c>admin.key</c> (mode 0600) in the data directory.
    /// </summary>
    public string? BootstrapAdminKey { get; set; }

    public JwtOptions Jwt { get; set; } = new();

    public RateLimitOptions RateLimit { get; set; } = new();

    public AuditOptions Audit { get; set; } = new();

    /// <summary>How long a silo trusts what it read about a key: a revocation on another silo applies within this time.</summary>
    public TimeSpan KeyCacheDuration { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Bearer tokens for staff: HMAC-SHA256 signed JWTs from this issuer for this audience.</summary>
public sealed class JwtOptions
{
    public string Issuer { get; set; } = "clinicaltrials";

    public string Audience { get; set; } = "clinicaltrials-api";

    /// <summary>
    /// The signing key (at least 32 bytes of text); unset, one is made on first start and kept in <c>jwt-signing.key</c>
    /// (mode 0600) in the data directory, where <c>Silo token</c> finds it.
    /// </summary>
    public string? SigningKey { get; set; }
}

/// <summary>The audit trail's signed checkpoints (docs/security.md, "Checkpoints").</summary>
public sealed class AuditOptions
{
    public static readonly TimeSpan MaxCheckpointInterval = TimeSpan.FromDays(1);

    /// <summary>
    /// A PEM file holding the ECDSA P-256 private key that signs checkpoints; required in the cluster profile (every silo
    /// the same key). Unset in the embedded default, one is made in <c>audit-checkpoint.key</c> (mode 0600) in the data
    /// directory, its public key beside it.
    /// </summary>
    public string? CheckpointKeyFile { get; set; }

    /// <summary>
    /// PEM public keys of other keys whose checkpoints verify: keys retired by a rotation (kept as long as the records
    /// their checkpoints vouch for, 7 years), and the next key while a cluster rotates. The embedded default also
    /// trusts the data directory's <c>audit-checkpoint-retired-*.pub.pem</c>, which <c>audit rotate-key</c> writes.
    /// </summary>
    public List<string> TrustedPublicKeyFiles { get; set; } = [];

    /// <summary>How often each silo signs the chain's head, when records were appended since the last checkpoint.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromHours(1);
}
