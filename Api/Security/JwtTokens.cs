using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// The key that signs and checks staff bearer tokens: <c>Security:Jwt:SigningKey</c>, or in the embedded default one made
/// on first start in <c>jwt-signing.key</c> (mode 0600) in the data directory, where the <c>token</c> command reads it.
/// </summary>
public sealed class JwtSigningKey
{
    public const string FileName = "jwt-signing.key";

    public JwtSigningKey(JwtOptions options, string dataDirectory)
    {
        Options = options;
        var text = options.SigningKey ?? SecretFiles.ReadOrCreate(Path.Combine(dataDirectory, FileName),
            () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        Key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(text));
    }

    public JwtOptions Options { get; }

    public SymmetricSecurityKey Key { get; }

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = Options.Issuer,
        ValidAudience = Options.Audience,
        IssuerSigningKey = Key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        NameClaimType = ClinicalClaims.Subject,
        RoleClaimType = ClinicalClaims.Role,
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    /// <summary>A signed token for <paramref name="subject"/> with <paramref name="roles"/> (and a site for role site), valid for <paramref name="lifetime"/>.</summary>
    public string Mint(string subject, IReadOnlyList<string> roles, string? siteId, TimeSpan lifetime, DateTimeOffset now)
    {
        var claims = new Dictionary<string, object> { [ClinicalClaims.Subject] = subject, [ClinicalClaims.Role] = roles.ToArray() };
        if (siteId is not null)
        {
            claims[ClinicalClaims.SiteId] = siteId;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Options.Issuer,
            Audience = Options.Audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        });
    }
}

/// <summary>Secrets the silo makes for itself, in files only their owner can read.</summary>
public static class SecretFiles
{
    public static string ReadOrCreate(string path, Func<string> create)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        var value = create();
        Write(path, value);
        return value;
    }

    /// <summary>Writes <paramref name="value"/> to a new file of mode 0600 (created so, never readable by others for a moment).</summary>
    public static void Write(string path, string value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        file.Write(Encoding.UTF8.GetBytes(value + "\n"));
        file.Flush(flushToDisk: true);
    }
}
