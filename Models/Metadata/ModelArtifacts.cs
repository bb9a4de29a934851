using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ClinicalTrials.Models.Metadata;

/// <summary>
/// Where a model version's files live: <c>models/{version}/</c> under the data directory, one file per artifact.
/// The registry only records versions; the files are the model.
/// </summary>
public static partial class ModelArtifacts
{
    public const string ModelName = "adverse-event-24h";
    public const string Onnx = "model.onnx";
    public const string Metadata = "metadata.json";
    public const string RocPlot = "roc.png";
    public const string ImportancePlot = "feature_importance.png";
    public const string CalibrationPlot = "calibration.png";
    public const string PrecisionRecallPlot = "precision_recall.png";
    public const string ConfusionPlot = "confusion_matrix.png";
    public const string Report = "report.md";

    /// <summary>The folder of <paramref name="version"/> under <paramref name="dataDirectory"/>.</summary>
    public static string Folder(string dataDirectory, string version)
    {
        if (!IsValidVersion(version))
        {
            throw new ArgumentException($"'{version}' is not a model version (letters, digits, '.', '-', '_'; at most 64).", nameof(version));
        }

        return Path.Combine(dataDirectory, "models", version);
    }

    /// <summary>
    /// The content hash of a model: SHA-256 of its <c>model.onnx</c>, lower-case hex. The registry records it when a
    /// version is registered and the model host refuses to load a file that no longer has it.
    /// </summary>
    public static string OnnxHash(ReadOnlySpan<byte> onnx) => Convert.ToHexStringLower(SHA256.HashData(onnx));

    /// <summary>Versions are folder names and URL segments, so they are restricted to a safe alphabet.</summary>
    public static bool IsValidVersion(string? version) => version is not null && VersionPattern().IsMatch(version);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex VersionPattern();
}
