using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Features;

namespace ClinicalTrials.Api.Tests;

/// <summary><c>GET /api/patients/{id}/features</c>: the grain's current vector by feature name.</summary>
public sealed class FeaturesApiTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private readonly HttpClient _http = app.Http;

    private Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(path, TestContext.Current.CancellationToken);

    private Task<HttpResponseMessage> PostAsync(string path, HttpContent content) => _http.PostAsync(path, content, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Features_have_every_catalogue_name_and_the_version_and_follow_new_vitals()
    {
        var patient = NewPatientId();
        var now = DateTimeOffset.UtcNow;
        var at = now.AddHours(-2).AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        await (await PostAsync("/api/clinical/data", Json(Vitals(patient, heartRate: 72, at: at)))).ExpectAsync(202);

        var first = await (await GetAsync($"/api/patients/{patient}/features")).ExpectAsync(200);

        Assert.Equal(patient, first.GetProperty("patient_id").GetString());
        Assert.Equal(FeatureCatalogue.Version, first.GetProperty("feature_version").GetString());
        Assert.Equal(at, first.GetProperty("as_of").GetDateTimeOffset());
        var features = first.GetProperty("features");
        Assert.Equal(FeatureCatalogue.Names, features.EnumerateObject().Select(f => f.Name));
        Assert.Equal(72, features.GetProperty("heart_rate_last").GetDouble());
        Assert.Equal(1, features.GetProperty("heart_rate_count_24h").GetDouble());
        Assert.Equal(JsonValueKind.Null, features.GetProperty("heart_rate_std_24h").ValueKind); // missing (NaN) is null
        Assert.Equal(JsonValueKind.Null, features.GetProperty("gluc_last").ValueKind);

        await (await PostAsync("/api/clinical/data", Json(Vitals(patient, heartRate: 118, at: at.AddMinutes(30))))).ExpectAsync(202);
        var second = (await (await GetAsync($"/api/patients/{patient}/features")).ExpectAsync(200)).GetProperty("features");

        Assert.Equal(118, second.GetProperty("heart_rate_last").GetDouble());
        Assert.Equal(2, second.GetProperty("heart_rate_count_24h").GetDouble());
        Assert.Equal(95, second.GetProperty("heart_rate_mean_24h").GetDouble());
        Assert.Equal(JsonValueKind.Number, second.GetProperty("heart_rate_std_24h").ValueKind);
    }

    [Fact]
    public async Task Features_of_an_unknown_patient_are_404_problem()
    {
        var problem = await (await GetAsync($"/api/patients/{NewPatientId()}/features")).ExpectAsync(404);

        Assert.Equal(404, problem.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("pt12ab34cd")]
    [InlineData("PT123")]
    public async Task Features_of_a_malformed_patient_id_are_400_problem(string patientId)
    {
        var problem = await (await GetAsync($"/api/patients/{patientId}/features")).ExpectAsync(400);

        Assert.True(problem.GetProperty("errors").TryGetProperty("patient_id", out _));
    }
}
