using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Generator.PhysioNet;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// <c>import physionet DIR</c>: challenge files (written here in the challenge's format) become messages on a timeline,
/// go through the batch endpoint, and what the platform does not take is reported.
/// </summary>
public sealed class PhysioNetImportTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>, IDisposable
{
    private static readonly string[] Header =
    [
        "HR", "O2Sat", "Temp", "SBP", "MAP", "DBP", "Resp", "EtCO2", "BaseExcess", "HCO3", "FiO2", "pH", "PaCO2", "SaO2", "AST", "BUN",
        "Alkalinephos", "Calcium", "Chloride", "Creatinine", "Bilirubin_direct", "Glucose", "Lactate", "Magnesium", "Phosphate",
        "Potassium", "Bilirubin_total", "TroponinI", "Hct", "Hgb", "PTT", "WBC", "Fibrinogen", "Platelets", "Age", "Gender", "Unit1",
        "Unit2", "HospAdmTime", "ICULOS", "SepsisLabel",
    ];

    private readonly string _directory = Directory.CreateTempSubdirectory("physionet-").FullName;

    [Fact]
    public void A_stay_becomes_demographics_hourly_vitals_and_labs_and_sepsis_at_six_hours_after_the_first_label()
    {
        var path = Write("p100003", hours: 10, sepsisFromHour: 7);

        var messages = PhysioNetMessages.Convert(PhysioNetStay.Read(path), PhysioNetTimeline.Default);

        var admission = PhysioNetMessages.Admission("p100003", PhysioNetTimeline.Default);
        Assert.Equal(PhysioNetTimeline.Default.Start.AddDays(100003 % 180), admission);
        var demographics = messages[0]["patient_demographics"]!;
        Assert.Equal(("PTPN100003", 67, "M", "SICU"), ((string)demographics["patient_id"]!, (int)demographics["age"]!, (string)demographics["gender"]!, (string)demographics["trial_arm"]!));
        var vitals = messages.Where(m => m.ContainsKey("vital_signs")).ToList();
        Assert.Equal(10, vitals.Count);
        Assert.Equal(admission.AddHours(4), Time(vitals[3])); // ICULOS 4
        Assert.Equal(72.5, (double)vitals[3]["vital_signs"]!["mean_arterial_pressure"]!);
        var labs = messages.Where(m => m.ContainsKey("lab_results")).ToList();
        Assert.Equal(5, labs.Count); // every other hour
        Assert.Contains(labs[0]["lab_results"]!["results"]!.AsArray(), r => (string)r!["test_code"]! == "LACT" && (string)r["unit"]! == "mmol/L");
        var sepsis = Assert.Single(messages, m => m.ContainsKey("adverse_event"))["adverse_event"]!;
        Assert.Equal(("SEPSIS", "SEVERE", true), ((string)sepsis["event_term"]!, (string)sepsis["severity"]!, (bool)sepsis["serious"]!));
        Assert.Equal(admission.AddHours(7 + 6), DateTimeOffset.Parse((string)sepsis["onset"]!, CultureInfo.InvariantCulture));
        Assert.Equal(messages.Count, messages.Select(m => (string)m["message_id"]!).Distinct().Count());
    }

    [Fact]
    public async Task Stays_are_stored_once_through_the_batch_endpoint_and_what_is_not_taken_is_reported()
    {
        Write("p100001", hours: 6, sepsisFromHour: null);
        Write("p100005", hours: 12, sepsisFromHour: 3);
        Write("p100007", hours: 4, sepsisFromHour: null, impossibleHeartRateAtHour: 2);
        File.WriteAllText(Path.Combine(_directory, "p100009.psv"), "HR|ICULOS\n80\n");
        var import = new PhysioNetImport(app.Http, PhysioNetTimeline.Default with { SiteId = "PHYSIONET-T" }, batchSize: 10);
        var ct = TestContext.Current.CancellationToken;

        var first = await import.RunAsync(_directory, cancellationToken: ct);
        var again = await import.RunAsync(_directory, cancellationToken: ct);

        Assert.Equal((3, 1), (first.Stays, first.SepsisStays));
        Assert.Empty(first.FailedRequests);
        Assert.Contains("p100009", Assert.Single(first.UnreadableFiles), StringComparison.Ordinal);
        // 3 demographics + 22 vitals + 11 labs + 1 sepsis; the impossible heart rate rejects that value, not the hour's message.
        Assert.Equal((37L, 37L, 0L), (first.Messages, first.Accepted, first.Rejected));
        Assert.Equal(1, first.Issues["vital_signs.heart_rate:range"]);
        Assert.Equal(3, first.UnmappedColumns["HospAdmTime"]);
        Assert.Equal((37L, 0L, 37L), (again.Messages, again.Accepted, again.Duplicates));

        var septic = await (await app.Http.GetAsync("/api/patients/PTPN100005", ct)).ExpectAsync(200);
        Assert.Equal(1, septic.GetProperty("adverse_event_count").GetInt32());
        Assert.Equal(91, septic.GetProperty("latest_vitals").GetProperty("heart_rate").GetProperty("value").GetDouble()); // hour 12
        var withBadValue = await (await app.Http.GetAsync("/api/patients/PTPN100007", ct)).ExpectAsync(200);
        Assert.Equal(0, withBadValue.GetProperty("adverse_event_count").GetInt32());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static DateTimeOffset Time(JsonObject message) => DateTimeOffset.Parse((string)message["timestamp"]!, CultureInfo.InvariantCulture);

    /// <summary>A stay in the challenge's format: vitals every hour, labs every other hour (NaN between), male, surgical ICU.</summary>
    private string Write(string record, int hours, int? sepsisFromHour, int? impossibleHeartRateAtHour = null)
    {
        var text = new StringBuilder(string.Join('|', Header)).Append('\n');
        for (var hour = 1; hour <= hours; hour++)
        {
            var row = Enumerable.Repeat("NaN", Header.Length).ToArray();
            void Set(string column, double value) => row[Array.IndexOf(Header, column)] = value.ToString(CultureInfo.InvariantCulture);
            Set("HR", hour == impossibleHeartRateAtHour ? 900 : 79 + hour);
            Set("O2Sat", 97);
            Set("SBP", 118);
            Set("MAP", 72.5);
            Set("DBP", 60);
            Set("Resp", 18);
            if (hour % 2 == 1)
            {
                Set("Lactate", 1.9);
                Set("Creatinine", 1.1);
                Set("FiO2", 0.4);
            }

            Set("Age", 66.6);
            Set("Gender", 1);
            Set("Unit1", 0);
            Set("Unit2", 1);
            Set("HospAdmTime", -12.5);
            Set("ICULOS", hour);
            Set("SepsisLabel", sepsisFromHour is { } s && hour >= s ? 1 : 0);
            text.Append(string.Join('|', row)).Append('\n');
        }

        var path = Path.Combine(_directory, record + ".psv");
        File.WriteAllText(path, text.ToString());
        return path;
    }
}
