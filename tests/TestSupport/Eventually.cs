using System.Diagnostics;

namespace ClinicalTrials.TestSupport;

/// <summary>
/// Waiting for a condition that other processes or background work bring about: polled until it holds, failing the
/// test at a deadline. The one way tests wait; a fixed sleep would either waste time or pass on a lucky schedule.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Polls <paramref name="read"/> until what it reads <paramref name="holds"/>, and returns that; fails with the last
    /// value read when <paramref name="timeout"/> passes first.
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> holds, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (holds(value))
            {
                return value;
            }

            Assert.True(deadline.Elapsed < timeout, $"Not within {timeout.TotalSeconds} s: {what} (last read: {value})");
            await Task.Delay(PollInterval, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Polls <paramref name="read"/> until it returns a value or <paramref name="timeout"/> passes (then fails).</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> read, TimeSpan timeout, string what)
        where T : class =>
        (await UntilAsync(read, value => value is not null, timeout, what))!;

    /// <summary>Polls <paramref name="holds"/> until it is true or <paramref name="timeout"/> passes (then fails).</summary>
    public static Task UntilAsync(Func<bool> holds, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(holds()), held => held, timeout, what);
}
