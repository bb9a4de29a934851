using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>A site's key writes and reads for its own site only, on every endpoint that takes or shows a site's data.</summary>
public sealed class SiteIsolationTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_message_for_another_site_is_refused_naming_site_id_and_not_stored()
    {
        using var siteB = fixture.Client("site_b");
        var message = TestMessages.Vitals(siteId: fixture.SiteA);
        var problem = await (await siteB.PostAsync("/api/clinical/data", TestMessages.Json(message), Cancellation)).ExpectAsync(403);
        Assert.True(problem.GetProperty("errors").TryGetProperty("site_id", out _));
        await (await fixture.App.Http.GetAsync($"/api/clinical/messages/{TestMessages.IdOf(message)}", Cancellation)).ExpectAsync(404);

        var own = TestMessages.Vitals(siteId: fixture.SiteB);
        await (await siteB.PostAsync("/api/clinical/data", TestMessages.Json(own), Cancellation)).ExpectAsync(202);
    }

    [Fact]
    public async Task A_batch_with_one_message_for_another_site_is_refused_whole()
    {
        using var siteB = fixture.Client("site_b_ingest");
        var messages = Enumerable.Range(0, 5).Select(_ => TestMessages.Vitals(siteId: fixture.SiteB)).ToList();
        messages.Insert(3, TestMessages.Vitals(siteId: fixture.SiteA));
        var problem = await (await siteB.PostAsync("/api/clinical/data/batch",
            TestMessages.Ndjson(messages.Select(m => m.ToJsonString())), Cancellation)).ExpectAsync(403);
        Assert.True(problem.GetProperty("errors").TryGetProperty("site_id", out _));
        Assert.Equal([3], problem.GetProperty("indexes").EnumerateArray().Select(i => i.GetInt32()));
        foreach (var message in messages)
        {
            await (await fixture.App.Http.GetAsync($"/api/clinical/messages/{TestMessages.IdOf(message)}", Cancellation)).ExpectAsync(404);
        }

        messages.RemoveAt(3);
        var stored = await (await siteB.PostAsync("/api/clinical/data/batch",
            TestMessages.Ndjson(messages.Select(m => m.ToJsonString())), Cancellation)).ExpectAsync(200);
        Assert.Equal(5, stored.GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task A_FHIR_bundle_for_another_site_is_refused()
    {
        using var siteB = fixture.Client("site_b");
        var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = "batch", ["entry"] = new JsonArray() };
        var problem = await (await siteB.PostAsync($"/fhir/Bundle?site_id={fixture.SiteA}&study_phase=Phase%20II",
            TestMessages.Json(bundle), Cancellation)).ExpectAsync(403);
        Assert.True(problem.GetProperty("errors").TryGetProperty("site_id", out _));
    }

    [Fact]
    public async Task A_site_reads_its_own_messages_and_counts_and_nobody_elses()
    {
        var ofA = TestMessages.Vitals(siteId: fixture.SiteA);
        using var siteA = fixture.Client("site_a");
        using var siteB = fixture.Client("site_b");
        await (await siteA.PostAsync("/api/clinical/data", TestMessages.Json(ofA), Cancellation)).ExpectAsync(202);

        await (await siteA.GetAsync($"/api/clinical/messages/{TestMessages.IdOf(ofA)}", Cancellation)).ExpectAsync(200);
        await (await siteA.GetAsync($"/api/sites/{fixture.SiteA}", Cancellation)).ExpectAsync(200);
        var problem = await (await siteB.GetAsync($"/api/clinical/messages/{TestMessages.IdOf(ofA)}", Cancellation)).ExpectAsync(403);
        Assert.True(problem.GetProperty("errors").TryGetProperty("site_id", out _));
        await (await siteB.GetAsync($"/api/sites/{fixture.SiteA}", Cancellation)).ExpectAsync(403);

        // Patient-level reads are for data managers: no site key reads a patient, its own site's or another's.
        var patient = (string)ofA["vital_signs"]!["patient_id"]!;
        foreach (var path in new[] { $"/api/patients/{patient}", $"/api/patients/{patient}/features", $"/fhir/Patient/{patient}/$everything" })
        {
            await (await siteA.GetAsync(path, Cancellation)).ExpectAsync(403);
            await (await siteB.GetAsync(path, Cancellation)).ExpectAsync(403);
        }

        using var dataManager = fixture.Client("data_manager");
        await (await dataManager.GetAsync($"/api/patients/{patient}", Cancellation)).ExpectAsync(200);
    }

    [Fact]
    public async Task An_ingest_only_key_sends_but_reads_nothing()
    {
        using var ingest = fixture.Client("site_b_ingest");
        var message = TestMessages.Vitals(siteId: fixture.SiteB);
        await (await ingest.PostAsync("/api/clinical/data", TestMessages.Json(message), Cancellation)).ExpectAsync(202);
        await (await ingest.GetAsync($"/api/clinical/messages/{TestMessages.IdOf(message)}", Cancellation)).ExpectAsync(403);
        await (await ingest.GetAsync($"/api/sites/{fixture.SiteB}", Cancellation)).ExpectAsync(403);
    }
}
