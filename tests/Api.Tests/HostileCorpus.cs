using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClinicalTrials.Api.Tests;

/// <summary>One request of the hostile corpus, and which of its messages are valid (their index in the answer).</summary>
internal sealed record HostileRequest(string Category, HttpMethod Method, string Path, byte[]? Body, string? ContentType, IReadOnlyList<(int Index, Guid Id)> Good)
{
    public bool IsSingle => Path == "/api/clinical/data";

    public bool IsBatch => Path == "/api/clinical/data/batch";

    public HttpRequestMessage ToHttp()
    {
        var request = new HttpRequestMessage(Method, Path);
        if (Body is not null)
        {
            request.Content = new ByteArrayContent(Body);
            if (ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
        }

        return request;
    }
}

/// <summary>
/// Generates requests an outside tester would send, from a fixed seed: invalid UTF-8, lone surrogates, duplicate keys,
/// huge, deep and truncated JSON, wrong types, blank ids, oversize and mixed batches, unknown fields, bad paths.
/// Every message carries a fresh message_id, so what a valid one must become (accepted, then duplicate) is known.
/// </summary>
internal sealed class HostileCorpus(int seed)
{
    private const string Single = "/api/clinical/data";
    private const string Batch = "/api/clinical/data/batch";

    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly byte[][] InvalidUtf8 =
        [[0xE9], [0xFF], [0xFE, 0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x80], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80]];

    private static readonly string[] LoneSurrogates = ["\\ud800", "\\udfff", "x\\ud83e", "\\udd22y", "\\ud800\\ud800", "\\uDBFF"];

    private static readonly string[] BlankIds = ["", " ", "\t", "\n", "   ", "\u00a0", "\u2003"];

    private static readonly string[] BadPaths =
    [
        "/api/sites/%20", "/api/sites/%09", "/api/sites/%0A", "/api/sites/%0D%0A", "/api/sites/%20%20", "/api/sites/site001",
        "/api/sites/%E9", "/api/sites/%FF%FE", "/api/sites/..%2F..%2Fetc", "/api/sites/" + new string('A', 300),
        "/api/patients/%20", "/api/patients/%09", "/api/patients/PT%00", "/api/patients/pt12ab34cd", "/api/patients/%ED%A0%80",
        "/api/patients/%20/features", "/api/clinical/messages/%20", "/api/clinical/messages/not-a-uuid",
        "/api/clinical/messages/00000000-0000-0000-0000-000000000000", "/api/clinical/messages/%7B%7D", "/api/sites/", "/api/sites/%2F",
    ];

    private readonly Random _random = new(seed);
    private readonly string[] _sites = [.. Enumerable.Range(0, 20).Select(i => $"HOSTILE{i:D2}")];
    private readonly string[] _patients = [.. Enumerable.Range(0, 400).Select(i => $"PTH{i:D7}")];

    public List<HostileRequest> Generate(int count)
    {
        (int Weight, Func<HostileRequest> Make)[] categories =
        [
            (10, ValidMessage),
            (6, UnknownFields),
            (8, NotUtf8),
            (8, LoneSurrogate),
            (10, DuplicateKey),
            (8, Truncated),
            (4, Deep),
            (10, WrongType),
            (6, BlankId),
            (4, Garbage),
            (3, NotAnObject),
            (6, BadPath),
            (10, MixedBatch),
            (1, EmptyBatch),
        ];
        var total = categories.Sum(c => c.Weight);
        var requests = new List<HostileRequest>(count);
        // The expensive few once each: big enough to matter, few enough to keep the run short.
        requests.AddRange(Huge());
        requests.AddRange(OversizeBatches());
        while (requests.Count < count)
        {
            var pick = _random.Next(total);
            foreach (var (weight, make) in categories)
            {
                if ((pick -= weight) < 0)
                {
                    requests.Add(make());
                    break;
                }
            }
        }

        return requests;
    }

    private Guid NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes);
        return new Guid(bytes);
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>A valid message of a random payload type with a fresh id.</summary>
    private JsonObject Valid()
    {
        var patient = Pick(_patients);
        JsonObject payload = _random.Next(4) switch
        {
            0 => new JsonObject
            {
                ["patient_id"] = patient, ["systolic_bp"] = _random.Next(100, 150), ["diastolic_bp"] = _random.Next(60, 90),
                ["heart_rate"] = _random.Next(50, 120), ["temperature_celsius"] = Math.Round(36 + _random.NextDouble() * 2, 1),
            },
            1 => new JsonObject
            {
                ["patient_id"] = patient,
                ["results"] = new JsonArray(
                    new JsonObject { ["test_code"] = "GLUC", ["value"] = _random.Next(70, 200), ["unit"] = "mg/dL" },
                    new JsonObject { ["test_code"] = "HGB", ["value"] = _random.Next(10, 17), ["unit"] = "g/dL" }),
            },
            2 => new JsonObject
            {
                ["patient_id"] = patient, ["event_term"] = Pick(["Headache", "Nausée", "Übelkeit", "吐き気", "Rash 🤢"]), ["severity"] = "MILD",
                ["serious"] = _random.Next(2) == 0, ["relation_to_study_drug"] = "POSSIBLE",
            },
            _ => new JsonObject
            {
                ["patient_id"] = patient, ["age"] = _random.Next(18, 90), ["gender"] = Pick(["M", "F", "OTHER", "UNKNOWN"]),
                ["weight_kg"] = _random.Next(45, 120), ["height_cm"] = _random.Next(150, 200), ["enrollment_date"] = "2026-01-15",
                ["trial_arm"] = "TREATMENT_A",
            },
        };
        var name = payload.ContainsKey("results") ? "lab_results"
            : payload.ContainsKey("event_term") ? "adverse_event"
            : payload.ContainsKey("age") ? "patient_demographics"
            : "vital_signs";
        return new JsonObject
        {
            ["message_id"] = NewId().ToString(),
            ["timestamp"] = DateTimeOffset.UtcNow.AddMinutes(-_random.Next(10, 10_000)).ToString("O", CultureInfo.InvariantCulture),
            ["study_phase"] = Pick(["Phase I", "Phase II", "Phase III", "Phase IV"]),
            ["site_id"] = Pick(_sites),
            [name] = payload,
        };
    }

    private static Guid IdOf(JsonObject message) => Guid.Parse((string)message["message_id"]!);

    private static JsonObject PayloadOf(JsonObject message) =>
        message.Single(p => p.Value is JsonObject).Value!.AsObject();

    private static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(Wire));

    private static HostileRequest Post(string category, byte[] body, Guid? good = null) =>
        new(category, HttpMethod.Post, Single, body, "application/json", good is { } id ? [(0, id)] : []);

    private HostileRequest ValidMessage()
    {
        var message = Valid();
        return Post("valid", Bytes(message), IdOf(message));
    }

    private HostileRequest UnknownFields()
    {
        var message = Valid();
        PayloadOf(message)[$"note_{_random.Next(1000)}"] = "unknown to the contract";
        message[$"extra_{_random.Next(1000)}"] = Pick<JsonNode>(["x", 1, new JsonArray(1, 2), new JsonObject { ["nested"] = true }]);
        return Post("unknown_fields", Bytes(message), IdOf(message));
    }

    /// <summary>A message with an invalid UTF-8 sequence inside a string value (the message_id), or anywhere.</summary>
    private byte[] NotUtf8Bytes(bool inString)
    {
        var bytes = Bytes(Valid());
        var at = inString ? Array.IndexOf(bytes, (byte)'"', Array.IndexOf(bytes, (byte)':') + 2) : _random.Next(bytes.Length + 1);
        return [.. bytes[..at], .. Pick(InvalidUtf8), .. bytes[at..]];
    }

    private HostileRequest NotUtf8() => Post("not_utf8", NotUtf8Bytes(inString: _random.Next(2) == 0));

    private byte[] LoneSurrogateBytes()
    {
        var message = Valid();
        var text = message.ToJsonString(Wire);
        var surrogate = Pick(LoneSurrogates);
        // In a value (the study phase or the site) or in a key.
        text = _random.Next(3) switch
        {
            0 => text.Replace($"\"{(string)message["study_phase"]!}\"", $"\"{surrogate}\"", StringComparison.Ordinal),
            1 => text.Replace($"\"{(string)message["site_id"]!}\"", $"\"SITE{surrogate}\"", StringComparison.Ordinal),
            _ => text.Replace("\"patient_id\"", $"\"patient_id{surrogate}\"", StringComparison.Ordinal),
        };
        return Encoding.UTF8.GetBytes(text);
    }

    private HostileRequest LoneSurrogate() => Post("lone_surrogate", LoneSurrogateBytes());

    private byte[] DuplicateKeyBytes()
    {
        var message = Valid();
        var text = message.ToJsonString(Wire);
        var (key, value) = _random.Next(4) switch
        {
            0 => ("message_id", $"\"{NewId()}\""),
            1 => ("site_id", "\"OTHERSITE\""),
            2 => ("patient_id", "\"PT99999999\""),
            _ => ("study_phase", "\"Phase I\""),
        };
        var at = text.IndexOf($"\"{key}\":", StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text.Insert(at, $"\"{key}\":{value},"));
    }

    private HostileRequest DuplicateKey() => Post("duplicate_key", DuplicateKeyBytes());

    private byte[] TruncatedBytes()
    {
        var bytes = Bytes(Valid());
        return bytes[..(1 + _random.Next(bytes.Length - 1))];
    }

    private HostileRequest Truncated() => Post("truncated", TruncatedBytes());

    private HostileRequest Deep()
    {
        var depth = Pick([15, 16, 17, 64, 65, 1000, 10_000]);
        var message = Valid();
        var text = message.ToJsonString(Wire);
        var nested = new string('[', depth) + new string(']', depth);
        return Post("deep", Encoding.UTF8.GetBytes(_random.Next(2) == 0 ? nested : text.Insert(1, $"\"deep\":{nested},")));
    }

    private byte[] WrongTypeBytes(bool mayBreakSyntax)
    {
        var message = Valid();
        var payload = PayloadOf(message);
        JsonNode? wrong = Pick<JsonNode?>([null, 42, -1.5e308, "72", true, new JsonArray(), new JsonObject(), "", new JsonArray("x", 1)]);
        if (_random.Next(2) == 0)
        {
            message[Pick(["message_id", "timestamp", "study_phase", "site_id"])] = wrong?.DeepClone();
        }
        else
        {
            payload[Pick(payload.Select(p => p.Key).ToList())] = wrong?.DeepClone();
        }

        var text = message.ToJsonString(Wire);
        // Numbers JSON cannot hold, as some clients write them anyway (NaN is not JSON at all).
        return Encoding.UTF8.GetBytes(mayBreakSyntax && _random.Next(8) == 0 ? text.Replace("\"patient_id\"", "\"n\":NaN,\"patient_id\"", StringComparison.Ordinal)
            : _random.Next(8) == 0 ? text.Replace("\"patient_id\"", $"\"n\":1{new string('0', 400)},\"patient_id\"", StringComparison.Ordinal)
            : text);
    }

    private HostileRequest WrongType() => Post("wrong_type", WrongTypeBytes(mayBreakSyntax: true));

    private byte[] BlankIdBytes()
    {
        var message = Valid();
        var blank = Pick(BlankIds);
        switch (_random.Next(3))
        {
            case 0: message["message_id"] = blank; break;
            case 1: message["site_id"] = blank; break;
            default: PayloadOf(message)["patient_id"] = blank; break;
        }

        return Bytes(message);
    }

    private HostileRequest BlankId() => Post("blank_id", BlankIdBytes());

    private HostileRequest Garbage()
    {
        var bytes = new byte[_random.Next(0, 200)];
        _random.NextBytes(bytes);
        return new HostileRequest("garbage", HttpMethod.Post, Pick([Single, Batch]), bytes, Pick<string?>(["application/json", "application/x-ndjson", "text/plain", null]), []);
    }

    private HostileRequest NotAnObject() =>
        Post("not_an_object", Encoding.UTF8.GetBytes(Pick(["null", "[]", "42", "\"text\"", "true", "[{}]", " ", "\uFEFF{}", "{}"])));

    private HostileRequest BadPath() => new("bad_path", HttpMethod.Get, Pick(BadPaths), null, null, []);

    /// <summary>
    /// A message for a batch line or element: valid (and so expected stored) or broken in one of the ways above, but
    /// never so that an array stops being an array: that refuses the whole batch, rightly, and stores nothing.
    /// </summary>
    private (byte[] Bytes, Guid? Good) BatchMessage(bool ndjson) => _random.Next(10) switch
    {
        0 or 1 or 2 => Valid() is var valid ? (Bytes(valid), IdOf(valid)) : default,
        3 => (NotUtf8Bytes(inString: !ndjson), null),
        9 when ndjson => (TruncatedBytes(), null),
        4 => (LoneSurrogateBytes(), null),
        5 => (DuplicateKeyBytes(), null),
        6 => (WrongTypeBytes(mayBreakSyntax: ndjson), null),
        7 => (BlankIdBytes(), null),
        _ => (Encoding.UTF8.GetBytes(Pick(["{}", "[]", "1", "\"x\"", "null"])), null),
    };

    private HostileRequest MixedBatch()
    {
        var ndjson = _random.Next(2) == 0;
        var messages = Enumerable.Range(0, _random.Next(2, 12)).Select(_ => BatchMessage(ndjson)).ToList();
        var good = messages.Select((m, i) => (Index: i, m.Good)).Where(m => m.Good is not null).Select(m => (m.Index, m.Good!.Value)).ToList();
        if (ndjson)
        {
            // Each line is judged alone, so a line may be broken in any way at all.
            var body = messages.SelectMany(m => m.Bytes.Concat("\n"u8.ToArray())).ToArray();
            return new HostileRequest("mixed_ndjson", HttpMethod.Post, Batch, body, "application/x-ndjson", good);
        }

        var array = new List<byte> { (byte)'[' };
        for (var i = 0; i < messages.Count; i++)
        {
            array.AddRange(i == 0 ? [] : ","u8.ToArray());
            array.AddRange(messages[i].Bytes);
        }

        array.Add((byte)']');
        return new HostileRequest("mixed_array", HttpMethod.Post, Batch, [.. array], "application/json", good);
    }

    private HostileRequest EmptyBatch() =>
        new("empty_batch", HttpMethod.Post, Batch, Encoding.UTF8.GetBytes(Pick(["", "[]", " [ ] ", "\n\n", "\r\n \t"])), Pick(["application/json", "application/x-ndjson"]), []);

    private IEnumerable<HostileRequest> Huge()
    {
        // Over the single-message limit (413), a near-limit text field, a long number, a wide object.
        yield return Post("huge", Encoding.UTF8.GetBytes($"{{\"pad\":\"{new string('a', 1_100_000)}\"}}"));
        var message = Valid();
        message["pad"] = new string('x', 1_000_000);
        yield return Post("huge", Bytes(message));
        yield return Post("huge", Encoding.UTF8.GetBytes($"{{\"n\":{new string('9', 1_000_000)}}}"));
        yield return Post("huge", Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, 60_000).Select(i => $"\"k{i}\":0")) + "}"));
        yield return Post("huge", Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, 60_000).Select(_ => "\"k\":0")) + "}"));
    }

    private IEnumerable<HostileRequest> OversizeBatches()
    {
        foreach (var items in new[] { ClinicalDataApi.MaxBatchMessages + 1, 1_000_000 })
        {
            yield return new HostileRequest("oversize_batch", HttpMethod.Post, Batch,
                Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Repeat("{}", items)) + "]"), "application/json", []);
            yield return new HostileRequest("oversize_batch", HttpMethod.Post, Batch,
                Encoding.UTF8.GetBytes(string.Join("\n", Enumerable.Repeat("{\"a\":1}", items))), "application/x-ndjson", []);
        }
    }
}
