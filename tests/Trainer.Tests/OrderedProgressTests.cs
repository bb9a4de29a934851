using ClinicalTrials.Trainer;
using Xunit;

namespace ClinicalTrials.Trainer.Tests;

public sealed class OrderedProgressTests
{
    [Fact]
    public void A_report_is_shown_before_Report_returns_and_in_order()
    {
        var shown = new List<int>();
        var progress = new OrderedProgress<int>(shown.Add);
        for (var i = 0; i < 1000; i++)
        {
            progress.Report(i);
            Assert.Equal(i, shown[^1]);
        }

        Assert.Equal(Enumerable.Range(0, 1000), shown);
    }

    [Fact]
    public async Task Reports_from_several_threads_never_run_the_handler_at_once()
    {
        var inside = 0;
        var overlaps = 0;
        var shown = new Dictionary<int, int>();
        var progress = new OrderedProgress<int>(value =>
        {
            if (Interlocked.Increment(ref inside) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            shown[value] = value;
            foreach (var _ in shown.Values)
            {
            }

            Interlocked.Decrement(ref inside);
        });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                progress.Report(t * 1000 + i);
            }
        }, TestContext.Current.CancellationToken)));

        Assert.Equal(0, overlaps);
        Assert.Equal(2000, shown.Count);
    }
}
