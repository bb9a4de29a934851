using System.Globalization;
using System.Text.Json;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Api.Sdtm;

/// <summary>
/// Maps the rows of one SDTM dataset (DM, VS, LB or AE) to our own messages, so that they take the one ingest path and
/// its one set of rules. DM and AE give one message per row; VS and LB rows of a subject at one --DTC make one vital
/// signs or lab message (a test repeated at that time starts the next message). Each message remembers which rows it
/// holds and the field each row fills, so that the ingest outcome is reported per row. A row that cannot be mapped is
/// rejected (or skipped, when it holds nothing our messages store) with the variable and the reason.
/// </summary>
internal sealed class SdtmInbound(string siteId, string studyPhase, IReadOnlyDictionary<string, string> patients)
{
    /// <summary>One message and its rows: the row index and the field of the message (a path) each row fills.</summary>
    public sealed record MappedMessage(byte[] Raw, IReadOnlyList<(int Row, string Path)> Rows);

    /// <summary>A row not mapped: its index, the SDTM variable, the rule and why.</summary>
    public sealed record RowProblem(int Row, string Variable, string Rule, string Message);

    public sealed class Mapping
    {
        public List<MappedMessage> Messages { get; } = [];

        public List<RowProblem> Rejected { get; } = [];

        public List<RowProblem> Skipped { get; } = [];

        /// <summary>Rows whose --DTC was partial (or had no time) and was completed (<see cref="SdtmDates"/>).</summary>
        public int ImputedDates { get; set; }
    }

    /// <summary>The rule of a row whose result was not done, or holds a test our messages have no field for.</summary>
    public const string NotDone = "not_done";

    public const string UnsupportedTest = "unsupported_test";

    /// <summary>The distinct USUBJIDs of the dataset, for pseudonymisation.</summary>
    public static List<string> Subjects(DatasetJson dataset)
    {
        var column = dataset.Column("USUBJID");
        return column < 0 ? [] : [.. dataset.Rows.Select(r => Text(r[column])).OfType<string>().Distinct(StringComparer.Ordinal)];
    }

    public Mapping Map(DatasetJson dataset)
    {
        var mapping = new Mapping();
        var reader = new Rows(dataset, mapping, patients);
        switch (dataset.Name)
        {
            case "DM":
                MapDemographics(reader, mapping);
                break;
            case "VS":
                MapGrouped(reader, mapping, "VS", "vital_signs", VitalRow, WriteVitals);
                break;
            case "LB":
                MapGrouped(reader, mapping, "LB", "lab_results", LabRow, WriteLabs);
                break;
            default:
                MapAdverseEvents(reader, mapping);
                break;
        }

        return mapping;
    }

    private void MapDemographics(Rows rows, Mapping mapping)
    {
        rows.ForEach((row, i) =>
        {
            var patient = rows.Patient(row);
            var age = rows.Number(row, i, "AGE", required: true)!.Value;
            var ageUnit = rows.Text(row, "AGEU");
            if (ageUnit is not null && !ageUnit.Equals("YEARS", StringComparison.OrdinalIgnoreCase))
            {
                throw new RowException("AGEU", Rules.Enum, $"AGEU '{ageUnit}' is not taken: age is in YEARS.");
            }

            var sex = rows.Text(row, "SEX") ?? throw new RowException("SEX", Rules.Required, "SEX is required.");
            var gender = SdtmCodes.Gender(sex) ?? throw new RowException("SEX", Rules.Enum, $"SEX '{sex}' is not one of M, F, U, UNDIFFERENTIATED.");
            var arm = rows.Text(row, "ARM") ?? rows.Text(row, "ARMCD") ?? throw new RowException("ARM", Rules.Required, "ARM (or ARMCD) is required: the trial arm.");
            var (enrollment, imputed) = rows.Date(row, "RFSTDTC", required: false) ?? rows.Date(row, "RFICDTC", required: false)
                ?? throw new RowException("RFSTDTC", Rules.Required, "RFSTDTC (or RFICDTC) is required: the enrollment date.");
            var collected = rows.Date(row, "DMDTC", required: false);
            var at = collected?.At ?? enrollment;
            rows.Imputed(collected?.Imputed ?? imputed);
            var message = MessageJson.WriteWithContentId(Scope("DM"), at, studyPhase, siteId, "patient_demographics", w =>
            {
                w.WriteString("patient_id", patient);
                w.WriteNumber("age", (int)Math.Round(age));
                w.WriteString("gender", WireNames.Gender.Of(gender));
                w.WriteString("enrollment_date", DateOnly.FromDateTime(enrollment.UtcDateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteString("trial_arm", arm);
            });
            mapping.Messages.Add(new MappedMessage(message, [(i, "patient_demographics")]));
        });
    }

    private void MapAdverseEvents(Rows rows, Mapping mapping)
    {
        rows.ForEach((row, i) =>
        {
            var patient = rows.Patient(row);
            var term = rows.Text(row, "AETERM") ?? rows.Text(row, "AEDECOD") ?? throw new RowException("AETERM", Rules.Required, "AETERM is required.");
            // AESEV's terms are our severity's wire names.
            var aesev = rows.Text(row, "AESEV") ?? throw new RowException("AESEV", Rules.Required, "AESEV is required.");
            if (!WireNames.Severity.TryParse(aesev, out var severity))
            {
                throw new RowException("AESEV", Rules.Enum, $"AESEV must be one of {string.Join(", ", WireNames.Severity.Names)}.");
            }

            var serious = rows.Text(row, "AESER")?.ToUpperInvariant() switch
            {
                "Y" => true,
                "N" => false,
                null => throw new RowException("AESER", Rules.Required, "AESER (Y or N) is required."),
                _ => throw new RowException("AESER", Rules.Enum, "AESER must be Y or N."),
            };
            var aerel = rows.Text(row, "AEREL") ?? throw new RowException("AEREL", Rules.Required, "AEREL is required: the relation to the study drug.");
            var relation = SdtmCodes.Relation(aerel)
                ?? throw new RowException("AEREL", Rules.Enum, $"AEREL '{aerel}' is not known: NOT RELATED, UNLIKELY RELATED, POSSIBLY RELATED, PROBABLY RELATED, RELATED (or NONE, REMOTE, POSSIBLE, PROBABLE).");
            var (onset, onsetImputed) = rows.Date(row, "AESTDTC", required: true)!.Value;
            var reported = rows.Date(row, "AEDTC", required: false);
            rows.Imputed(onsetImputed || reported?.Imputed == true);
            var message = MessageJson.WriteWithContentId(Scope("AE"), reported?.At ?? onset, studyPhase, siteId, "adverse_event", w =>
            {
                w.WriteString("patient_id", patient);
                w.WriteString("event_term", term);
                w.WriteString("severity", WireNames.Severity.Of(severity));
                w.WriteBoolean("serious", serious);
                w.WriteString("relation_to_study_drug", WireNames.DrugRelation.Of(relation));
                w.WriteString("onset", onset.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
            });
            mapping.Messages.Add(new MappedMessage(message, [(i, "adverse_event")]));
        });
    }

    /// <summary>One VS or LB row as a value for the message of its subject and time: the key that may appear once per message, and the value.</summary>
    private sealed record Finding(string Patient, DateTimeOffset At, string Key, object Value);

    private delegate Finding? FindingReader(Rows rows, JsonElement row, int index);

    private void MapGrouped(Rows rows, Mapping mapping, string domain, string payload, FindingReader read,
        Action<Utf8JsonWriter, string, List<(int Row, Finding Finding)>> write)
    {
        // Per subject and time, the messages being filled, each with the keys it already holds.
        var groups = new Dictionary<(string Patient, DateTimeOffset At), List<List<(int Row, Finding Finding)>>>();
        var order = new List<List<(int Row, Finding Finding)>>();
        rows.ForEach((row, i) =>
        {
            if (read(rows, row, i) is not { } finding)
            {
                return;
            }

            if (!groups.TryGetValue((finding.Patient, finding.At), out var messages))
            {
                groups[(finding.Patient, finding.At)] = messages = [];
            }

            var target = messages.FirstOrDefault(m => !m.Any(x => x.Finding.Key == finding.Key));
            if (target is null)
            {
                messages.Add(target = []);
                order.Add(target);
            }

            target.Add((i, finding));
        });

        foreach (var findings in order)
        {
            var first = findings[0].Finding;
            var message = MessageJson.WriteWithContentId(Scope(domain), first.At, studyPhase, siteId, payload, w => write(w, first.Patient, findings));
            mapping.Messages.Add(new MappedMessage(message, domain == "VS"
                ? [.. findings.Select(f => (f.Row, $"vital_signs.{f.Finding.Key}"))]
                : [.. findings.Select((f, k) => (f.Row, $"lab_results.results[{k}]"))]));
        }
    }

    private static Finding? VitalRow(Rows rows, JsonElement row, int i)
    {
        var code = rows.Text(row, "VSTESTCD") ?? throw new RowException("VSTESTCD", Rules.Required, "VSTESTCD is required.");
        if (!SdtmCodes.TryVital(code, out var vital))
        {
            rows.Skip(i, "VSTESTCD", UnsupportedTest, $"VSTESTCD {code} has no field in our vital signs ({string.Join(", ", SdtmCodes.Vitals.Select(v => v.Code))}, PULSE).");
            return null;
        }

        if (IsNotDone(rows, row, "VSSTAT"))
        {
            rows.Skip(i, "VSSTAT", NotDone, "VSSTAT says NOT DONE: no result.");
            return null;
        }

        var patient = rows.Patient(row);
        var (value, unit, variable) = rows.Number(row, i, "VSSTRESN", required: false) is { } standard
            ? (standard, rows.Text(row, "VSSTRESU"), "VSSTRESU")
            : (rows.Number(row, i, "VSORRES", required: false) ?? throw new RowException("VSSTRESN", Rules.Required, "VSSTRESN (or a numeric VSORRES) is required."),
                rows.Text(row, "VSORRESU"), "VSORRESU");
        if (vital.Field == "temperature_celsius" && unit is not null && SdtmCodes.Fahrenheit.Contains(unit, StringComparer.OrdinalIgnoreCase))
        {
            (value, unit) = (Math.Round((value - 32) * 5 / 9, 2), vital.Unit);
        }

        if (unit is not null && !vital.Units.Contains(unit, StringComparer.OrdinalIgnoreCase))
        {
            throw new RowException(variable, Rules.UnknownUnit, $"{code} in '{unit}' is not taken: send it in {vital.Unit}.");
        }

        var (at, imputed) = rows.Date(row, "VSDTC", required: true)!.Value;
        rows.Imputed(imputed);
        return new Finding(patient, at, vital.Field, value);
    }

    private static void WriteVitals(Utf8JsonWriter w, string patient, List<(int Row, Finding Finding)> findings)
    {
        w.WriteString("patient_id", patient);
        foreach (var (_, finding) in findings)
        {
            w.WriteNumber(finding.Key, (double)finding.Value);
        }
    }

    /// <summary>A lab result as our message takes it: test code, specimen (null for blood), the value sent (number or text) and its unit.</summary>
    private sealed record LabValue(string Code, string? Specimen, object Value, string? Unit);

    private static Finding? LabRow(Rows rows, JsonElement row, int i)
    {
        var code = rows.Text(row, "LBTESTCD")?.ToUpperInvariant() ?? throw new RowException("LBTESTCD", Rules.Required, "LBTESTCD is required.");
        if (IsNotDone(rows, row, "LBSTAT"))
        {
            rows.Skip(i, "LBSTAT", NotDone, "LBSTAT says NOT DONE: no result.");
            return null;
        }

        // Many sponsors leave LBSPEC empty and say "urine" only by the category.
        var specimenSent = rows.Text(row, "LBSPEC")
            ?? (string.Equals(rows.Text(row, "LBCAT"), "URINALYSIS", StringComparison.OrdinalIgnoreCase) ? "URINE" : null);
        var specimen = SdtmCodes.IsBloodSpecimen(specimenSent) ? null : specimenSent!.ToUpperInvariant();
        var original = rows.Text(row, "LBORRES");
        var originalUnit = rows.Text(row, "LBORRESU");
        var standard = rows.Number(row, i, "LBSTRESN", required: false);
        var standardUnit = rows.Text(row, "LBSTRESU");

        // The value as sent (LBORRES/LBORRESU) keeps the original beside our standardised value; the sponsor's standard
        // value is taken instead when only its unit is one the catalogue knows for the test.
        object value;
        string? unit;
        if (original is not null && !(standard is not null && Knows(code, specimen, standardUnit) && !Knows(code, specimen, originalUnit)))
        {
            value = double.TryParse(original, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : original;
            unit = originalUnit;
        }
        else if (standard is not null)
        {
            (value, unit) = (standard.Value, standardUnit);
        }
        else if (rows.Text(row, "LBSTRESC") is { } text)
        {
            (value, unit) = (text, standardUnit);
        }
        else
        {
            throw new RowException("LBORRES", Rules.Required, "LBORRES, LBSTRESN or LBSTRESC is required: the result.");
        }

        var patient = rows.Patient(row);
        var (at, imputed) = rows.Date(row, "LBDTC", required: true)!.Value;
        rows.Imputed(imputed);
        return new Finding(patient, at, specimen is null ? code : $"{code}|{specimen}", new LabValue(code, specimen, value, unit));
    }

    private static bool Knows(string code, string? specimen, string? unit) =>
        unit is not null && Domain.Validation.LabCatalogue.TryFind(code, specimen, out var test) && test.TryStandardise(1, unit, out _);

    private static void WriteLabs(Utf8JsonWriter w, string patient, List<(int Row, Finding Finding)> findings)
    {
        w.WriteString("patient_id", patient);
        w.WriteStartArray("results");
        foreach (var (_, finding) in findings)
        {
            var lab = (LabValue)finding.Value;
            w.WriteStartObject();
            w.WriteString("test_code", lab.Code);
            if (lab.Specimen is not null)
            {
                w.WriteString("specimen", lab.Specimen);
            }

            if (lab.Value is double number)
            {
                w.WriteNumber("value", number);
            }
            else
            {
                w.WriteString("value", (string)lab.Value);
            }

            if (lab.Unit is not null)
            {
                w.WriteString("unit", lab.Unit);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static bool IsNotDone(Rows rows, JsonElement row, string variable) =>
        string.Equals(rows.Text(row, variable), "NOT DONE", StringComparison.OrdinalIgnoreCase);

    private string Scope(string domain) => $"sdtm:{siteId}:{domain}";

    /// <summary>A value as text: a string (trimmed; empty is null), a number as written, a boolean as Y or N.</summary>
    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!.Trim() is { Length: > 0 } text ? text : null,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "Y",
        JsonValueKind.False => "N",
        _ => null,
    };

    /// <summary>Reads the variables of the dataset's rows; a problem with one row rejects that row only.</summary>
    private sealed class Rows(DatasetJson dataset, Mapping mapping, IReadOnlyDictionary<string, string> patients)
    {
        private int _imputed;

        public void ForEach(Action<JsonElement, int> map)
        {
            for (var i = 0; i < dataset.Rows.Count; i++)
            {
                _imputed = 0;
                try
                {
                    map(dataset.Rows[i], i);
                    mapping.ImputedDates += _imputed;
                }
                catch (RowException e)
                {
                    mapping.Rejected.Add(new RowProblem(i, e.Variable, e.Rule, e.Message));
                }
            }
        }

        public void Skip(int row, string variable, string rule, string message) => mapping.Skipped.Add(new RowProblem(row, variable, rule, message));

        public void Imputed(bool imputed) => _imputed = imputed ? 1 : 0;

        public string? Text(JsonElement row, string variable) => dataset.Column(variable) is >= 0 and var c ? SdtmInbound.Text(row[c]) : null;

        public string Patient(JsonElement row)
        {
            var subject = Text(row, "USUBJID") ?? throw new RowException("USUBJID", Rules.Required, "USUBJID is required.");
            return patients[subject];
        }

        public double? Number(JsonElement row, int i, string variable, bool required)
        {
            var column = dataset.Column(variable);
            var value = column >= 0 ? row[column] : default;
            if (column >= 0 && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number))
            {
                return number;
            }

            var text = column >= 0 ? SdtmInbound.Text(value) : null;
            if (text is null)
            {
                return required ? throw new RowException(variable, Rules.Required, $"{variable} is required.") : null;
            }

            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number)
                ? number
                : throw new RowException(variable, Rules.Type, $"{variable} must be a number.");
        }

        public (DateTimeOffset At, bool Imputed)? Date(JsonElement row, string variable, bool required)
        {
            if (Text(row, variable) is not { } text)
            {
                return required ? throw new RowException(variable, Rules.Required, $"{variable} is required: the date of the finding.") : null;
            }

            return SdtmDates.Parse(text) ?? throw new RowException(variable, Rules.Format, $"{variable} must be an ISO 8601 date or date-time (partial dates are completed).");
        }
    }

    private sealed class RowException(string variable, string rule, string message) : Exception(message)
    {
        public string Variable { get; } = variable;

        public string Rule { get; } = rule;
    }
}
