namespace ClinicalTrials.Api.Fhir;

/// <summary><c>Emr</c>: where accepted lab results are sent as FHIR R4 Observations (docs/fhir.md). Off unless an endpoint is set.</summary>
public sealed class EmrOptions
{
    public const string Section = "Emr";

    /// <summary>The EMR's FHIR R4 base URL, e.g. https://emr.example.org/fhir; resources are POSTed to {base}/Observation.</summary>
    public Uri? FhirEndpoint { get; set; }

    /// <summary>Sent as <c>Authorization: Bearer …</c> when set. A secret: never logged.</summary>
    public string? BearerToken { get; set; }

    /// <summary>How long the outbox waits when it has delivered everything.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The first wait after a failed delivery; it doubles with each failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
