using System.Buffers;
using System.Globalization;
using System.Text.Json;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Api.Sdtm;

/// <summary>
/// Writes one SDTM domain as a Dataset-JSON v1.1 dataset from our messages (read from silver): the domain's standard
/// variables that our messages carry, the column metadata and the dataset metadata. USUBJID is our pseudonymous patient
/// id; rows are ordered by subject, --DTC and test, and --SEQ counts within each subject. DM holds each subject's latest
/// demographics. docs/sdtm.md lists the variables.
/// </summary>
internal static class SdtmOutbound
{
    private sealed record Column(string Name, string Label, string DataType, bool Key = false);

    private static readonly Dictionary<string, (string Label, PayloadType Type, Column[] Columns)> Domains = new()
    {
        ["DM"] = ("Demographics", PayloadType.PatientDemographics,
        [
            new("STUDYID", "Study Identifier", "string", true), new("DOMAIN", "Domain Abbreviation", "string"),
            new("USUBJID", "Unique Subject Identifier", "string", true), new("SUBJID", "Subject Identifier for the Study", "string"),
            new("RFSTDTC", "Subject Reference Start Date/Time", "date"), new("SITEID", "Study Site Identifier", "string"),
            new("AGE", "Age", "integer"), new("AGEU", "Age Units", "string"), new("SEX", "Sex", "string"),
            new("ARM", "Description of Planned Arm", "string"), new("DMDTC", "Date/Time of Collection", "datetime"),
        ]),
        ["VS"] = ("Vital Signs", PayloadType.VitalSigns,
        [
            new("STUDYID", "Study Identifier", "string", true), new("DOMAIN", "Domain Abbreviation", "string"),
            new("USUBJID", "Unique Subject Identifier", "string", true), new("VSSEQ", "Sequence Number", "integer"),
            new("VSTESTCD", "Vital Signs Test Short Name", "string", true), new("VSTEST", "Vital Signs Test Name", "string"),
            new("VSORRES", "Result or Finding in Original Units", "string"), new("VSORRESU", "Original Units", "string"),
            new("VSSTRESC", "Character Result/Finding in Std Format", "string"), new("VSSTRESN", "Numeric Result/Finding in Standard Units", "double"),
            new("VSSTRESU", "Standard Units", "string"), new("VSDTC", "Date/Time of Measurements", "datetime", true),
        ]),
        ["LB"] = ("Laboratory Test Results", PayloadType.LabResults,
        [
            new("STUDYID", "Study Identifier", "string", true), new("DOMAIN", "Domain Abbreviation", "string"),
            new("USUBJID", "Unique Subject Identifier", "string", true), new("LBSEQ", "Sequence Number", "integer"),
            new("LBTESTCD", "Lab Test or Examination Short Name", "string", true), new("LBTEST", "Lab Test or Examination Name", "string"),
            new("LBLOINC", "LOINC Code", "string"), new("LBSPEC", "Specimen Type", "string"),
            new("LBORRES", "Result or Finding in Original Units", "string"), new("LBORRESU", "Original Units", "string"),
            new("LBSTRESC", "Character Result/Finding in Std Format", "string"), new("LBSTRESN", "Numeric Result/Finding in Standard Units", "double"),
            new("LBSTRESU", "Standard Units", "string"), new("LBDTC", "Date/Time of Specimen Collection", "datetime", true),
        ]),
        ["AE"] = ("Adverse Events", PayloadType.AdverseEvent,
        [
            new("STUDYID", "Study Identifier", "string", true), new("DOMAIN", "Domain Abbreviation", "string"),
            new("USUBJID", "Unique Subject Identifier", "string", true), new("AESEQ", "Sequence Number", "integer"),
            new("AETERM", "Reported Term for the Adverse Event", "string", true), new("AESEV", "Severity/Intensity", "string"),
            new("AESER", "Serious Event", "string"), new("AEREL", "Causality", "string"),
            new("AESTDTC", "Start Date/Time of Adverse Event", "datetime", true), new("AEDTC", "Date/Time of Collection", "datetime"),
        ]),
    };

    public static bool IsDomain(string domain) => Domains.ContainsKey(domain);

    public static PayloadType PayloadOf(string domain) => Domains[domain].Type;

    /// <summary>The dataset of <paramref name="domain"/> holding <paramref name="messages"/> (all of the domain's payload type).</summary>
    public static byte[] Write(string domain, string studyId, IEnumerable<ClinicalMessage> messages, DateTimeOffset createdAt)
    {
        var (label, _, columns) = Domains[domain];
        var rows = Rows(domain, studyId, messages);
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            // The attribute order of the specification, so streaming readers find the metadata before the rows.
            w.WriteStartObject();
            w.WriteString("datasetJSONCreationDateTime", createdAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
            w.WriteString("datasetJSONVersion", "1.1.0");
            w.WriteString("fileOID", $"urn:clinicaltrials:sdtm:{studyId}:{domain}");
            w.WriteString("originator", "ClinicalTrials platform");
            w.WriteStartObject("sourceSystem");
            w.WriteString("name", SdtmCodes.SourceSystemName);
            w.WriteString("version", typeof(SdtmOutbound).Assembly.GetName().Version?.ToString() ?? "1.0.0");
            w.WriteEndObject();
            w.WriteString("studyOID", studyId);
            w.WriteString("itemGroupOID", $"IG.{domain}");
            w.WriteNumber("records", rows.Count);
            w.WriteString("name", domain);
            w.WriteString("label", label);
            w.WriteStartArray("columns");
            var keySequence = 0;
            foreach (var column in columns)
            {
                w.WriteStartObject();
                w.WriteString("itemOID", $"IT.{domain}.{column.Name}");
                w.WriteString("name", column.Name);
                w.WriteString("label", column.Label);
                w.WriteString("dataType", column.DataType);
                if (column.Key)
                {
                    w.WriteNumber("keySequence", ++keySequence);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("rows");
            foreach (var row in rows)
            {
                w.WriteStartArray();
                foreach (var value in row)
                {
                    switch (value)
                    {
                        case null: w.WriteNullValue(); break;
                        case string text: w.WriteStringValue(text); break;
                        case int number: w.WriteNumberValue(number); break;
                        case double number: w.WriteNumberValue(number); break;
                    }
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The rows in order: subject, time, then the order the domain's tests are written in; --SEQ (column 3) counts per subject.</summary>
    private static List<object?[]> Rows(string domain, string studyId, IEnumerable<ClinicalMessage> messages)
    {
        var rows = new List<(string Subject, DateTimeOffset At, string Order, object?[] Row)>();
        var all = domain == "DM"
            ? messages.GroupBy(m => m.PatientId).Select(g => g.MaxBy(m => (m.Timestamp, m.MessageId))!)
            : messages;
        foreach (var message in all)
        {
            var subject = message.PatientId;
            switch (message.Payload)
            {
                case PatientDemographics d:
                    rows.Add((subject, message.Timestamp, "", [studyId, domain, subject, subject, SdtmDates.Format(d.EnrollmentDate), message.SiteId,
                        d.Age, "YEARS", SdtmCodes.Sex(d.Gender), d.TrialArm, SdtmDates.Format(message.Timestamp)]));
                    break;
                case VitalSigns v:
                    var k = 0;
                    foreach (var (vital, value) in Vitals(v))
                    {
                        var text = Number(value);
                        rows.Add((subject, message.Timestamp, $"{k++:D2}", [studyId, domain, subject, null, vital.Code, vital.Name, text, vital.Unit, text, value, vital.Unit,
                            SdtmDates.Format(message.Timestamp)]));
                    }

                    break;
                case LabResults l:
                    foreach (var r in l.Results)
                    {
                        var known = LabCatalogue.TryFind(r.TestCode, r.Specimen, out var test);
                        var original = r.Text ?? (r.OriginalValue is { } o ? Number(o) : null);
                        var standardised = r.IsStandardised;
                        rows.Add((subject, message.Timestamp, $"{r.TestCode}|{r.Specimen}", [studyId, domain, subject, null, r.TestCode, known ? test.Name : r.TestCode,
                            known ? test.Loinc : null, r.Specimen, original, r.OriginalUnit,
                            standardised ? Number(r.Value!.Value) : r.Text, standardised ? r.Value : null, standardised ? r.Unit : null,
                            SdtmDates.Format(message.Timestamp)]));
                    }

                    break;
                case AdverseEvent a:
                    rows.Add((subject, a.Onset, a.EventTerm, [studyId, domain, subject, null, a.EventTerm, a.Severity.ToString().ToUpperInvariant(),
                        a.Serious ? "Y" : "N", SdtmCodes.Aerel(a.RelationToStudyDrug), SdtmDates.Format(a.Onset), SdtmDates.Format(message.Timestamp)]));
                    break;
            }
        }

        rows.Sort((a, b) => string.CompareOrdinal(a.Subject, b.Subject) is var s and not 0 ? s
            : a.At.CompareTo(b.At) is var t and not 0 ? t
            : string.CompareOrdinal(a.Order, b.Order) is var o and not 0 ? o
            : string.CompareOrdinal(string.Join('\u001f', a.Row), string.Join('\u001f', b.Row)));
        var sequence = 0;
        string? last = null;
        foreach (var (subject, _, _, row) in rows)
        {
            sequence = subject == last ? sequence + 1 : 1;
            last = subject;
            if (domain != "DM")
            {
                row[3] = sequence;
            }
        }

        return [.. rows.Select(r => r.Row)];
    }

    private static IEnumerable<(SdtmCodes.Vital Vital, double Value)> Vitals(VitalSigns v)
    {
        double?[] values = [v.SystolicBp, v.DiastolicBp, v.HeartRate, v.TemperatureCelsius, v.OxygenSaturation, v.RespiratoryRate, v.MeanArterialPressure];
        for (var i = 0; i < SdtmCodes.Vitals.Length; i++)
        {
            if (values[i] is { } value)
            {
                yield return (SdtmCodes.Vitals[i], value);
            }
        }
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
