using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Tests;

/// <summary>Online features in the patient grain: maintained per stored message, equal to the offline replay of the same messages.</summary>
public sealed class FeatureTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClinicalCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task Grain_vector_equals_offline_replay_of_the_stored_messages()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        foreach (var chunk in History(patient, site, DateTimeOffset.UtcNow.AddHours(-1)).Chunk(4))
        {
            await _cluster.IngestAsync(chunk);
        }

        var features = await OnlineOffline.AssertGrainEqualsReplayAsync(_cluster, patient);
        Assert.Equal(FeatureCatalogue.Version, features.FeatureVersion);
        Assert.Equal(FeatureCatalogue.Count, features.Values.Length);
        Assert.Equal(1, features.Values[FeatureCatalogue.IndexOf("ae_serious_count")]);
    }

    [Fact]
    public async Task Vector_changes_with_each_new_vital_sign()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var now = DateTimeOffset.UtcNow;
        var at = now.AddHours(-2).AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond)); // whole seconds, as the features' clock
        var grain = _cluster.Client.GetGrain<IPatientGrain>(patient);

        await _cluster.IngestAsync(Vitals(patient, site, at, 72).ToJsonString());
        var first = await grain.GetFeaturesAsync();
        await _cluster.IngestAsync(Vitals(patient, site, at.AddMinutes(30), 118).ToJsonString());
        var second = await grain.GetFeaturesAsync();

        Assert.Equal(72, first!.Values[FeatureCatalogue.IndexOf("heart_rate_last")]);
        Assert.Equal(118, second!.Values[FeatureCatalogue.IndexOf("heart_rate_last")]);
        Assert.Equal(2, second.Values[FeatureCatalogue.IndexOf("heart_rate_count_1h")]);
        Assert.Equal(95, second.Values[FeatureCatalogue.IndexOf("heart_rate_mean_1h")]);
        Assert.Equal(at.AddMinutes(30), second.AsOf);
    }

    [Fact]
    public async Task Rejected_and_duplicate_messages_leave_the_vector_unchanged()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        var message = Vitals(patient, site, at, 72).ToJsonString();
        await _cluster.IngestAsync(message);
        var before = await _cluster.Client.GetGrain<IPatientGrain>(patient).GetFeaturesAsync();

        await _cluster.IngestAsync(message, ImpossibleVitals(patient, site, at.AddMinutes(5)).ToJsonString());

        var after = await OnlineOffline.AssertGrainEqualsReplayAsync(_cluster, patient);
        Assert.Equal(before!.AsOf, after.AsOf);
        Assert.Equal(before.Values, after.Values);
    }

    [Fact]
    public async Task Patient_with_nothing_stored_has_no_features()
    {
        Assert.Null(await _cluster.Client.GetGrain<IPatientGrain>(NewPatientId()).GetFeaturesAsync());
    }
}

/// <summary>The online = offline check through the whole stack: the grain's vector against a replay of what the journal stored.</summary>
internal static class OnlineOffline
{
    public static async Task<PatientFeatures> AssertGrainEqualsReplayAsync(ClinicalCluster cluster, string patient)
    {
        var online = await cluster.Client.GetGrain<IPatientGrain>(patient).GetFeaturesAsync();
        Assert.NotNull(online);
        var stored = (await cluster.Journal.ReadPatientAsync(patient, 0))
            .Select(s => ClinicalMessageParser.Parse(s.Raw, s.ReceivedAt).Message!)
            .ToList();

        var offline = FeatureReplay.VectorAt(stored, online.AsOf);

        Assert.Equal(offline.AsOf, online.AsOf);
        Assert.Equal(Bits(offline.Values), Bits(online.Values));
        return online;
    }

    /// <summary>Bit patterns, so NaN equals NaN and -0 differs from 0: the vectors must be identical, not close.</summary>
    private static long[] Bits(IEnumerable<double> values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];
}
