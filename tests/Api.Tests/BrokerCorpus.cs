using System.Text;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// What the broker ingress tests publish, keyed by patient_id: 50,000 records, 2 % invalid (900 out of range, 100 not
/// JSON at all), 1 % earlier valid records again byte for byte (a producer's retry, a replayed topic), the rest valid vitals.
/// </summary>
internal sealed record BrokerCorpus(List<(string Key, byte[] Value)> Records, List<Guid> ValidIds, List<Guid> InvalidIds)
{
    public const int Published = 50_000;
    public const int Invalid = 1_000;
    public const int NotJson = 100;
    public const int Duplicates = 500;
    public const int Valid = Published - Invalid - Duplicates;

    public static BrokerCorpus Build()
    {
        var random = new Random(14);
        var patients = Enumerable.Range(0, 1_000).Select(_ => TestMessages.NewPatientId()).ToArray();
        var site = TestMessages.NewSiteId();
        var records = new List<(string, byte[])>(Published);
        var validIds = new List<Guid>();
        var invalidIds = new List<Guid>();
        var valid = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        var start = DateTimeOffset.UtcNow.AddHours(-2);
        for (var i = 0; i < Published; i++)
        {
            var patient = patients[random.Next(patients.Length)];
            var kind = i % 100;
            if (kind == 50 && records.Count > 0)
            {
                // A duplicate: an earlier valid record, byte for byte (a producer's retry, a replayed topic).
                var (key, value) = records[random.Next(records.Count)];
                while (!valid.Contains(value))
                {
                    (key, value) = records[random.Next(records.Count)];
                }

                records.Add((key, value));
            }
            else if (kind is 10 or 60)
            {
                if (i % 1_000 is 10 or 60)
                {
                    records.Add((patient, Encoding.UTF8.GetBytes($"not json {i} {{")));
                }
                else
                {
                    var message = TestMessages.HeartRateOnly(900, site, patient, start.AddMilliseconds(i));
                    invalidIds.Add(TestMessages.IdOf(message));
                    records.Add((patient, Encoding.UTF8.GetBytes(message.ToJsonString())));
                }
            }
            else
            {
                var message = TestMessages.Vitals(patient, site, heartRate: 60 + random.Next(60), at: start.AddMilliseconds(i));
                validIds.Add(TestMessages.IdOf(message));
                var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
                valid.Add(bytes);
                records.Add((patient, bytes));
            }
        }

        Assert.Equal(Valid, validIds.Count);
        Assert.Equal(Invalid - NotJson, invalidIds.Count);
        return new BrokerCorpus(records, validIds, invalidIds);
    }

    /// <summary>Every invalid message is quarantined, and a sample of the valid ones stored, as the silo answers for them.</summary>
    public async Task AssertStatusesAsync(HttpClient http, CancellationToken ct)
    {
        foreach (var id in InvalidIds)
        {
            var message = await (await http.GetAsync($"/api/clinical/messages/{id}", ct)).ExpectAsync(200);
            Assert.Equal("rejected", message.GetProperty("status").GetString());
        }

        foreach (var id in ValidIds.Where((_, i) => i % 97 == 0))
        {
            var message = await (await http.GetAsync($"/api/clinical/messages/{id}", ct)).ExpectAsync(200);
            Assert.Equal("accepted", message.GetProperty("status").GetString());
        }
    }

    /// <summary>
    /// Every message the broker delivered is in a <c>data.receive</c> audit record under <paramref name="actor"/>: a
    /// valid one accepted (or, when the silo was killed between storing it and recording the receipt, duplicate on its
    /// redelivery), an invalid one rejected with its rules (or duplicate likewise); no receipt names another message.
    /// </summary>
    public async Task AssertReceiptsAuditedAsync(HttpClient http, string actor, CancellationToken ct)
    {
        var byStatus = new Dictionary<string, HashSet<Guid>> { ["accepted"] = [], ["duplicate"] = [], ["rejected"] = [] };
        long after = 0;
        while (true)
        {
            var page = (await (await http.GetAsync($"/api/audit?action=data.receive&actor={Uri.EscapeDataString(actor)}&after={after}&limit=1000", ct))
                .ExpectAsync(200)).EnumerateArray().ToList();
            if (page.Count == 0)
            {
                break;
            }

            foreach (var record in page)
            {
                after = record.GetProperty("seq").GetInt64();
                var bySite = System.Text.Json.JsonDocument.Parse(record.GetProperty("details").GetString()!).RootElement.GetProperty("messages");
                foreach (var status in bySite.EnumerateObject().SelectMany(site => site.Value.EnumerateObject()))
                {
                    foreach (var id in status.Value.EnumerateArray())
                    {
                        // A rejected message is an object with its rules, and without an id when it had none.
                        var messageId = id.ValueKind == System.Text.Json.JsonValueKind.Object ? (id.TryGetProperty("message_id", out var named) ? named : default) : id;
                        if (messageId.ValueKind == System.Text.Json.JsonValueKind.String)
                        {
                            byStatus[status.Name].Add(messageId.GetGuid());
                        }
                    }
                }
            }
        }

        Assert.Subset(ValidIds.ToHashSet(), byStatus["accepted"]);
        Assert.Subset(InvalidIds.ToHashSet(), byStatus["rejected"]);
        Assert.Equal(ValidIds.Concat(InvalidIds).Order(), byStatus.Values.SelectMany(ids => ids).Distinct().Order());
    }
}
