using System.Text.Json;

namespace ClinicalTrials.Grains.Tests;

/// <summary>An entry's bronze line is always that of its own values, also for a copy made with <c>with</c>.</summary>
public sealed class JournalEntryTests
{
    [Fact]
    public void A_copy_with_another_message_id_or_received_time_carries_them_in_its_bronze_line()
    {
        var entry = JournalRecoveryTests.AcceptedEntry(NewPatientId(), NewSiteId());
        var (otherId, later) = (Guid.NewGuid(), entry.ReceivedAt.AddMinutes(3));

        var copy = entry with { MessageId = otherId, ReceivedAt = later };

        var original = JsonDocument.Parse(entry.Line).RootElement;
        var copied = JsonDocument.Parse(copy.Line).RootElement;
        Assert.Equal(entry.MessageId, original.GetProperty("message_id").GetGuid());
        Assert.Equal(otherId, copied.GetProperty("message_id").GetGuid());
        Assert.Equal(later, copied.GetProperty("received_at").GetDateTimeOffset());
        Assert.Equal(original.GetProperty("raw").GetRawText(), copied.GetProperty("raw").GetRawText());
    }
}
