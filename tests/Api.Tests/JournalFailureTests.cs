using System.Net;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>A journal that cannot commit: 503, nothing acknowledged or half-stored, and ingest resumes once it can.</summary>
public sealed class JournalFailureTests
{
    [Fact]
    public async Task Message_the_journal_cannot_store_is_answered_503_and_stored_once_on_retry()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);
        var message = Vitals();

        // A file where the vital-signs bronze folder belongs: the commit cannot create the message's hour partition.
        var blocker = Path.Combine(data.Path, "raw", "vital_signs");
        Directory.CreateDirectory(Path.GetDirectoryName(blocker)!);
        await File.WriteAllTextAsync(blocker, "not a folder", cancellation);

        var failed = await (await app.Http.PostAsync("/api/clinical/data", Json(message), cancellation)).ExpectAsync(503);
        Assert.Equal("Storage unavailable", failed.GetProperty("title").GetString());
        await (await app.Http.GetAsync($"/api/clinical/messages/{IdOf(message)}", cancellation)).ExpectAsync(404);

        // The data directory itself still takes writes: degraded (still routed to), not unhealthy, until a commit succeeds.
        var degraded = await (await app.Http.GetAsync("/api/clinical/health", cancellation)).ExpectAsync(200);
        var journal = degraded.GetProperty("components").GetProperty("journal");
        Assert.Equal("degraded", journal.GetProperty("status").GetString());
        Assert.Contains("The last commit failed", journal.GetProperty("detail").GetString());

        File.Delete(blocker);
        var retried = await (await app.Http.PostAsync("/api/clinical/data", Json(message), cancellation)).ExpectAsync(202);

        // Accepted, not a duplicate: the failed commit left no ledger row behind.
        Assert.Equal("accepted", retried.GetProperty("status").GetString());
        var stats = await (await app.Http.GetAsync("/api/clinical/stats", cancellation)).ExpectAsync(200);
        Assert.Equal(1, stats.GetProperty("accepted").GetInt64());
        Assert.Equal(0, stats.GetProperty("duplicates").GetInt64());
        await (await app.Http.GetAsync("/api/clinical/health", cancellation)).ExpectAsync(200);
    }
}
