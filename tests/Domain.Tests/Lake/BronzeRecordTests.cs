using System.Text;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using FsCheck;
using FsCheck.Fluent;

namespace ClinicalTrials.Domain.Tests.Lake;

public sealed class BronzeRecordTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 3, 1, 9, 15, 42, 123, TimeSpan.Zero);

    private static BronzeRecord RoundTrip(BronzeRecord record)
    {
        var line = record.ToLine();
        Assert.Equal((byte)'\n', line[^1]);
        Assert.Equal(-1, Array.IndexOf(line, (byte)'\n', 0, line.Length - 1));
        Assert.True(BronzeRecord.TryParse(line, out var parsed));
        return parsed;
    }

    [Fact]
    public void Raw_bytes_with_unicode_survive_the_round_trip_exactly()
    {
        var raw = Encoding.UTF8.GetBytes("""{"event_term":"Übelkeit 吐き気 🤢","note":"quote \" backslash \\ tab \t"}""");
        var id = Guid.NewGuid();

        var parsed = RoundTrip(new BronzeRecord(id, ReceivedAt, raw, []));

        Assert.Equal(raw, parsed.Raw.ToArray());
        Assert.Equal(id, parsed.MessageId);
        Assert.Equal(ReceivedAt, parsed.ReceivedAt);
        Assert.Empty(parsed.Violations);
    }

    [Fact]
    public void Pretty_printed_body_is_kept_byte_for_byte_on_one_line()
    {
        var raw = Encoding.UTF8.GetBytes("{\r\n  \"message_id\" : \"x\",\n\t\"vital_signs\": {\n    \"heart_rate\": 72\n  }\n}\n");

        var parsed = RoundTrip(new BronzeRecord(Guid.NewGuid(), ReceivedAt, raw, []));

        Assert.Equal(raw, parsed.Raw.ToArray());
    }

    [Fact]
    public void Invalid_utf8_is_kept_as_base64()
    {
        byte[] raw = [0x7B, 0x22, 0xFF, 0xFE, 0xC0, 0xAF, 0x22, 0x7D];
        var record = new BronzeRecord(null, ReceivedAt, raw, [new Violation("$", Rules.Json, "not UTF-8")]);

        var line = Encoding.UTF8.GetString(record.ToLine());
        var parsed = RoundTrip(record);

        Assert.Contains("\"raw_base64\":", line);
        Assert.DoesNotContain("\"raw\":", line);
        Assert.Equal(raw, parsed.Raw.ToArray());
        Assert.Null(parsed.MessageId);
    }

    [Fact]
    public void Quarantine_violations_survive_the_round_trip()
    {
        Violation[] violations =
        [
            new("vital_signs.heart_rate", Rules.Range, "400 is outside 20..300."),
            new("site_id", Rules.Required, "'site_id' is required — «missing»."),
        ];

        var parsed = RoundTrip(new BronzeRecord(Guid.NewGuid(), ReceivedAt, "{}"u8.ToArray(), violations));

        Assert.Equal(violations, parsed.Violations);
    }

    [Fact]
    public void Torn_line_is_not_a_record()
    {
        var line = new BronzeRecord(Guid.NewGuid(), ReceivedAt, Encoding.UTF8.GetBytes("""{"heart_rate":72,"term":"吐き気"}"""), []).ToLine();

        for (var length = 0; length < line.Length - 2; length++)
        {
            Assert.False(BronzeRecord.TryParse(line.AsSpan(0, length), out _), $"A line cut at {length} of {line.Length} bytes parsed.");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"message_id\":\"nope\",\"received_at\":\"2026-03-01T09:00:00Z\",\"raw\":\"{}\"}")]
    [InlineData("{\"message_id\":\"6f1c3f9e-1c5b-4a53-9d1a-0b0c4c7d2e11\",\"raw\":\"{}\"}")]
    [InlineData("{\"received_at\":\"2026-03-01T09:00:00Z\"}")]
    public void Line_that_is_not_a_bronze_record_is_refused(string line)
    {
        Assert.False(BronzeRecord.TryParse(Encoding.UTF8.GetBytes(line), out _));
    }

    [Fact]
    public void Any_bytes_survive_the_round_trip()
    {
        Prop.ForAll<byte[]>(raw =>
        {
            var line = new BronzeRecord(Guid.NewGuid(), ReceivedAt, raw, []).ToLine();
            return Array.IndexOf(line, (byte)'\n') == line.Length - 1
                && BronzeRecord.TryParse(line, out var parsed)
                && parsed.Raw.Span.SequenceEqual(raw);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Any_text_survives_the_round_trip()
    {
        Prop.ForAll<string>(text =>
        {
            var raw = Encoding.UTF8.GetBytes(text ?? "");
            return BronzeRecord.TryParse(new BronzeRecord(null, ReceivedAt, raw, []).ToLine(), out var parsed)
                && parsed.Raw.Span.SequenceEqual(raw);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Partitions_are_by_type_date_and_utc_hour()
    {
        var at = new DateTimeOffset(2026, 3, 1, 23, 30, 0, TimeSpan.FromHours(-5));

        Assert.Equal("raw/lab_results/date=2026-03-02/hour=04", BronzeRecord.RawPartition(PayloadType.LabResults, at));
        Assert.Equal("quarantine/date=2026-03-02/hour=04", BronzeRecord.QuarantinePartition(at));
    }
}
