using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
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

    /// <summary>
    /// Raise by one whenever a validation rule changes what is accepted. Every accepted message's bronze line records
    /// <see cref="RulesVersion"/> (this revision and the lab catalogue's version), so that replay can read it as it was
    /// accepted whatever today's rules say.
    /// </summary>
    private const int RulesRevision = 1;

    /// <summary>The rules a message accepted now is accepted under: the parser's revision and the lab catalogue's version.</summary>
    public static string RulesVersion { get; } = $"{RulesRevision}+labs-{LabCatalogue.Version}";

    private const int MaxDepth = 16;

    // A key given twice would leave the message's meaning to whichever copy a reader takes: refuse it.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    // Messages acknowledged before duplicate keys were refused were read with the last copy of a key: read them so again.
    private static readonly JsonDocumentOptions StoredDocumentOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = true };

    /// <summary>Parses and validates <paramref name="utf8Json"/> as received at <paramref name="receivedAt"/>.</summary>
    /// <remarks>
    /// A body with a defect of encoding or shape (not UTF-8, a lone surrogate escape, a duplicate key) is rejected
    /// with no identity read from it: which message, site or patient it belongs to cannot be known for sure.
    /// </remarks>
    public static ParseResult Parse(ReadOnlyMemory<byte> utf8Json, DateTimeOffset receivedAt) =>
        Parse(utf8Json, receivedAt, DocumentOptions, replay: null);

    /// <summary>
    /// Reads again a message the journal accepted (patient replay, the bronze-to-silver job, exports): an acknowledged
    /// message keeps the meaning it was accepted with, whatever today's rules say.
    /// <list type="bullet">
    /// <item>The values set aside when it was accepted (<see cref="AcceptedUnder.SetAside"/>) are left out again; the
    /// rules that judge values (possible ranges, timestamps in the future, consistency between values) are not applied
    /// again, so a rule tightened since cannot make stored data unreadable. Its shape is still read by today's code.</item>
    /// <item>A duplicate key in a message stored before such keys were refused is read as it was then (the last copy counts).</item>
    /// <item>Lines written before the rules were recorded (<paramref name="acceptedUnder"/> null) are read by today's
    /// rules, and as sent when those would reject them now.</item>
    /// </list>
    /// </summary>
    public static ParseResult ParseStored(ReadOnlyMemory<byte> utf8Json, DateTimeOffset receivedAt, AcceptedUnder? acceptedUnder)
    {
        if (acceptedUnder is not null)
        {
            return Parse(utf8Json, receivedAt, StoredDocumentOptions, acceptedUnder);
        }

        var today = Parse(utf8Json, receivedAt, StoredDocumentOptions, replay: null);
        return today.IsValid ? today : Parse(utf8Json, receivedAt, StoredDocumentOptions, AcceptedUnder.Unrecorded);
    }

    private static ParseResult Parse(ReadOnlyMemory<byte> utf8Json, DateTimeOffset receivedAt, JsonDocumentOptions options, AcceptedUnder? replay)
    {
        if (!Utf8.IsValid(utf8Json.Span))
        {
            return Rejected([new Violation("$", Rules.Json, "The body is not valid UTF-8; JSON text must be UTF-8.")]);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The document names a duplicate key but not where it is, and fails on a lone surrogate in a key.
            var defects = JsonDefects.Find(utf8Json.Span, MaxDepth);
            return Rejected(defects.Count > 0 ? defects : [new Violation("$", Rules.Json, $"The body is not valid JSON: {e.Message}")]);
        }

        using (document)
        {
            // Only an escape can hide a lone surrogate, and escapes are rare: the scan runs only when there is one.
            // Duplicate keys the document accepted (a stored message) are not defects here.
            if (utf8Json.Span.IndexOf("\\u"u8) >= 0
                && JsonDefects.Find(utf8Json.Span, MaxDepth).Where(v => v.Rule != Rules.DuplicateKey).ToList() is { Count: > 0 } defects)
            {
                return Rejected(defects);
            }

            return Parse(document.RootElement, receivedAt, replay);
        }
    }

    private static ParseResult Parse(JsonElement root, DateTimeOffset receivedAt, AcceptedUnder? replay)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Rejected([new Violation("$", Rules.Type, "A message must be a JSON object.")]);
        }

        var reader = new FieldReader(receivedAt, replay);
        var messageId = reader.Guid(root, "message_id");
        var timestamp = reader.Timestamp(root, "timestamp", required: true);
        var phase = reader.Enum(root, "study_phase", null, WireNames.StudyPhase);
        var siteId = reader.Identifier(root, "site_id", ClinicalIds.IsSiteId, ClinicalIds.SiteIdShape);

        PayloadType? payloadType = null;
        var payloadCount = 0;
        foreach (var type in PayloadTypes.All)
        {
            if (root.TryGetProperty(type.WireName(), out _))
            {
                payloadType = type;
                payloadCount++;
            }
        }

        ClinicalPayload? payload = null;
        string? patientId = null;
        if (payloadCount != 1)
        {
            payloadType = null;
            reader.Fail("$", Rules.OnePayload, payloadCount == 0
                ? $"Exactly one payload is required: one of {string.Join(", ", PayloadTypes.All.Select(t => t.WireName()))}."
                : $"Exactly one payload is allowed, found {string.Join(" and ", PayloadNames(root))}.");
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
                patientId = reader.Identifier(body, "patient_id", ClinicalIds.IsPatientId, ClinicalIds.PatientIdShape, name);
                payload = payloadType switch
                {
                    PayloadType.PatientDemographics => ReadDemographics(reader, body, name, patientId),
                    PayloadType.VitalSigns => ReadVitalSigns(reader, body, name, patientId),
                    PayloadType.LabResults => ReadLabResults(reader, body, patientId),
                    _ => ReadAdverseEvent(reader, body, name, patientId, timestamp),
                };
            }
        }

        if (reader.Violations is not null || reader.HoldsDirectIdentifier || payload is null || messageId is null || timestamp is null || phase is null
            || siteId is null)
        {
            // A rejected message answers for everything found in it, its single values included.
            reader.RejectForResultIssues();
            return new ParseResult(null, reader.Violations ?? [], messageId, siteId, patientId, payloadType);
        }

        var message = new ClinicalMessage(messageId.Value, timestamp.Value, phase.Value, siteId, payload)
        {
            Flags = reader.Flags ?? [],
            ResultIssues = reader.ResultIssues ?? [],
            SetAside = reader.SetAside ?? [],
        };
        return ParseResult.Valid(message);
    }

    // Apart from Parse: a lambda capturing root there would allocate its closure on every call, not only on failure.
    private static IEnumerable<string> PayloadNames(JsonElement root) =>
        PayloadTypes.All.Select(t => t.WireName()).Where(name => root.TryGetProperty(name, out _));

    private static ParseResult Rejected(IReadOnlyList<Violation> violations) => new(null, violations, null, null, null, null);

    private static PatientDemographics? ReadDemographics(FieldReader reader, JsonElement body, string path, string? patientId)
    {
        var age = reader.Integer(body, "age", path, DemographicRanges.Age);
        var gender = reader.Enum(body, "gender", path, WireNames.Gender);
        var weight = reader.Number(body, "weight_kg", path, DemographicRanges.WeightKg);
        var height = reader.Number(body, "height_cm", path, DemographicRanges.HeightCm);
        var enrollment = reader.Date(body, "enrollment_date", path);
        var arm = reader.Text(body, "trial_arm", path);
        return patientId is null || age is null || gender is null || enrollment is null || arm is null
            ? null
            : new PatientDemographics(patientId, age.Value, gender.Value, weight, height, enrollment.Value, arm);
    }

    /// <summary>The vital signs a <c>vital_signs</c> payload may carry (at least one), as the JSON Schema lists them too.</summary>
    public static readonly IReadOnlyList<string> VitalSignFields =
        ["systolic_bp", "diastolic_bp", "heart_rate", "temperature_celsius", "oxygen_saturation", "respiratory_rate", "mean_arterial_pressure", "etco2"];

    // The paths of the first lab results, made once: building "lab_results.results[i]" per item and message is garbage.
    private static readonly string[] LabItemPaths = [.. Enumerable.Range(0, 16).Select(i => $"lab_results.results[{i}]")];

    private static VitalSigns? ReadVitalSigns(FieldReader reader, JsonElement body, string path, string? patientId)
    {
        // Each vital sign is judged on its own: one outside its possible range rejects that value, not the others
        // (a value of the wrong type is a malformed message, and rejects it).
        var before = reader.Violations?.Count ?? 0;
        var systolic = reader.Vital(body, "systolic_bp", path, VitalSignRanges.SystolicBp);
        var diastolic = reader.Vital(body, "diastolic_bp", path, VitalSignRanges.DiastolicBp);
        var heartRate = reader.Vital(body, "heart_rate", path, VitalSignRanges.HeartRate);
        var temperature = reader.Vital(body, "temperature_celsius", path, VitalSignRanges.TemperatureCelsius);
        var saturation = reader.Vital(body, "oxygen_saturation", path, VitalSignRanges.OxygenSaturation);
        var respiratory = reader.Vital(body, "respiratory_rate", path, VitalSignRanges.RespiratoryRate);
        var meanArterial = reader.Vital(body, "mean_arterial_pressure", path, VitalSignRanges.MeanArterialPressure);
        var endTidalCo2 = reader.Vital(body, "etco2", path, VitalSignRanges.EndTidalCo2);
        foreach (var setAside in reader.SetAsideResultViolations(before, Rules.Range))
        {
            reader.RecordSetAside(setAside.Field);
        }

        if (systolic is null && diastolic is null && heartRate is null && temperature is null && saturation is null && respiratory is null
            && meanArterial is null && endTidalCo2 is null)
        {
            if (HasAnyValue(body, VitalSignFields))
            {
                // No value is left to accept: the message is rejected, for the reasons its values were.
                reader.RejectForResultIssues();
            }
            else
            {
                reader.Fail(path, Rules.Required, $"At least one vital sign is required: {string.Join(", ", VitalSignFields)}.");
            }
        }

        if (systolic is not null && diastolic is not null && diastolic >= systolic && !reader.Replaying)
        {
            reader.Fail($"{path}.diastolic_bp", Rules.Consistency, "diastolic_bp must be lower than systolic_bp.");
        }

        return patientId is null
            ? null
            : new VitalSigns(patientId, systolic, diastolic, heartRate, temperature, saturation, respiratory)
            {
                MeanArterialPressure = meanArterial,
                EndTidalCo2 = endTidalCo2,
            };
    }

    private static bool HasAnyValue(JsonElement body, IReadOnlyList<string> fields)
    {
        foreach (var field in fields)
        {
            if (body.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                return true;
            }
        }

        return false;
    }

    private static LabResults? ReadLabResults(FieldReader reader, JsonElement body, string? patientId)
    {
        const string listPath = "lab_results.results";
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

        // Each result is judged on its own: what is wrong with one result rejects that result, not the panel.
        var results = new List<LabResult>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var itemPath = index < LabItemPaths.Length ? LabItemPaths[index] : $"{listPath}[{index}]";
            index++;
            if (reader.WasSetAside(itemPath))
            {
                reader.RecordSetAside(itemPath);
                continue;
            }

            var before = reader.Violations?.Count ?? 0;
            var result = item.ValueKind == JsonValueKind.Object
                ? reader.LabResult(item, itemPath)
                : reader.Fail<LabResult>(itemPath, Rules.Type, "Each lab result must be an object {test_code, value, unit}.");
            if (reader.SetAsideResultViolations(before).Count > 0 && result is null)
            {
                reader.RecordSetAside(itemPath);
            }

            if (result is not null)
            {
                results.Add(result);
            }
        }

        if (results.Count == 0)
        {
            // No result is left to accept: the message is rejected, for the reasons its results were.
            reader.RejectForResultIssues();
            return null;
        }

        return patientId is null ? null : new LabResults(patientId, results);
    }

    private static AdverseEvent? ReadAdverseEvent(FieldReader reader, JsonElement body, string path, string? patientId, DateTimeOffset? timestamp)
    {
        var term = reader.Text(body, "event_term", path);
        var severity = reader.Enum(body, "severity", path, WireNames.Severity);
        var serious = reader.Boolean(body, "serious", path);
        var relation = reader.Enum(body, "relation_to_study_drug", path, WireNames.DrugRelation);
        var onset = reader.Timestamp(body, "onset", required: false, path) ?? timestamp;
        return patientId is null || term is null || severity is null || serious is null || relation is null || onset is null
            ? null
            : new AdverseEvent(patientId, term, severity.Value, serious.Value, relation.Value, onset.Value);
    }

    /// <summary>An ISO-8601 timestamp as accepted (a space for 'T', seconds and offset optional); the JSON Schema uses it too.</summary>
    public const string TimestampPattern = @"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(Z|[+-]\d{2}:?\d{2})?$";

    /// <summary>A date YYYY-MM-DD.</summary>
    public const string DatePattern = @"^\d{4}-\d{2}-\d{2}$";

    [GeneratedRegex(TimestampPattern)]
    private static partial Regex IsoTimestampPattern();

    [GeneratedRegex(DatePattern)]
    private static partial Regex IsoDatePattern();

    /// <summary>Whether an identifier has its required shape (<see cref="ClinicalIds"/>).</summary>
    private delegate bool IdentifierShape(ReadOnlySpan<char> id);

    /// <summary>
    /// Reads typed fields and collects every violation and abnormal flag on the way. A valid message costs no garbage
    /// beyond what it keeps: field paths are built only for a violation, and short strings that are only compared or
    /// parsed (timestamps, codes) are read into a stack buffer instead of a new string.
    /// </summary>
    /// <param name="receivedAt">When the message was received: timestamps are judged against it.</param>
    /// <param name="replay">How the message was accepted, when it is read again from storage; null for a message received now.</param>
    private sealed class FieldReader(DateTimeOffset receivedAt, AcceptedUnder? replay)
    {
        private const int ScratchChars = 64;

        /// <summary>Reading a stored message again: the rules that judge values are not applied (see <see cref="ParseStored"/>).</summary>
        public bool Replaying => replay is not null;

        /// <summary>The values and lab results left out of the accepted message, by field path.</summary>
        public List<string>? SetAside { get; private set; }

        public void RecordSetAside(string field) => (SetAside ??= []).Add(field);

        /// <summary>Whether a stored message's value at <paramref name="field"/> was set aside when it was accepted.</summary>
        public bool WasSetAside(string field) => replay is { SetAside.Count: > 0 } accepted && accepted.SetAside.Contains(field);

        public List<Violation>? Violations { get; private set; }

        public List<AbnormalFlag>? Flags { get; private set; }

        public void Fail(string field, string rule, string message) => (Violations ??= []).Add(new Violation(field, rule, message));

        public T? Fail<T>(string field, string rule, string message)
            where T : class
        {
            Fail(field, rule, message);
            return null;
        }

        /// <summary>A free-text field looked like a direct identifier: the message is rejected whole, even where the field was one lab result's.</summary>
        public bool HoldsDirectIdentifier { get; private set; }

        /// <summary>Issues of single lab results: results rejected, or stored and flagged unknown_test or unknown_unit.</summary>
        public List<Violation>? ResultIssues { get; private set; }

        /// <summary>
        /// Moves the violations found since there were <paramref name="count"/> (only those of <paramref name="rule"/>,
        /// when given) to <see cref="ResultIssues"/>.
        /// </summary>
        public IReadOnlyList<Violation> SetAsideResultViolations(int count, string? rule = null)
        {
            if (Violations is not { } violations || violations.Count <= count)
            {
                return [];
            }

            var setAside = violations.Skip(count).Where(v => rule is null || v.Rule == rule).ToList();
            (ResultIssues ??= []).AddRange(setAside);
            violations.RemoveAll(setAside.Contains);
            if (violations.Count == 0)
            {
                Violations = null;
            }

            return setAside;
        }

        /// <summary>Makes every result issue a violation of the message (none of its results could be accepted).</summary>
        public void RejectForResultIssues()
        {
            if (ResultIssues is { Count: > 0 } issues)
            {
                (Violations ??= []).AddRange(issues);
                ResultIssues = null;
            }
        }

        private void Flag(string field, string rule, string message) => (ResultIssues ??= []).Add(new Violation(field, rule, message));

        // The few field paths abnormal values are flagged under, made once each rather than once per flag.
        private static readonly ConcurrentDictionary<(string Parent, string Name), string> FlagNames = new();

        private static bool HasValue(JsonElement body, string name) =>
            body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

        private static string Path(string? parent, string name) => parent is null ? name : $"{parent}.{name}";

        private bool TryGet(JsonElement body, string name, string? parent, bool required, out JsonElement value)
        {
            if (body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
            {
                return true;
            }

            if (required)
            {
                Fail(Path(parent, name), Rules.Required, $"'{name}' is required.");
            }

            return false;
        }

        /// <summary>
        /// The text of a string element, unescaped: in <paramref name="scratch"/> when it is short and has no escapes
        /// (the usual case), otherwise as a new string. False when the element is not a string.
        /// </summary>
        private static bool TryGetChars(JsonElement value, Span<char> scratch, out ReadOnlySpan<char> text)
        {
            text = default;
            if (value.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            var raw = JsonMarshal.GetRawUtf8Value(value)[1..^1]; // without the quotes
            if (raw.Length <= scratch.Length && raw.IndexOf((byte)'\\') < 0 && Encoding.UTF8.TryGetChars(raw, scratch, out var written))
            {
                text = scratch[..written];
                return true;
            }

            text = value.GetString();
            return true;
        }

        public Guid? Guid(JsonElement body, string name)
        {
            if (!TryGet(body, name, null, required: true, out var value))
            {
                return null;
            }

            if (TryGetChars(value, stackalloc char[ScratchChars], out var text) && System.Guid.TryParse(text, out var id) && id != System.Guid.Empty)
            {
                return id;
            }

            Fail(name, Rules.Format, $"'{name}' must be a non-empty UUID string.");
            return null;
        }

        public string? Identifier(JsonElement body, string name, IdentifierShape isValid, string shape, string? parent = null)
        {
            if (!TryGet(body, name, parent, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text && isValid(text))
            {
                return text;
            }

            Fail(Path(parent, name), Rules.Format, $"'{name}' must be {shape}.");
            return null;
        }

        public string? Text(JsonElement body, string name, string parent)
        {
            if (!TryGet(body, name, parent, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Fail(Path(parent, name), Rules.Type, $"'{name}' must be a string.");
                return null;
            }

            var text = value.GetString()!.Trim();
            if (text.Length == 0 || text.Length > MaxTextLength || HasControlCharacter(text))
            {
                Fail(Path(parent, name), Rules.Format, $"'{name}' must be 1 to {MaxTextLength} printable characters.");
                return null;
            }

            if (!Replaying && DirectIdentifiers.Find(text) is { } identifier)
            {
                // The sentence names the kind, never the text: it goes back to the sender and into counts and logs.
                Fail(Path(parent, name), Rules.DirectIdentifier, $"'{name}' looks like it holds {identifier}: send pseudonymous, coded data only.");
                HoldsDirectIdentifier = true;
                return null;
            }

            return text;
        }

        // The characters char.IsControl answers true for: C0, DEL and C1.
        private static bool HasControlCharacter(ReadOnlySpan<char> text) =>
            text.ContainsAnyInRange('\u0000', '\u001f') || text.ContainsAnyInRange('\u007f', '\u009f');

        public DateTimeOffset? Timestamp(JsonElement body, string name, bool required, string? parent = null)
        {
            if (!TryGet(body, name, parent, required, out var value))
            {
                return null;
            }

            if (!TryGetChars(value, stackalloc char[ScratchChars], out var text)
                || !IsoTimestampPattern().IsMatch(text)
                || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                Fail(Path(parent, name), Rules.Format, $"'{name}' must be an ISO-8601 timestamp such as 2024-03-01T08:30:00Z (no offset means UTC).");
                return null;
            }

            parsed = parsed.ToUniversalTime();
            if (parsed > receivedAt + FutureTolerance && !Replaying)
            {
                Fail(Path(parent, name), Rules.Future, $"'{name}' is more than {FutureTolerance.TotalMinutes:0} minutes in the future.");
                return null;
            }

            return parsed;
        }

        public DateOnly? Date(JsonElement body, string name, string parent)
        {
            if (!TryGet(body, name, parent, required: true, out var value))
            {
                return null;
            }

            if (!TryGetChars(value, stackalloc char[ScratchChars], out var text)
                || !IsoDatePattern().IsMatch(text)
                || !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                Fail(Path(parent, name), Rules.Format, $"'{name}' must be a date in the form YYYY-MM-DD.");
                return null;
            }

            if (date > DateOnly.FromDateTime((receivedAt + FutureTolerance).UtcDateTime) && !Replaying)
            {
                Fail(Path(parent, name), Rules.Future, $"'{name}' is in the future.");
                return null;
            }

            return date;
        }

        public T? Enum<T>(JsonElement body, string name, string? parent, WireNameTable<T> names)
            where T : struct, System.Enum
        {
            if (!TryGet(body, name, parent, required: true, out var value))
            {
                return null;
            }

            if (TryGetChars(value, stackalloc char[ScratchChars], out var text) && names.TryParse(text, out var choice))
            {
                return choice;
            }

            Fail(Path(parent, name), Rules.Enum, $"'{name}' must be one of {string.Join(", ", names.Names)}.");
            return null;
        }

        public bool? Boolean(JsonElement body, string name, string parent)
        {
            if (!TryGet(body, name, parent, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return value.GetBoolean();
            }

            Fail(Path(parent, name), Rules.Type, $"'{name}' must be true or false.");
            return null;
        }

        public int? Integer(JsonElement body, string name, string parent, ClinicalRange range)
        {
            if (!TryGet(body, name, parent, required: true, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
            {
                Fail(Path(parent, name), Rules.Type, $"'{name}' must be a whole number.");
                return null;
            }

            return CheckRange(parent, name, number, range) ? number : null;
        }

        /// <summary>An optional vital sign; null when absent, and in a stored message when it was set aside on acceptance.</summary>
        public double? Vital(JsonElement body, string name, string parent, ClinicalRange range)
        {
            if (replay is { SetAside.Count: > 0 } && Path(parent, name) is var field && WasSetAside(field))
            {
                RecordSetAside(field);
                return null;
            }

            return Number(body, name, parent, range);
        }

        public double? Number(JsonElement body, string name, string parent, ClinicalRange range, bool required = false)
        {
            if (!TryGet(body, name, parent, required, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                Fail(Path(parent, name), Rules.Type, $"'{name}' must be a number.");
                return null;
            }

            return CheckRange(parent, name, number, range) ? number : null;
        }

        /// <summary>
        /// One lab result, judged against the lab catalogue (docs/labs.md): a known quantitative test is standardised
        /// and checked against its possible range; a qualitative test takes one of its answers; a test or unit the
        /// catalogue does not know is stored as sent and flagged. Violations found here reject this result only.
        /// </summary>
        public LabResult? LabResult(JsonElement item, string path)
        {
            var failures = Violations?.Count ?? 0;
            var code = Text(item, "test_code", path);
            var specimen = HasValue(item, "specimen") ? Text(item, "specimen", path) : null;
            var unit = HasValue(item, "unit") ? Text(item, "unit", path) : null;
            if (!TryGet(item, "value", path, required: true, out var raw) || Violations?.Count > failures)
            {
                return null;
            }

            code = code!.ToUpperInvariant();
            specimen = specimen?.ToUpperInvariant();
            var number = raw.ValueKind == JsonValueKind.Number && raw.TryGetDouble(out var n) && double.IsFinite(n) ? n : (double?)null;
            var text = raw.ValueKind == JsonValueKind.String ? Text(item, "value", path) : null;
            if (number is null && text is null)
            {
                return raw.ValueKind == JsonValueKind.String ? null : Fail<LabResult>($"{path}.value", Rules.Type, "'value' must be a number, or a text answer for a qualitative test.");
            }

            if (!LabCatalogue.TryFind(code, specimen, out var test))
            {
                Flag($"{path}.test_code", Rules.UnknownTest,
                    $"test_code '{code}'{(specimen is null ? "" : $" for specimen {specimen}")} is not in the lab catalogue {LabCatalogue.Version}: stored as sent, not standardised.");
                return new LabResult(code, number, unit, number, unit) { Text = text, Specimen = specimen, Flag = LabResultFlag.UnknownTest };
            }

            if (test.Scale != LabScale.Quantitative)
            {
                if (text is null || !test.TryAnswer(text, out var answer, out var rank))
                {
                    return Fail<LabResult>($"{path}.value", Rules.Enum, $"{test.Code} is a qualitative test: 'value' must be one of {string.Join(", ", test.Answers)}.");
                }

                return new LabResult(test.Code, test.Scale == LabScale.Ordinal ? rank : null, null, null, null) { Text = answer, Specimen = test.Specimen };
            }

            if (number is null)
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) || !double.IsFinite(parsed))
                {
                    return Fail<LabResult>($"{path}.value", Rules.Type, $"{test.Code} is a quantitative test: 'value' must be a number.");
                }

                number = parsed;
            }

            // A dimensionless test (pH, INR, specific gravity) sent without a unit is in its standard unit.
            unit ??= test.StandardUnit is "1" or "[pH]" ? test.StandardUnit : null;
            if (unit is null || !test.TryStandardise(number.Value, unit, out var standard))
            {
                Flag($"{path}.unit", Rules.UnknownUnit, unit is null
                    ? $"{test.Code} needs a unit (one of {string.Join(", ", test.Conversions.Keys)}): stored as sent, not standardised."
                    : $"Unit '{unit}' is not listed for {test.Code} (one of {string.Join(", ", test.Conversions.Keys)}): stored as sent, not standardised.");
                return new LabResult(test.Code, number, unit, number, unit) { Specimen = test.Specimen, Flag = LabResultFlag.UnknownUnit };
            }

            return CheckRange(path, "value", standard, test.Range!, test.Code)
                ? new LabResult(test.Code, standard, test.StandardUnit, number, unit) { Specimen = test.Specimen }
                : null;
        }

        private bool CheckRange(string parent, string name, double value, ClinicalRange range, string? flagName = null)
        {
            if (!range.IsPossible(value) && !Replaying)
            {
                Fail(Path(parent, name), Rules.Range, $"{value.ToString(CultureInfo.InvariantCulture)} is outside the physiologically possible range {range.PossibleMin.ToString(CultureInfo.InvariantCulture)}..{range.PossibleMax.ToString(CultureInfo.InvariantCulture)}.");
                return false;
            }

            if (!range.IsNormal(value))
            {
                flagName ??= FlagNames.GetOrAdd((parent, name), static key => Path(key.Parent, key.Name));
                (Flags ??= []).Add(new AbnormalFlag(flagName, value, value < range.NormalMin ? AbnormalDirection.Low : AbnormalDirection.High));
            }

            return true;
        }
    }
}
