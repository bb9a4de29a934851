using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Silver;

namespace ClinicalTrials.Lake.Tests;

public sealed class OfflineFeaturesTests
{
    private static readonly DateTimeOffset Received = TestLake.Now.AddDays(-1);
    private static readonly DateTimeOffset Start = new(2026, 3, 7, 6, 30, 0, TimeSpan.Zero);
    private static readonly DateOnly From = new(2026, 3, 7);
    private static readonly DateOnly To = new(2026, 3, 9);

    /// <summary>Two days of one patient: vitals every 20 min, labs every 4 h, demographics, adverse events.</summary>
    private static List<JsonObject> History(string patient, int seed)
    {
        var random = new Random(seed);
        var messages = new List<JsonObject> { Demographics(patient, TestLake.Site, Start, 61) };
        for (var minutes = 0; minutes < 48 * 60; minutes += 20)
        {
            messages.Add(AllVitals(patient, TestLake.Site, Start.AddMinutes(minutes).AddSeconds(random.Next(60)), 60 + random.Next(60),
                systolic: 100 + random.Next(50), diastolic: 60 + random.Next(30)));
            if (minutes % 240 == 0)
            {
                messages.Add(Labs(patient, TestLake.Site, Start.AddMinutes(minutes + 7), ("GLUC", 4 + random.NextDouble() * 4, "mmol/L"), ("WBC", 5 + random.Next(8), "10^9/L")));
            }
        }

        messages.Add(AdverseEvent("Nausea", patient, TestLake.Site, Start.AddHours(20), onset: Start.AddHours(19)));
        messages.Add(AdverseEvent("Nausea", patient, TestLake.Site, Start.AddHours(45), onset: Start.AddHours(44.5)));
        return messages;
    }

    private static async Task<List<OfflineFeatureRow>> BuildAsync(TestLake lake, IEnumerable<JsonObject> messages)
    {
        lake.WriteBronze(Received, messages);
        Assert.Equal("succeeded", (await lake.RunAsync(BronzeToSilverJob.JobName)).Status);
        var run = await lake.RunAsync(OfflineFeaturesJob.JobName, From, To);
        Assert.Equal("succeeded", run.Status);
        return await ReadAsync(lake);
    }

    private static async Task<List<OfflineFeatureRow>> ReadAsync(TestLake lake)
    {
        var rows = new List<OfflineFeatureRow>();
        await foreach (var row in new OfflineFeatureStore(lake.Storage).ReadAsync(From, To))
        {
            rows.Add(row);
        }

        return rows;
    }

    private static List<Domain.Messages.ClinicalMessage> Parsed(IEnumerable<JsonObject> messages) =>
        [.. messages.Select(m => ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(m.ToJsonString()), Received).Message!)];

    [Fact]
    public async Task Vectors_equal_FeatureReplay_over_the_same_history()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        var history = History(patient, 1);

        var rows = await BuildAsync(lake, history);

        var times = rows.Select(r => r.Timestamp).ToList();
        var expected = FeatureReplay.At(Parsed(history), times).ToList();
        Assert.Equal(49, rows.Count);
        Assert.Equal(FeatureReplay.Hourly(Parsed(history)).Select(v => v.AsOf!.Value), times); // the same hours Hourly picks
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.True(expected[i].Values.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(rows[i].Features.Select(BitConverter.DoubleToInt64Bits)),
                $"row at {rows[i].Timestamp:O} differs from FeatureReplay");
        }
    }

    [Fact]
    public async Task A_row_at_t_never_sees_events_after_t()
    {
        using var withFuture = new TestLake();
        using var truncated = new TestLake();
        var patient = NewPatientId();
        var history = History(patient, 2);
        var cut = Start.AddHours(30);

        var all = await BuildAsync(withFuture, history);
        var past = await BuildAsync(truncated, history.Where(m => DateTimeOffset.Parse((string)m["timestamp"]!) <= cut.AddHours(-0.5)));

        // Up to t, the rows built from the whole history equal those built from history that ends before t.
        var pastByTime = past.ToDictionary(r => r.Timestamp);
        foreach (var row in all.Where(r => r.Timestamp <= cut.AddHours(-0.5) && pastByTime.ContainsKey(r.Timestamp)))
        {
            Assert.Equal(pastByTime[row.Timestamp].Features.Select(BitConverter.DoubleToInt64Bits), row.Features.Select(BitConverter.DoubleToInt64Bits));
        }

        Assert.True(all.Count(r => r.Timestamp <= cut.AddHours(-0.5)) >= 20);
    }

    [Fact]
    public async Task Files_hold_no_label_and_the_adverse_events_for_labelling_are_read_from_silver()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        var onset = new DateTimeOffset(2026, 3, 8, 12, 0, 0, TimeSpan.Zero);
        List<JsonObject> messages =
        [
            Demographics(patient, TestLake.Site, Start, 61),
            .. Enumerable.Range(0, 60).Select(h => AllVitals(patient, TestLake.Site, Start.AddHours(h))),
            AdverseEvent("Nausea", patient, TestLake.Site, onset.AddHours(6), onset: onset), // reported later than its onset
        ];

        var rows = await BuildAsync(lake, messages);
        var events = await new OfflineFeatureStore(lake.Storage).ReadAdverseEventsAsync(TestContext.Current.CancellationToken);

        Assert.Equal((patient, onset), Assert.Single(events) is var e ? (e.PatientId, e.Onset) : default);
        // The adverse event reaches the features only from its report time on, never at its earlier onset.
        var count = FeatureCatalogue.IndexOf("ae_count");
        Assert.Equal(0, rows.Single(r => r.Timestamp == onset.AddHours(5)).Features[count]);
        Assert.Equal(1, rows.Single(r => r.Timestamp == onset.AddHours(6)).Features[count]);
    }

    [Fact]
    public async Task Small_memory_budget_splits_patients_into_buckets_with_the_same_rows()
    {
        using var single = new TestLake();
        using var bucketed = new TestLake(new PipelineOptions { MaxRowsInMemory = 1000 });
        var messages = Enumerable.Range(0, 6).SelectMany(i => History(NewPatientId(), 10 + i)).ToList();

        var expected = await BuildAsync(single, messages.Select(m => m.DeepClone().AsObject()));
        var rows = await BuildAsync(bucketed, messages);
        var run = (await bucketed.Jobs.RunAsync(OfflineFeaturesJob.JobName, new Jobs.JobArguments(From, To)));

        Assert.True(run.Details["buckets"] > 1);
        Assert.Equal(expected.Count, rows.Count);
        var byKey = rows.ToDictionary(r => (r.PatientId, r.Timestamp));
        Assert.All(expected, e => Assert.Equal(e.Features.Select(BitConverter.DoubleToInt64Bits), byKey[(e.PatientId, e.Timestamp)].Features.Select(BitConverter.DoubleToInt64Bits)));
    }

    [Fact]
    public async Task Files_carry_the_feature_names_and_version()
    {
        using var lake = new TestLake();
        await BuildAsync(lake, History(NewPatientId(), 3));

        var schema = await new OfflineFeatureStore(lake.Storage).ReadSchemaAsync(From, To);

        Assert.NotNull(schema);
        Assert.Equal(FeatureCatalogue.Version, schema.FeatureVersion);
        Assert.Equal(FeatureCatalogue.Names, schema.FeatureNames);
        Assert.All(await new OfflineFeatureStore(lake.Storage).KeysAsync(From, To), key => Assert.StartsWith("features/offline/date=2026-03-0", key));
    }

    [Fact]
    public async Task Scheduled_run_takes_the_silver_dates_that_changed()
    {
        using var lake = new TestLake();
        lake.WriteBronze(Received, History(NewPatientId(), 4));
        await lake.RunAsync(BronzeToSilverJob.JobName);

        var first = await lake.RunAsync(OfflineFeaturesJob.JobName);
        var second = await lake.RunAsync(OfflineFeaturesJob.JobName);

        Assert.Equal(49, first.RowsOut);
        Assert.Equal(0, second.RowsOut);
    }
}
