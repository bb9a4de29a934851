using System.Text;
using System.Text.Json;

namespace ClinicalTrials.Api.Tests;

/// <summary>Cutting a batch body into its messages, counted as it goes.</summary>
public sealed class BatchSplitterTests
{
    [Fact]
    public void Array_elements_are_cut_with_their_exact_bytes()
    {
        var body = Encoding.UTF8.GetBytes(" [ {\"a\": [1, {\"b\": 2}]} ,\"text\", 42,\n{}] ");

        var messages = BatchSplitter.Split(body, isJsonArray: true, limit: 10);

        Assert.Equal(["{\"a\": [1, {\"b\": 2}]}", "\"text\"", "42", "{}"], messages.Select(m => Encoding.UTF8.GetString(m.Span)));
    }

    [Theory]
    [InlineData("[{}, {}")]
    [InlineData("[{}] {}")]
    [InlineData("{}")]
    public void Array_that_is_not_well_formed_is_refused(string body)
    {
        Assert.ThrowsAny<JsonException>(() => BatchSplitter.Split(Encoding.UTF8.GetBytes(body), isJsonArray: true, limit: 10));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Splitting_stops_one_message_past_the_limit_without_reading_the_rest(bool isJsonArray)
    {
        const int items = 5_000_000;
        var body = Encoding.UTF8.GetBytes(isJsonArray
            ? "[" + string.Join(",", Enumerable.Repeat("{}", items)) + "]"
            : string.Join("\n", Enumerable.Repeat("{}", items)));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var messages = BatchSplitter.Split(body, isJsonArray, ClinicalDataApi.MaxBatchMessages);

        Assert.Equal(ClinicalDataApi.MaxBatchMessages + 1, messages.Count);
        // The list of ranges only (16 bytes per message, grown by doubling), whatever the body holds.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1024 * 1024);
    }
}
