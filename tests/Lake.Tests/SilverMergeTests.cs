using ClinicalTrials.Lake.Silver;

namespace ClinicalTrials.Lake.Tests;

/// <summary>
/// The merge skips the arrival-order pass when nothing repeats; with or without repeats, and however the rows are split
/// between the stored file and the new ones, it must keep exactly what the definition keeps.
/// </summary>
public sealed class SilverMergeTests
{
    private static readonly DateTime Day = new(2026, 3, 9, 0, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.05)]
    [InlineData(3, 0.3)]
    [InlineData(4, 0.9)]
    public void Merge_keeps_what_taking_rows_in_arrival_order_keeps(int seed, double repeatShare)
    {
        var random = new Random(seed);
        var rows = new List<LabRow>();
        for (var i = 0; i < 2000; i++)
        {
            var row = random.NextDouble() < repeatShare && rows.Count > 0 ? Variant(rows[random.Next(rows.Count)], random) : NewRow(random);
            rows.Add(row with { ReceivedAt = row.ReceivedAt.AddTicks(i) }); // no two arrive at the same instant: arrival order is total

        }

        var expected = ByDefinition(rows);
        var shuffled = rows.OrderBy(_ => random.Next()).ToList();
        foreach (var split in new[] { 0, 700, shuffled.Count })
        {
            var (merged, duplicateIds, duplicateKeys) = SilverMerge.Merge(shuffled[..split], shuffled[split..]);

            Assert.Equal(expected.Rows, merged);
            Assert.Equal(expected.DuplicateIds, duplicateIds);
            Assert.Equal(expected.DuplicateKeys, duplicateKeys);
        }
    }

    [Fact]
    public void A_message_id_resent_about_another_time_is_kept_once_as_first_received()
    {
        var first = NewRow(new Random(5));
        var resent = first with { Timestamp = first.Timestamp.AddHours(1), ReceivedAt = first.ReceivedAt.AddMinutes(1) };

        var (merged, duplicateIds, duplicateKeys) = SilverMerge.Merge([resent], [first]);

        Assert.Equal([first], merged);
        Assert.Equal((1, 0), (duplicateIds, duplicateKeys));
    }

    private static LabRow NewRow(Random random) => new(
        Guid.NewGuid(), $"PT0000{random.Next(20):D4}", Day.AddMinutes(random.Next(30)), $"SITE00{random.Next(3)}", 2,
        Day.AddHours(1).AddSeconds(random.Next(600)), new[] { "GLUC", "HGB", "ALT" }[random.Next(3)], random.Next(50, 150), "mg/dL", 1, "mg/dL");

    /// <summary>A retry (same id), the same id resent about another time, another site's copy, or another result of the same message.</summary>
    private static LabRow Variant(LabRow row, Random random) => random.Next(5) switch
    {
        0 => row with { ReceivedAt = row.ReceivedAt.AddSeconds(random.Next(-5, 5)) },
        4 => row with { Timestamp = row.Timestamp.AddMinutes(random.Next(1, 5)), ReceivedAt = row.ReceivedAt.AddSeconds(random.Next(-5, 5)) },
        1 => row with { MessageId = Guid.NewGuid(), ReceivedAt = row.ReceivedAt.AddSeconds(random.Next(-5, 5)) },
        2 => row with { MessageId = Guid.NewGuid(), SiteId = "SITE009" },
        _ => row with { TestCode = "CREAT", Value = random.Next(1, 3) },
    };

    /// <summary>The definition, written plainly: arrival order, first (id, detail) and first natural key win.</summary>
    private static (LabRow[] Rows, long DuplicateIds, long DuplicateKeys) ByDefinition(List<LabRow> rows)
    {
        var ids = new HashSet<(Guid, string)>();
        var keys = new HashSet<(string, DateTime, string, string)>();
        var kept = new List<LabRow>();
        long duplicateIds = 0, duplicateKeys = 0;
        foreach (var row in rows.OrderBy(r => r.ReceivedAt).ThenBy(r => r.MessageId).ThenBy(r => r.Detail, StringComparer.Ordinal))
        {
            if (!ids.Add((row.MessageId, row.Detail)))
            {
                duplicateIds++;
            }
            else if (!keys.Add((row.PatientId, row.Timestamp, row.SiteId, row.Detail)))
            {
                duplicateKeys++;
            }
            else
            {
                kept.Add(row);
            }
        }

        return ([.. kept.OrderBy(r => r.PatientId, StringComparer.Ordinal).ThenBy(r => r.Timestamp).ThenBy(r => r.MessageId)
            .ThenBy(r => r.Detail, StringComparer.Ordinal)], duplicateIds, duplicateKeys);
    }
}
