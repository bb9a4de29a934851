using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Scoring;
using Microsoft.Extensions.Configuration;

namespace ClinicalTrials.Trainer;

/// <summary>
/// The silo's settings the trainer needs, bound into the silo's own option types from the same sources, later ones
/// winning: <c>appsettings.json</c> beside the trainer (when present), the environment (<c>Storage__Provider=S3</c>)
/// and <c>--Section:Key=value</c> settings on the command line. Checked before any work starts, so a mistyped value
/// is one line naming the setting, never a silent default.
/// </summary>
public sealed record TrainerConfiguration(StorageOptions Storage, RiskThresholds Thresholds, string? PostgresConnectionString)
{
    public const string AppSettingsFile = "appsettings.json";

    /// <summary>The sources merged; <paramref name="settings"/> are the command line's <c>--Section:Key=value</c> arguments.</summary>
    public static IConfiguration Read(IEnumerable<string> settings, string? directory = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(directory ?? AppContext.BaseDirectory, AppSettingsFile), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine([.. settings])
            .Build();

    /// <summary>The bound settings, or the first problem as one line naming the setting.</summary>
    public static (TrainerConfiguration? Configuration, string? Problem) Bind(IConfiguration configuration)
    {
        StorageOptions storage;
        RiskThresholds thresholds;
        try
        {
            // Unknown keys are errors too: a mistyped Storage:S3:Bukcet would otherwise leave the bucket unset.
            storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new();
            thresholds = configuration.GetSection(RiskThresholds.Section).Get<RiskThresholds>(o => o.ErrorOnUnknownConfiguration = true) ?? new();
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key, the type and the value it could not convert; only numbers, flags and enums
            // can fail to convert, and no secret is one of those (keys and connection strings are text).
            return (null, e.Message);
        }

        if (storage.Problem() is { } storageProblem)
        {
            return (null, storageProblem);
        }

        if (!thresholds.IsValid)
        {
            return (null, RiskThresholds.Rule);
        }

        return (new TrainerConfiguration(storage, thresholds, configuration.GetConnectionString("Postgres")), null);
    }
}
