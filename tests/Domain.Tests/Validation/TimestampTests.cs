using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

public sealed class TimestampTests
{
    private static DateTimeOffset ParseTimestamp(string timestamp)
    {
        var json = Vitals();
        json["timestamp"] = timestamp;
        var result = Parse(json);
        AssertValid(result);
        return result.Message!.Timestamp;
    }

    [Fact]
    public void Timestamp_without_offset_is_utc()
    {
        var timestamp = ParseTimestamp("2026-03-01T08:30:00");

        Assert.Equal(new DateTimeOffset(2026, 3, 1, 8, 30, 0, TimeSpan.Zero), timestamp);
        Assert.Equal(TimeSpan.Zero, timestamp.Offset);
    }

    [Fact]
    public void Timestamp_with_offset_is_stored_as_utc()
    {
        var timestamp = ParseTimestamp("2026-03-01T10:30:00+02:00");

        Assert.Equal(new DateTimeOffset(2026, 3, 1, 8, 30, 0, TimeSpan.Zero), timestamp);
        Assert.Equal(TimeSpan.Zero, timestamp.Offset);
    }

    [Fact]
    public void Years_old_timestamp_is_accepted()
    {
        Assert.Equal(new DateTimeOffset(2019, 6, 15, 8, 0, 0, TimeSpan.Zero), ParseTimestamp("2019-06-15T08:00:00Z"));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Timestamp_up_to_five_minutes_ahead_is_accepted(int minutes)
    {
        var ahead = Now.AddMinutes(minutes);

        Assert.Equal(ahead, ParseTimestamp(ahead.ToString("yyyy-MM-ddTHH:mm:ssZ")));
    }

    [Fact]
    public void Timestamp_more_than_five_minutes_ahead_is_rejected()
    {
        var json = Vitals();
        json["timestamp"] = Now.AddMinutes(5).AddSeconds(1).ToString("yyyy-MM-ddTHH:mm:ssZ");

        AssertViolation(Parse(json), "timestamp", "future");
    }

    [Fact]
    public void Onset_in_the_future_is_rejected()
    {
        var json = AdverseEvent();
        json["adverse_event"]!["onset"] = "2026-03-02T12:00:00Z";

        AssertViolation(Parse(json), "adverse_event.onset", "future");
    }

    [Fact]
    public void Enrollment_date_in_the_future_is_rejected()
    {
        var json = Demographics();
        json["patient_demographics"]!["enrollment_date"] = "2026-03-02";

        AssertViolation(Parse(json), "patient_demographics.enrollment_date", "future");
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("01/03/2026 11:00")]
    [InlineData("2026-02-30T11:00:00Z")]
    [InlineData("2026-03-01T25:00:00Z")]
    [InlineData("")]
    public void Timestamp_that_is_not_iso_8601_is_rejected(string timestamp)
    {
        var json = Vitals();
        json["timestamp"] = timestamp;

        AssertViolation(Parse(json), "timestamp", "format");
    }

    [Fact]
    public void Timestamp_as_a_number_is_rejected()
    {
        var json = Vitals();
        json["timestamp"] = 1772362800;

        AssertViolation(Parse(json), "timestamp", "format");
    }
}
