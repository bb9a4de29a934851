using ClinicalTrials.Domain.Features;
using ClinicalTrials.Models.Metadata;
using Microsoft.ML.OnnxRuntime;
using ModelMetadata = ClinicalTrials.Models.Metadata.ModelMetadata;

namespace ClinicalTrials.Models.Scoring;

/// <summary>
/// One model version loaded into an ONNX Runtime session, ready to score feature vectors of the current catalogue.
/// Thread-safe: ONNX Runtime sessions may run concurrently. Loading refuses a model whose feature names, order or
/// version differ from <see cref="FeatureCatalogue"/>, since its scores would be computed on the wrong inputs.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly int _featureCount;

    private OnnxModel(ModelMetadata metadata, InferenceSession session)
    {
        Metadata = metadata;
        _session = session;
        _inputNames = [metadata.OnnxInput];
        _outputNames = [metadata.OnnxOutput];
        _featureCount = metadata.FeatureNames.Count;
    }

    public ModelMetadata Metadata { get; }

    public string Version => Metadata.Version;

    /// <summary>
    /// Checks the metadata against the current feature catalogue and loads the ONNX bytes.
    /// </summary>
    /// <exception cref="ModelRefusedException">The model does not fit the platform's features or its ONNX graph.</exception>
    public static OnnxModel Load(ModelMetadata metadata, byte[] onnx)
    {
        CheckFeatures(metadata, FeatureCatalogue.Version, FeatureCatalogue.Names);
        return LoadWithoutFeatureCheck(metadata, onnx);
    }

    /// <summary>
    /// Loads the ONNX bytes without comparing the features to the current catalogue: for the trainer's own check that
    /// the exported graph scores like the trained model, whatever feature version the training data had. Never serve it.
    /// </summary>
    public static OnnxModel LoadWithoutFeatureCheck(ModelMetadata metadata, byte[] onnx)
    {
        InferenceSession session;
        try
        {
            // One thread per run: a single row is microseconds of work, and the callers already run in parallel.
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            session = new InferenceSession(onnx, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelRefusedException($"Model {metadata.Version}: the ONNX file cannot be loaded: {e.Message}");
        }

        if (!session.InputMetadata.TryGetValue(metadata.OnnxInput, out var input) || input.Dimensions[^1] != metadata.FeatureNames.Count)
        {
            session.Dispose();
            throw new ModelRefusedException(
                $"Model {metadata.Version}: the ONNX graph has no input '{metadata.OnnxInput}' of {metadata.FeatureNames.Count} features.");
        }

        if (!session.OutputMetadata.ContainsKey(metadata.OnnxOutput))
        {
            session.Dispose();
            throw new ModelRefusedException($"Model {metadata.Version}: the ONNX graph has no output '{metadata.OnnxOutput}'.");
        }

        return new OnnxModel(metadata, session);
    }

    /// <summary>Refuses a model trained on other features than <paramref name="names"/> of <paramref name="version"/>.</summary>
    public static void CheckFeatures(ModelMetadata metadata, string version, IReadOnlyList<string> names)
    {
        if (metadata.FeatureVersion != version)
        {
            throw new ModelRefusedException(
                $"Model {metadata.Version} was trained on feature version {metadata.FeatureVersion}, but this platform computes {version}; retrain it on the current features.");
        }

        var mismatch = Enumerable.Range(0, Math.Max(names.Count, metadata.FeatureNames.Count))
            .FirstOrDefault(i => i >= names.Count || i >= metadata.FeatureNames.Count || metadata.FeatureNames[i] != names[i], -1);
        if (mismatch >= 0)
        {
            var expected = mismatch < names.Count ? names[mismatch] : "(none)";
            var actual = mismatch < metadata.FeatureNames.Count ? metadata.FeatureNames[mismatch] : "(none)";
            throw new ModelRefusedException(
                $"Model {metadata.Version} expects feature '{actual}' at position {mismatch}, but feature version {version} has '{expected}' there; retrain it on the current features.");
        }
    }

    /// <summary>The probability of the positive class for one vector (in feature order; NaN = missing).</summary>
    public float Score(ReadOnlySpan<double> features)
    {
        if (features.Length != _featureCount)
        {
            throw new ArgumentException($"Model {Version} takes {_featureCount} features, not {features.Length}.", nameof(features));
        }

        var input = new float[_featureCount];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)features[i];
        }

        return Score(input, 1)[0];
    }

    /// <summary>Probabilities for <paramref name="rows"/> vectors laid out row after row in <paramref name="features"/>.</summary>
    public float[] Score(float[] features, int rows)
    {
        using var tensor = OrtValue.CreateTensorValueFromMemory(features, [rows, _featureCount]);
        using var outputs = _session.Run(_runOptions, _inputNames, [tensor], _outputNames);
        return outputs[0].GetTensorDataAsSpan<float>()[..rows].ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}

/// <summary>A model the platform will not serve; the message says why and what to do.</summary>
public sealed class ModelRefusedException(string message) : Exception(message);
