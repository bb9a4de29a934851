using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>The Orleans Dashboard is served by every silo at <c>/dashboard</c> (the cluster profile: ClusterTests).</summary>
public sealed class DashboardTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    [Fact]
    public async Task Dashboard_page_and_the_silo_it_shows_are_served_under_dashboard()
    {
        var ct = TestContext.Current.CancellationToken;

        var page = await app.Http.GetAsync("/dashboard/", ct);
        var silos = await ActiveSilosAsync(app.Http, expected: 1);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Active", Assert.Single(silos).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Dashboard_does_not_show_grain_state_which_holds_patient_values()
    {
        var ct = TestContext.Current.CancellationToken;
        await (await app.Http.PostAsync("/api/clinical/data", TestMessages.Json(TestMessages.Vitals()), ct)).ExpectAsync(202);

        var state = await app.Http.GetAsync("/dashboard/GrainState?grainId=p-1&grainType=ClinicalTrials.Grains.Patients.PatientGrain", ct);

        Assert.Equal(HttpStatusCode.Forbidden, state.StatusCode);
        Assert.Equal("application/problem+json", state.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The silos the Orleans Dashboard of <paramref name="http"/>'s silo lists as active, once it lists <paramref name="expected"/>.</summary>
    internal static Task<List<JsonElement>> ActiveSilosAsync(HttpClient http, int expected) =>
        Eventually.UntilAsync(async () =>
        {
            var counters = await http.GetFromJsonAsync<JsonElement>("/dashboard/DashboardCounters", TestContext.Current.CancellationToken);
            var active = counters.GetProperty("hosts").EnumerateArray().Where(h => h.GetProperty("status").GetString() == "Active").ToList();
            return active.Count == expected ? active : null;
        }, TimeSpan.FromSeconds(60), $"the dashboard lists {expected} active silos");
}
