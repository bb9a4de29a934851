using System.Text.Json.Nodes;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Models.Tests.Metadata;

public sealed class TrainingReferenceJsonTests
{
    private static readonly TrainingReference Reference = new(
        [ReferenceDistribution.FromSample("age", [30, 40, 50, float.NaN], bins: 2), ReferenceDistribution.FromSample("lactate", [1, 2, 2, 3], bins: 2)],
        ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, [0.1f, 0.2f, 0.7f], bins: 2));

    [Fact]
    public void Reference_distributions_round_trip_through_metadata_json()
    {
        var metadata = Metadata(Reference);
        var json = ModelJson.Write(metadata);

        var read = ModelJson.ReadMetadata(json);

        Assert.Equal(json, ModelJson.Write(read));
        var age = read.Reference!.Features[0];
        Assert.Equal(("age", 1L), (age.Name, age.Missing));
        Assert.Equal([40.0], age.Edges); // the 2nd of 3 values: ceil(1 * 3 / 2)
        Assert.Equal([2L, 1L], age.Counts);
        Assert.Contains("\"reference\"", System.Text.Encoding.UTF8.GetString(json), StringComparison.Ordinal);
    }

    [Fact]
    public void The_label_is_written_as_outcome_horizon_and_censoring_only_and_read_back()
    {
        var metadata = Metadata(Reference) with { Label = new LabelDefinition("SEPSIS", 6, true) };

        var json = ModelJson.Write(metadata);

        var label = JsonNode.Parse(json)!["label"]!.AsObject();
        Assert.Equal(["outcome", "horizon_hours", "censor_after_first_event"], label.Select(p => p.Key));
        Assert.Equal(new LabelDefinition("SEPSIS", 6, true), ModelJson.ReadMetadata(json).Label);
    }

    [Fact]
    public void Metadata_written_before_references_existed_is_still_read()
    {
        var node = JsonNode.Parse(ModelJson.Write(Metadata(Reference)))!.AsObject();
        node.Remove("reference");

        var read = ModelJson.ReadMetadata(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()));

        Assert.Null(read.Reference);
        Assert.Equal(["age", "lactate"], read.FeatureNames);
    }

    [Fact]
    public void References_that_do_not_match_the_features_are_refused_by_name()
    {
        var swapped = Reference with { Features = [Reference.Features[1], Reference.Features[0]] };
        var error = Assert.Throws<InvalidDataException>(() => ModelJson.ReadMetadata(ModelJson.Write(Metadata(swapped))));
        Assert.Contains("'reference.features'", error.Message, StringComparison.Ordinal);

        var unordered = Reference with { Score = Reference.Score with { Edges = [0.5, 0.2], Counts = [1, 1, 1] } };
        error = Assert.Throws<InvalidDataException>(() => ModelJson.ReadMetadata(ModelJson.Write(Metadata(unordered))));
        Assert.Contains("'score' must have finite, strictly ascending edges", error.Message, StringComparison.Ordinal);

        var node = JsonNode.Parse(ModelJson.Write(Metadata(Reference)))!.AsObject();
        node["reference"]!["score"] = null;
        error = Assert.Throws<InvalidDataException>(() => ModelJson.ReadMetadata(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString())));
        Assert.Contains("score", error.Message, StringComparison.Ordinal);
    }

    private static ModelMetadata Metadata(TrainingReference? reference) => new(
        "v1", "adverse-event-24h", new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero), "v1-abc", ["age", "lactate"], "Features", "Probability.output",
        new TrainingDataSummary("test", new DateOnly(2026, 1, 1), new DateOnly(2026, 1, 2), 4, 2, 1, "00",
            new Dictionary<string, int> { ["train"] = 2 }, new Dictionary<string, long> { ["train"] = 4 }),
        new Dictionary<string, EvaluationMetrics>(), new Dictionary<string, string>(), null, "run-1", reference);
}
