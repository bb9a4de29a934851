using System.Net.Http.Headers;
using System.Text;
using ClinicalTrials.Api.Tests.Hosting;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Hl7.Fhir.Serialization;

namespace ClinicalTrials.Api.Tests;

/// <summary><c>/fhir</c>: Bundles in through the one ingest path, a patient's data out; every answer read back with the Firely parser.</summary>
public sealed class FhirApiTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private static readonly FhirJsonDeserializer Strict = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));
    private readonly HttpClient _http = app.Http;
    private static readonly DateTimeOffset At = DateTimeOffset.UtcNow.AddHours(-2);

    private static Observation Observation(string patientUrl, string category, string loinc, DataType? value, string? id = null) => new()
    {
        Identifier = id is null ? [] : [new Identifier("urn:hospital:obs", id)],
        Status = ObservationStatus.Final,
        Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/observation-category", category)],
        Code = new CodeableConcept("http://loinc.org", loinc),
        Subject = new ResourceReference(patientUrl),
        Effective = new FhirDateTime(At),
        Value = value,
    };

    private static Bundle PatientBundle(string patientId, Bundle.BundleType type)
    {
        const string patientUrl = "urn:uuid:2b1f7c1e-3e4a-4f1c-9b0e-5d7e8c9a0b1c";
        var bloodPressure = Observation(patientUrl, "vital-signs", "85354-9", null, $"bp-1-{patientId}");
        bloodPressure.Component =
        [
            new Observation.ComponentComponent { Code = new CodeableConcept("http://loinc.org", "8480-6"), Value = new Quantity(132, "mm[Hg]") },
            new Observation.ComponentComponent { Code = new CodeableConcept("http://loinc.org", "8462-4"), Value = new Quantity(84, "mm[Hg]") },
        ];
        var bundle = new Bundle { Type = type };
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = patientUrl,
            Resource = new Patient { Identifier = [new Identifier("urn:trial:pseudonym", patientId)] },
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" },
        });
        foreach (var resource in new Resource[]
        {
            bloodPressure,
            Observation(patientUrl, "vital-signs", "8867-4", new Quantity(88, "/min"), $"hr-1-{patientId}"),
            Observation(patientUrl, "laboratory", "2345-7", new Quantity(5.5m, "mmol/L"), $"glu-1-{patientId}"),
            Observation(patientUrl, "laboratory", "99999-9", new Quantity(3, "mg/dL"), $"odd-1-{patientId}"),
            new Hl7.Fhir.Model.AdverseEvent
            {
                Identifier = new Identifier("urn:hospital:ae", $"ae-{patientId}"),
                Actuality = Hl7.Fhir.Model.AdverseEvent.AdverseEventActuality.Actual,
                Subject = new ResourceReference(patientUrl),
                Event = new CodeableConcept { Text = "Nausea" },
                DateElement = new FhirDateTime(At.AddMinutes(-30)),
                RecordedDateElement = new FhirDateTime(At),
                Severity = new CodeableConcept("http://terminology.hl7.org/CodeSystem/adverse-event-severity", "moderate"),
                Seriousness = new CodeableConcept("http://terminology.hl7.org/CodeSystem/adverse-event-seriousness", "non-serious"),
            },
        })
        {
            bundle.Entry.Add(new Bundle.EntryComponent { Resource = resource, Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = resource.TypeName } });
        }

        return bundle;
    }

    private async Task<(int Status, T Resource)> PostAsync<T>(Bundle bundle, string site = "SITE001")
        where T : Resource
    {
        var content = new StringContent(bundle.ToJson(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
        var response = await _http.PostAsync($"/fhir/Bundle?site_id={site}&study_phase=Phase%20II", content, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await ReadAsync<T>(response));
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response)
        where T : Resource
    {
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        return Strict.Deserialize<T>(await response.Content.ReadAsStringAsync())!;
    }

    private static OperationOutcome OutcomeOf(Bundle.EntryComponent entry) => Assert.IsType<OperationOutcome>(entry.Response!.Outcome);

    [Fact]
    public async Task Batch_is_stored_through_the_ingest_path_and_each_entry_is_answered()
    {
        var patient = NewPatientId();

        var (status, answer) = await PostAsync<Bundle>(PatientBundle(patient, Bundle.BundleType.Batch));

        Assert.Equal(200, status);
        Assert.Equal(Bundle.BundleType.BatchResponse, answer.Type);
        Assert.Equal(["200 OK", "201 Created", "201 Created", "201 Created", "201 Created", "201 Created"], answer.Entry.Select(e => e.Response!.Status));
        var unknown = Assert.Single(OutcomeOf(answer.Entry[4]).Issue);
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, unknown.Severity);
        Assert.StartsWith("unknown_test", unknown.Diagnostics);

        var everything = await ReadAsync<Bundle>(await _http.GetAsync($"/fhir/Patient/{patient}/$everything", TestContext.Current.CancellationToken));
        var observations = everything.Entry.Select(e => e.Resource).OfType<Observation>().ToList();
        Assert.Equal(["2345-7", "8462-4", "8480-6", "8867-4"], observations.SelectMany(o => o.Code.Coding).Where(c => c.System == "http://loinc.org").Select(c => c.Code).Order());
        var glucose = observations.Single(o => o.Code.Coding.Any(c => c.Code == "2345-7"));
        Assert.Equal((99.088m, "mg/dL"), (Assert.IsType<Quantity>(glucose.Value).Value, Assert.IsType<Quantity>(glucose.Value).Unit));
        Assert.Equal(5.5m, Assert.IsType<Quantity>(glucose.Extension.Single().Value).Value);
        Assert.Contains(observations, o => o.Code.Text == "LOINC:99999-9");
        Assert.Equal("Nausea", everything.Entry.Select(e => e.Resource).OfType<Hl7.Fhir.Model.AdverseEvent>().Single().Event!.Text);
        Assert.Equal(patient, everything.Entry.Select(e => e.Resource).OfType<Patient>().Single().Identifier.Single().Value);
    }

    [Fact]
    public async Task Same_bundle_sent_again_stores_nothing_twice()
    {
        var bundle = PatientBundle(NewPatientId(), Bundle.BundleType.Batch);
        await PostAsync<Bundle>(bundle);

        var (status, answer) = await PostAsync<Bundle>(bundle);

        Assert.Equal(200, status);
        Assert.All(answer.Entry, e => Assert.Equal("200 OK", e.Response!.Status));
    }

    [Fact]
    public async Task Two_sites_sending_resources_with_the_same_identifiers_both_have_them_stored()
    {
        // A patient moved between sites, or two hospitals whose systems share an identifier: not resends.
        var bundle = PatientBundle(NewPatientId(), Bundle.BundleType.Batch);
        await PostAsync<Bundle>(bundle, site: "SITE001");

        var (_, answer) = await PostAsync<Bundle>(bundle, site: "SITE002");

        Assert.All(answer.Entry.Skip(1), e => Assert.Equal("201 Created", e.Response!.Status));
    }

    [Fact]
    public async Task Transaction_with_one_bad_entry_stores_nothing()
    {
        var patient = NewPatientId();
        var bundle = PatientBundle(patient, Bundle.BundleType.Transaction);
        Assert.IsType<Observation>(bundle.Entry[2].Resource).Value = new Quantity(900, "/min"); // impossible heart rate

        var (status, outcome) = await PostAsync<OperationOutcome>(bundle);

        Assert.Equal(400, status);
        Assert.Contains(outcome.Issue, i => i.Expression.Single() == "Bundle.entry[2] vital_signs.heart_rate");
        var everything = await _http.GetAsync($"/fhir/Patient/{patient}/$everything", TestContext.Current.CancellationToken);
        Assert.Equal(404, (int)everything.StatusCode);
    }

    [Fact]
    public async Task Patient_with_a_name_is_refused_and_an_entry_without_a_known_subject_is_named()
    {
        var bundle = PatientBundle(NewPatientId(), Bundle.BundleType.Batch);
        Assert.IsType<Patient>(bundle.Entry[0].Resource).Name = [new HumanName { Family = "Doe" }];
        Assert.IsType<Observation>(bundle.Entry[3].Resource).Subject = new ResourceReference("Patient/someone");

        var (_, answer) = await PostAsync<Bundle>(bundle);

        Assert.Equal("400 Bad Request", answer.Entry[0].Response!.Status);
        Assert.Equal(OperationOutcome.IssueType.Security, OutcomeOf(answer.Entry[0]).Issue.Single().Code);
        Assert.Equal("400 Bad Request", answer.Entry[3].Response!.Status);
        Assert.Equal("Bundle.entry[3]", OutcomeOf(answer.Entry[3]).Issue.Single().Expression.Single());
    }

    [Theory]
    [InlineData("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"colour\":\"red\"}")]
    [InlineData("{\"resourceType\":\"Patient\"}")]
    [InlineData("not json")]
    public async Task Body_that_is_not_a_valid_bundle_is_an_operation_outcome(string body)
    {
        var content = new StringContent(body, Encoding.UTF8, "application/fhir+json");

        var response = await _http.PostAsync("/fhir/Bundle?site_id=SITE001&study_phase=Phase%20II", content, TestContext.Current.CancellationToken);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.NotEmpty((await ReadAsync<OperationOutcome>(response)).Issue);
    }
}
