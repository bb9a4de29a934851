using System.Net.Http.Headers;
using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>Logging:Console:FormatterName=json: one JSON object per line, with message_id and the request's trace_id as fields.</summary>
public sealed class JsonLogTests
{
    [Fact]
    public async Task A_rejected_message_is_logged_as_json_with_its_message_id_and_the_requests_trace_id_and_no_patient_value()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        await using var silo = await SiloProcess.StartAsync(data.Path, cancellation,
            "--Logging:Console:FormatterName=json", "--Logging:LogLevel:ClinicalTrials.Grains.Ingest=Debug", "--Pipeline:ScheduleEnabled=false");
        using var http = silo.CreateClient();
        var patient = NewPatientId();
        var message = HeartRateOnly(987.25, patientId: patient); // a value no id, time or count in a log line can contain
        var traceId = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/clinical/data") { Content = Json(message) };
        request.Headers.Add("traceparent", $"00-{traceId}-{Guid.NewGuid().ToString("N")[..16]}-01");

        await (await http.SendAsync(request, cancellation)).ExpectAsync(400);

        var line = await Eventually.UntilAsync(() => Task.FromResult(silo.Output.Split('\n').FirstOrDefault(l => l.Contains(IdOf(message).ToString(), StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), "the rejection's log line");
        using var log = JsonDocument.Parse(line);
        Assert.Equal(IdOf(message).ToString(), log.RootElement.GetProperty("message_id").GetString());
        Assert.Equal(traceId, log.RootElement.GetProperty("trace_id").GetString());
        Assert.Equal("Debug", log.RootElement.GetProperty("level").GetString());
        Assert.Equal("vital_signs.heart_rate:range", log.RootElement.GetProperty("violations").GetString());
        Assert.DoesNotContain(patient, line, StringComparison.Ordinal);
        Assert.DoesNotContain("987.25", line, StringComparison.Ordinal);
    }
}
