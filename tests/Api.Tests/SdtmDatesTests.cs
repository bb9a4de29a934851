using ClinicalTrials.Api.Sdtm;

namespace ClinicalTrials.Api.Tests;

/// <summary>SDTM --DTC values, partial ones completed with the earliest instant they can mean.</summary>
public sealed class SdtmDatesTests
{
    [Theory]
    [InlineData("2013-01-14T10:30:15", "2013-01-14T10:30:15Z", false)]
    [InlineData("2013-01-14T10:30", "2013-01-14T10:30:00Z", false)]
    [InlineData("2013-01-14T10:30:15.25+02:00", "2013-01-14T08:30:15.25Z", false)]
    [InlineData("2013-01-14T10", "2013-01-14T10:00:00Z", true)]
    [InlineData("2013-01-14", "2013-01-14T00:00:00Z", true)]
    [InlineData("2013-01", "2013-01-01T00:00:00Z", true)]
    [InlineData("2013", "2013-01-01T00:00:00Z", true)]
    [InlineData("2013---15", "2013-01-01T00:00:00Z", true)]
    [InlineData("2013-01-14/2013-01-20", "2013-01-14T00:00:00Z", true)]
    public void A_date_is_completed_with_the_earliest_instant_it_can_mean(string dtc, string expected, bool imputed)
    {
        var parsed = SdtmDates.Parse(dtc);

        Assert.NotNull(parsed);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), parsed.Value.At);
        Assert.Equal(imputed, parsed.Value.Imputed);
    }

    [Theory]
    [InlineData("14/01/2013")]
    [InlineData("2013-02-30")]
    [InlineData("2013-13")]
    [InlineData("2013-01-14T25:00")]
    [InlineData("P3D")]
    public void Not_a_date_is_refused(string dtc) => Assert.Null(SdtmDates.Parse(dtc));

    [Fact]
    public void A_date_written_back_reads_as_the_same_instant()
    {
        var at = new DateTimeOffset(2026, 11, 20, 8, 15, 30, TimeSpan.Zero).AddTicks(1230);

        Assert.Equal(at, SdtmDates.Parse(SdtmDates.Format(at))!.Value.At);
        Assert.Equal("2026-11-20T08:15:30", SdtmDates.Format(at.AddTicks(-1230)));
    }
}
