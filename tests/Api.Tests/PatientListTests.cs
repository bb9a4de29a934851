using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// <c>GET /api/patients</c> and <c>GET /api/sites</c>: which patients and sites there are, paged by patient_id, each
/// site key seeing its own site only.
/// </summary>
public sealed class PatientListTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_sites_patients_are_listed_in_id_order_page_by_page()
    {
        var site = NewSiteId();
        var patients = Enumerable.Range(0, 5).Select(_ => NewPatientId()).ToList();
        foreach (var patient in patients)
        {
            await (await fixture.App.Http.PostAsync("/api/clinical/data", Json(Vitals(patient, site)), Cancellation)).ExpectAsync(202);
        }

        // A patient whose only message was rejected has no accepted data, so is not listed.
        await (await fixture.App.Http.PostAsync("/api/clinical/data", Json(HeartRateOnly(500, site)), Cancellation)).ExpectAsync(400);

        using var dataManager = fixture.Client("data_manager");
        var listed = new List<string>();
        var pages = 0;
        string? after = null;
        do
        {
            var page = await (await dataManager.GetAsync($"/api/patients?site_id={site}&limit=2{(after is null ? "" : $"&after={after}")}", Cancellation)).ExpectAsync(200);
            var items = page.GetProperty("patients").EnumerateArray().ToList();
            Assert.InRange(items.Count, 1, 2);
            Assert.All(items, item => Assert.Equal([site], item.GetProperty("site_ids").EnumerateArray().Select(s => s.GetString())));
            listed.AddRange(items.Select(item => item.GetProperty("patient_id").GetString()!));
            after = page.GetProperty("next_after").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_after").GetString();
            pages++;
        }
        while (after is not null);

        Assert.Equal(patients.Order(StringComparer.Ordinal), listed);
        Assert.Equal(3, pages);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("after=PT123", "after")]
    [InlineData("site_id=site%20one", "site_id")]
    public async Task A_bad_query_parameter_is_400_naming_it(string query, string field)
    {
        var problem = await (await fixture.App.Http.GetAsync($"/api/patients?{query}", Cancellation)).ExpectAsync(400);
        Assert.Equal([field], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task A_site_key_lists_its_own_sites_patients_and_counts_only()
    {
        var ofA = NewPatientId();
        var ofB = NewPatientId();
        using var siteA = fixture.Client("site_a");
        using var siteB = fixture.Client("site_b");
        await (await siteA.PostAsync("/api/clinical/data", Json(Vitals(ofA, fixture.SiteA)), Cancellation)).ExpectAsync(202);
        await (await siteB.PostAsync("/api/clinical/data", Json(Vitals(ofB, fixture.SiteB)), Cancellation)).ExpectAsync(202);

        var seenByA = await AllPatientsAsync(siteA, "/api/patients");
        Assert.Contains(ofA, seenByA.Keys);
        Assert.DoesNotContain(ofB, seenByA.Keys);
        Assert.All(seenByA.Values, sites => Assert.Equal([fixture.SiteA], sites));
        var refused = await (await siteA.GetAsync($"/api/patients?site_id={fixture.SiteB}", Cancellation)).ExpectAsync(403);
        Assert.True(refused.GetProperty("errors").TryGetProperty("site_id", out _));

        var sitesSeenByA = await (await siteA.GetAsync("/api/sites", Cancellation)).ExpectAsync(200);
        Assert.Equal([fixture.SiteA], sitesSeenByA.EnumerateArray().Select(s => s.GetProperty("site_id").GetString()));

        using var dataManager = fixture.Client("data_manager");
        var seenByStaff = await AllPatientsAsync(dataManager, "/api/patients");
        Assert.Contains(ofA, seenByStaff.Keys);
        Assert.Contains(ofB, seenByStaff.Keys);
        var sitesSeenByStaff = await (await dataManager.GetAsync("/api/sites", Cancellation)).ExpectAsync(200);
        Assert.Superset(new HashSet<string?> { fixture.SiteA, fixture.SiteB }, sitesSeenByStaff.EnumerateArray().Select(s => s.GetProperty("site_id").GetString()).ToHashSet());
    }

    [Fact]
    public async Task A_site_is_listed_with_its_patient_and_message_counts()
    {
        var site = NewSiteId();
        var (first, second) = (NewPatientId(), NewPatientId());
        foreach (var message in new[] { Vitals(first, site), Vitals(first, site), AdverseEvent("Rash", second, site), HeartRateOnly(500, site) })
        {
            await fixture.App.Http.PostAsync("/api/clinical/data", Json(message), Cancellation);
        }

        var sites = await (await fixture.App.Http.GetAsync("/api/sites", Cancellation)).ExpectAsync(200);
        var entry = sites.EnumerateArray().Single(s => s.GetProperty("site_id").GetString() == site);
        Assert.Equal(2, entry.GetProperty("patients").GetInt64());
        var messages = entry.GetProperty("messages");
        Assert.Equal((3L, 1L, 0L), (messages.GetProperty("accepted").GetInt64(), messages.GetProperty("rejected").GetInt64(), messages.GetProperty("duplicates").GetInt64()));
    }

    /// <summary>Every patient the caller may list, following the pages at the largest size, with the sites shown for each.</summary>
    private static async Task<Dictionary<string, List<string?>>> AllPatientsAsync(HttpClient http, string path)
    {
        var all = new Dictionary<string, List<string?>>();
        string? after = null;
        do
        {
            var page = await (await http.GetAsync($"{path}?limit=1000{(after is null ? "" : $"&after={after}")}", Cancellation)).ExpectAsync(200);
            foreach (var item in page.GetProperty("patients").EnumerateArray())
            {
                all.Add(item.GetProperty("patient_id").GetString()!, [.. item.GetProperty("site_ids").EnumerateArray().Select(s => s.GetString())]);
            }

            after = page.GetProperty("next_after").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_after").GetString();
        }
        while (after is not null);

        return all;
    }
}
