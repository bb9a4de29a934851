using System.Diagnostics;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>Waiting for a condition that other processes or background work bring about.</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="read"/> until it returns a value or <paramref name="timeout"/> passes (then fails).</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> read, TimeSpan timeout, string what)
        where T : class
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (await read() is { } value)
            {
                return value;
            }

            Assert.True(deadline.Elapsed < timeout, $"Not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
