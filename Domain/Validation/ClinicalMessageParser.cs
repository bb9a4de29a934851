using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// Reads one message in the external snake_case JSON contract, validates it against the clinical rules and
/// standardises its units. Every problem is reported (not only the first), each naming its field and rule.
/// </summary>
public static partial class ClinicalMessageParser
{
    /// <summary>How far ahead of the receiver's clock a timestamp may be (clock skew between sites).</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    public const int MaxTextLength = 200;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>Parses and validates <paramref name="utf8Json"/> as received at <paramref name="receivedAt"/>.</summary>
    public static ParseResult Parse(ReadOnlyMemory<byte> utf8Json, DateTimeOffset receivedAt)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, DocumentOptions);
        }
        catch (JsonException e)
        {
            return Rejected(new Violation("$", Rules.Json, $"The body is not valid JSON: {e.Message}"));
        }

        using (document)
        {
            return Parse(document.RootElement, receivedAt);
        }
    }

    /// <summary>Validates an already parsed JSON element (one element of a batch array).</summary>
    public static ParseResult Parse(JsonElement root, DateTimeOffset receivedAt)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Rejected(new Violation("$", Rules.Type, "A message must be a JSON object."));
        }

        var reader = new FieldReader(receivedAt);
        var messageId = reader.Guid(root, "message_id");
        var timestamp = reader.Timestamp(root, "timestamp", required: true);
        var phase = reader.StudyPhase(root, "study_phase");
        var siteId = reader.Identifier(root, "site_id", SiteIdPattern(), "an upper-case site code such as SITE001");

        var payloads = PayloadTypes.All.Where(t => root.TryGetProperty(t.WireName(), out _)).ToList();
        ClinicalPayload? payload = null;
        string? patientId = null;
        PayloadType? payloadType = payloads.Count == 1 ? payloads[0] : null;
        if (payloads.Count != 1)
        {
            reader.Fail("$", Rules.OnePayload, payloads.Count == 0
                ? $"Exactly one payload is required: one of {string.Join(", ", PayloadTypes.All.Select(t => t.WireName()))}."
                : $"Exactly one payload is allowed, found {string.Join(" and ", payloads.Select(t => t.WireName()))}.");
        }
        else
        {
            var name = payloadType!.Value.WireName();
            var body = root.GetProperty(name);
            if (body.ValueKind != JsonValueKind.Object)
            {
                reader.Fail(name, Rules.Type, $"'{name}' must be a JSON object.");
            }
            else
            {
                patientId = reader.Identifier(body, "patient_id", PatientIdPattern(), "'PT' followed by 8 upper-case letters or digits", name);
                payload = payloadType switch
                {
                    PayloadType.PatientDemographics => ReadDemographics(reader, body, name, patientId),
                    PayloadType.VitalSigns => ReadVitalSigns(reader, body, name, patientId),
                    PayloadType.LabResults => ReadLabResults(reader, body, name, patientId),
                    _ => ReadAdverseEvent(reader, body, name, patientId, timestamp),
                };
            }
        }

        if (reader.Violations.Count > 0 || payload is null || messageId is null || timestamp is null || phase is null || siteId is null)
        {
            return new ParseResult(null, reader.Violations, messageId, siteId, patientId, payloadType);
        }

        var message = new ClinicalMessage(messageId.Value, timestamp.Value, phase.Value, siteId, payload) { Flags = reader.Flags };
        return ParseResult.Valid(message);
    }

    private static ParseResult Rejected(Violation violation) => new(null, [violation], null, null, null, null);

    private static PatientDemographics? ReadDemographics(FieldReader reader, JsonElement body, string path, string? patientId)
    {
        var age = reader.Integer(body, "age", path, DemographicRanges.Age);
        var gender = reader.Gender(body, "gender", path);
        var weight = reader.Number(body, "weight_kg", path, DemographicRanges.WeightKg, required: true);
        var height = reader.Number(body, "height_cm", path, DemographicRanges.HeightCm, required: true);
        var enrollment = reader.Date(body, "enrollment_date", path);
        var arm = reader.Text(body, "trial_arm", path);
        return patientId is null || age is null || gender is null || weight is null || height is null || enrollment is null || arm is null
            ? null
            : new PatientDemographics(patientId, age.Value, gender.Value, weight.Value, height.Value, enrollment.Value, arm);
    }

    private static VitalSigns? ReadVitalSigns(FieldReader reader, JsonElement body, string path, string? patientId)
    {
        var systolic = reader.Number(body, "systolic_bp", path, VitalSignRanges.SystolicBp);
        var diastolic = reader.Number(body, "diastolic_bp", path, VitalSignRanges.DiastolicBp);
        var heartRate = reader.Number(body, "heart_rate", path, VitalSignRanges.HeartRate);
        var temperature = reader.Number(body, "temperature_celsius", path, VitalSignRanges.TemperatureCelsius);
        var saturation = reader.Number(body, "oxygen_saturation", path, VitalSignRanges.OxygenSaturation);
        var respiratory = reader.Number(body, "respiratory_rate", path, VitalSignRanges.RespiratoryRate);

        string[] fields = ["systolic_bp", "diastolic_bp", "heart_rate", "temperature_celsius", "oxygen_saturation", "respiratory_rate"];
        if (!fields.Any(f => body.TryGetProperty(f, out var value) && value.ValueKind != JsonValueKind.Null))
        {
            reader.Fail(path, Rules.Required, $"At least one vital sign is required: {string.Join(", ", fields)}.");
        }

        if (systolic is not null && diastolic is not null && diastolic >= systolic)
        {
            reader.Fail($"{path}.diastolic_bp", Rules.Consistency, "diastolic_bp must be lower than systolic_bp.");
        }

        return patientId is null ? null : new VitalSigns(patientId, systolic, diastolic, heartRate, temperature, saturation, respiratory);
    }

    private static LabResults? ReadLabResults(FieldReader reader, JsonElement body, string path, string? patientId)
    {
        var listPath = $"{path}.results";
        if (!body.TryGetProperty("results", out var list) || list.ValueKind == JsonValueKind.Null)
        {
            reader.Fail(listPath, Rules.Required, "'results' is required: a list of {test_code, value, unit}.");
            return null;
        }

        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            reader.Fail(listPath, Rules.Type, "'results' must be a non-empty list of {test_code, value, unit}.");
            return null;
        }

        var results = new List<LabResult>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var itemPath = $"{listPath}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                reader.Fail(itemPath, Rules.Type, "Each lab result must be an object {test_code, value, unit}.");
                continue;
            }

            var result = reader.LabResult(item, itemPath);
            if (result is not null)
            {
                results.Add(result);
            }
        }

        return patientId is null ? null : new LabResults(patientId, results);
    }

    private static AdverseEvent? ReadAdverseEvent(FieldReader reader, JsonElement body, string path, string? patientId, DateTimeOffset? timestamp)
    {
        var term = reader.Text(body, "event_term", path);
        var severity = reader.Enum<Severity>(body, "severity", path, ("MILD", Severity.Mild), ("MODERATE", Severity.Moderate), ("SEVERE", Severity.Severe));
        var serious = reader.Boolean(body, "serious", path);
        var relation = reader.Enum<DrugRelation>(body, "relation_to_study_drug", path,
            ("NOT_RELATED", DrugRelation.NotRelated), ("UNLIKELY", DrugRelation.Unlikely), ("POSSIBLE", DrugRelation.Possible),
            ("PROBABLE", DrugRelation.Probable), ("DEFINITE", DrugRelation.Definite));
        var onset = reader.Timestamp(body, "onset", required: false, path) ?? timestamp;
        return patientId is null || term is null || severity is null || serious is null || relation is null || onset is null
            ? null
            : new AdverseEvent(patientId, term, severity.Value, serious.Value, relation.Value, onset.Value);
    }

    [GeneratedRegex("^PT[A-Z0-9]{8}$")]
    private static partial Regex PatientIdPattern();

    [GeneratedRegex("^[A-Z][A-Z0-9_-]{2,31}$")]
    private static partial Regex SiteIdPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(Z|[+-]\d{2}:?\d{2})?$")]
    private static partial Regex IsoTimestampPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex IsoDatePattern();

    /// <summary>Reads typed fields and collects every violation and abnormal flag on the way.</summary>
    private sealed class FieldReader(DateTimeOffset receivedAt)
    {
        public List<Violation> Violations { get; } = [];

        public List<AbnormalFlag> Flags { get; } = [];

        public void Fail(string field, string rule, string message) => Violations.Add(new Violation(field, rule, message));

        private static string Path(string? parent, string name) => parent is null ? name : $"{parent}.{name}";

        private bool TryGet(JsonElement body, string name, string field, bool required, out JsonElement value)
        {
            if (body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
            {
                return true;
            }

            if (required)
            {
                Fail(field, Rules.Required, $"'{name}' is required.");
            }

            return false;
        }

        public Guid? Guid(JsonElement body, string name)
        {
            if (!TryGet(body, name, name, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.String && System.Guid.TryParse(value.GetString(), out var id) && id != System.Guid.Empty)
            {
                return id;
            }

            Fail(name, Rules.Format, $"'{name}' must be a non-empty UUID string.");
            return null;
        }

        public string? Identifier(JsonElement body, string name, Regex pattern, string shape, string? parent = null)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text && pattern.IsMatch(text))
            {
                return text;
            }

            Fail(field, Rules.Format, $"'{name}' must be {shape}.");
            return null;
        }

        public string? Text(JsonElement body, string name, string parent)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Fail(field, Rules.Type, $"'{name}' must be a string.");
                return null;
            }

            var text = value.GetString()!.Trim();
            if (text.Length == 0 || text.Length > MaxTextLength || text.Any(char.IsControl))
            {
                Fail(field, Rules.Format, $"'{name}' must be 1 to {MaxTextLength} printable characters.");
                return null;
            }

            return text;
        }

        public DateTimeOffset? Timestamp(JsonElement body, string name, bool required, string? parent = null)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String
                || value.GetString() is not { } text
                || !IsoTimestampPattern().IsMatch(text)
                || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                Fail(field, Rules.Format, $"'{name}' must be an ISO-8601 timestamp such as 2024-03-01T08:30:00Z (no offset means UTC).");
                return null;
            }

            parsed = parsed.ToUniversalTime();
            if (parsed > receivedAt + FutureTolerance)
            {
                Fail(field, Rules.Future, $"'{name}' is more than {FutureTolerance.TotalMinutes:0} minutes in the future.");
                return null;
            }

            return parsed;
        }

        public DateOnly? Date(JsonElement body, string name, string parent)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String
                || value.GetString() is not { } text
                || !IsoDatePattern().IsMatch(text)
                || !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                Fail(field, Rules.Format, $"'{name}' must be a date in the form YYYY-MM-DD.");
                return null;
            }

            if (date > DateOnly.FromDateTime((receivedAt + FutureTolerance).UtcDateTime))
            {
                Fail(field, Rules.Future, $"'{name}' is in the future.");
                return null;
            }

            return date;
        }

        public StudyPhase? StudyPhase(JsonElement body, string name)
        {
            if (!TryGet(body, name, name, required: true, out var value))
            {
                return null;
            }

            var phase = value.ValueKind == JsonValueKind.String
                ? value.GetString()!.Trim().ToUpperInvariant() switch
                {
                    "PHASE I" or "PHASE 1" => Messages.StudyPhase.PhaseI,
                    "PHASE II" or "PHASE 2" => Messages.StudyPhase.PhaseII,
                    "PHASE III" or "PHASE 3" => Messages.StudyPhase.PhaseIII,
                    "PHASE IV" or "PHASE 4" => Messages.StudyPhase.PhaseIV,
                    _ => (StudyPhase?)null,
                }
                : null;
            if (phase is null)
            {
                Fail(name, Rules.Enum, $"'{name}' must be one of 'Phase I', 'Phase II', 'Phase III', 'Phase IV'.");
            }

            return phase;
        }

        public Gender? Gender(JsonElement body, string name, string parent)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required: true, out var value))
            {
                return null;
            }

            var gender = value.ValueKind == JsonValueKind.String
                ? value.GetString()!.Trim().ToUpperInvariant() switch
                {
                    "M" or "MALE" => Messages.Gender.Male,
                    "F" or "FEMALE" => Messages.Gender.Female,
                    "O" or "OTHER" => Messages.Gender.Other,
                    "U" or "UNKNOWN" => Messages.Gender.Unknown,
                    _ => (Gender?)null,
                }
                : null;
            if (gender is null)
            {
                Fail(field, Rules.Enum, $"'{name}' must be one of M, F, OTHER, UNKNOWN.");
            }

            return gender;
        }

        public T? Enum<T>(JsonElement body, string name, string parent, params (string Wire, T Value)[] choices)
            where T : struct
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.String)
            {
                var text = value.GetString()!.Trim().ToUpperInvariant().Replace(' ', '_');
                foreach (var (wire, choice) in choices)
                {
                    if (wire == text)
                    {
                        return choice;
                    }
                }
            }

            Fail(field, Rules.Enum, $"'{name}' must be one of {string.Join(", ", choices.Select(c => c.Wire))}.");
            return null;
        }

        public bool? Boolean(JsonElement body, string name, string parent)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return value.GetBoolean();
            }

            Fail(field, Rules.Type, $"'{name}' must be true or false.");
            return null;
        }

        public int? Integer(JsonElement body, string name, string parent, ClinicalRange range)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
            {
                Fail(field, Rules.Type, $"'{name}' must be a whole number.");
                return null;
            }

            return CheckRange(field, number, range) ? number : null;
        }

        public double? Number(JsonElement body, string name, string parent, ClinicalRange range, bool required = false)
        {
            var field = Path(parent, name);
            if (!TryGet(body, name, field, required, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                Fail(field, Rules.Type, $"'{name}' must be a number.");
                return null;
            }

            return CheckRange(field, number, range) ? number : null;
        }

        public LabResult? LabResult(JsonElement item, string path)
        {
            var code = Text(item, "test_code", path)?.ToUpperInvariant();
            var unit = Text(item, "unit", path);
            double? value = null;
            if (TryGet(item, "value", $"{path}.value", required: true, out var raw))
            {
                if (raw.ValueKind == JsonValueKind.Number && raw.TryGetDouble(out var number) && double.IsFinite(number))
                {
                    value = number;
                }
                else
                {
                    Fail($"{path}.value", Rules.Type, "'value' must be a number.");
                }
            }

            if (code is null)
            {
                return null;
            }

            if (!LabCatalogue.TryFind(code, out var test))
            {
                Fail($"{path}.test_code", Rules.UnknownTest,
                    $"Unknown test_code '{code}'; known codes: {string.Join(", ", LabCatalogue.Tests.Select(t => t.Code))}.");
                return null;
            }

            if (unit is null || value is null)
            {
                return null;
            }

            if (!test.TryStandardise(value.Value, unit, out var standard))
            {
                Fail($"{path}.unit", Rules.UnknownUnit,
                    $"Unit '{unit}' is not accepted for {test.Code}; use one of {string.Join(", ", test.Conversions.Keys)}.");
                return null;
            }

            return CheckRange($"{path}.value", standard, test.Range, test.Code)
                ? new LabResult(test.Code, standard, test.StandardUnit, value.Value, unit)
                : null;
        }

        private bool CheckRange(string field, double value, ClinicalRange range, string? flagName = null)
        {
            if (!range.IsPossible(value))
            {
                Fail(field, Rules.Range, $"{value.ToString(CultureInfo.InvariantCulture)} is outside the physiologically possible range {range.PossibleMin.ToString(CultureInfo.InvariantCulture)}..{range.PossibleMax.ToString(CultureInfo.InvariantCulture)}.");
                return false;
            }

            if (!range.IsNormal(value))
            {
                Flags.Add(new AbnormalFlag(flagName ?? field, value, value < range.NormalMin ? AbnormalDirection.Low : AbnormalDirection.High));
            }

            return true;
        }
    }
}
