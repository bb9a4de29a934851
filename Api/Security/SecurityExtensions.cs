using System.Security.Claims;
using System.Text.Encodings.Web;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Journal;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using ClinicalTrials.Lake.Retention;

namespace ClinicalTrials.Api.Security;

/// <summary>Authentication (API keys, staff bearer tokens), the policies of <see cref="EndpointAccess"/>, the key store and the audit trail with its checkpoints.</summary>
public static class SecurityExtensions
{
    private const string DefaultScheme = "clinical";
    private const string OpenScheme = "open";

    public static IServiceCollection AddClinicalSecurity(this IServiceCollection services)
    {
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section)
            .Validate(o => o.Jwt.SigningKey is null || o.Jwt.SigningKey.Length >= 32, "Security:Jwt:SigningKey must be at least 32 characters.")
            .Validate(o => string.IsNullOrEmpty(o.BootstrapAdminKey) || ApiKeyStore.KeyIdOf(o.BootstrapAdminKey) is not null,
                $"Security:BootstrapAdminKey must have the shape {ApiKeyStore.Prefix}{{12 hex digits}}_{{secret}}.")
            .Validate(o => o.RateLimit.IsValid, "Security:RateLimit: RequestsPerSecond must be 0 (off) or positive, with a Burst of at least 1.")
            .Validate(o => o.Audit.CheckpointInterval > TimeSpan.Zero && o.Audit.CheckpointInterval <= AuditOptions.MaxCheckpointInterval,
                $"Security:Audit:CheckpointInterval must be positive and at most {AuditOptions.MaxCheckpointInterval}: records after the last checkpoint have the chain's protection only.")
            .ValidateOnStart();
        services.AddSingleton(s => AccessDatabase.From(
            s.GetRequiredService<IConfiguration>(), s.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory));
        services.AddSingleton<AuditTrail>();
        services.AddHostedService(s => s.GetRequiredService<AuditTrail>());
        services.AddSingleton<IAuditTrailRetention>(s => s.GetRequiredService<AuditTrail>());
        // Broker deliveries are recorded like HTTP ingest requests.
        services.AddSingleton<IBrokerReceipts, BrokerReceipts>();
        services.AddSingleton(s => AuditCheckpointKey.Open(s.GetRequiredService<IOptions<SecurityOptions>>().Value.Audit,
            s.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory, s.GetRequiredService<AccessDatabase>().IsPostgres));
        services.AddSingleton<AuditCheckpoints>();
        services.AddHostedService(s => s.GetRequiredService<AuditCheckpoints>());
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ApiKeyDirectory>();
        services.AddSingleton(s => new JwtSigningKey(
            s.GetRequiredService<IOptions<SecurityOptions>>().Value.Jwt, s.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory));
        services.AddHostedService<SecurityBootstrap>();
        services.AddHostedService<ConfigurationAudit>();

        services.AddAuthentication(DefaultScheme)
            .AddPolicyScheme(DefaultScheme, "API key or bearer token", o => o.ForwardDefaultSelector = SchemeFor)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, OpenAuthenticationHandler>(OpenScheme, null)
            .AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<JwtSigningKey>((o, key) =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = key.ValidationParameters();
        });
        services.AddAuthorization(EndpointAccess.AddPolicies);
        services.AddClinicalRateLimits();
        // On HTTPS only; a year, as browsers' preload lists ask. Hosts are not excluded: the silo is reached by name or address.
        services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(365);
            o.IncludeSubDomains = true;
            o.ExcludedHosts.Clear();
        });
        return services;
    }

    /// <summary>The OpenAPI document names both schemes (API key header, JWT bearer); every operation needs one of them.</summary>
    public static void DescribeSecurity(OpenApiOptions options) => options.AddDocumentTransformer((document, _, _) =>
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.Header,
            Description = "A site's or integration's API key (ctk_…); created by an administrator.",
        };
        document.Components.SecuritySchemes[JwtBearerDefaults.AuthenticationScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A staff member's token from the configured issuer (roles in the 'role' claim).",
        };
        document.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(JwtBearerDefaults.AuthenticationScheme, document)] = [] },
        ];
        return Task.CompletedTask;
    });

    private static string SchemeFor(HttpContext context)
    {
        if (!context.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value.Enabled)
        {
            return OpenScheme;
        }

        return ApiKeyAuthenticationHandler.PresentedKey(context.Request.Headers) is null
            && context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal)
                ? JwtBearerDefaults.AuthenticationScheme
                : ApiKeyAuthenticationHandler.SchemeName;
    }

    /// <summary>With <c>Security:Enabled=false</c>: every request is an administrator (local experiments only).</summary>
    private sealed class OpenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClinicalClaims.Subject, "anonymous (Security:Enabled=false)"), new Claim(ClinicalClaims.Role, Roles.Admin)],
                OpenScheme, ClinicalClaims.Subject, ClinicalClaims.Role)),
            OpenScheme)));
    }
}

/// <summary>
/// At start: secure by default. With no key stored yet, creates the first admin key (<c>Security:BootstrapAdminKey</c>,
/// or a random one written to <c>admin.key</c>, mode 0600, in the data directory) and says where; with security off,
/// warns loudly.
/// </summary>
internal sealed partial class SecurityBootstrap(
    ApiKeyStore keys, JwtSigningKey signingKey, IOptions<SecurityOptions> options, IOptions<JournalOptions> journal, ILogger<SecurityBootstrap> logger)
    : IHostedService
{
    public const string AdminKeyFileName = "admin.key";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = signingKey.Key; // made now, not on the first token request
        if (!options.Value.Enabled)
        {
            LogOpen(logger);
            return;
        }

        var preset = string.IsNullOrEmpty(options.Value.BootstrapAdminKey) ? null : options.Value.BootstrapAdminKey;
        if (await keys.CreateFirstAsync(new ApiKeyRequest("bootstrap admin", Roles.Admin, null), "system:bootstrap", preset, cancellationToken) is not { } issued)
        {
            return;
        }

        if (preset is null)
        {
            var path = Path.GetFullPath(Path.Combine(journal.Value.DataDirectory, AdminKeyFileName));
            SecretFiles.Write(path, issued.Key);
            LogCreated(logger, issued.Info.KeyId, path);
        }
        else
        {
            LogPreset(logger, issued.Info.KeyId);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "SECURITY IS OFF (Security:Enabled=false): every request is let in as an administrator, with no credential. Never run so with real data.")]
    private static partial void LogOpen(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key existed: created admin key {KeyId}; the key is in {Path} (mode 0600). Create personal keys and tokens with it (docs/security.md).")]
    private static partial void LogCreated(ILogger logger, string keyId, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "No API key existed: stored the configured Security:BootstrapAdminKey as admin key {KeyId}.")]
    private static partial void LogPreset(ILogger logger, string keyId);
}
