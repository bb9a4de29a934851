using System.Diagnostics;

namespace ClinicalTrials.Grains.Cluster;

/// <summary>
/// A grain call a silo makes as it starts (starting the scheduler's, the monitor's or the retraining grain's reminder).
/// In a cluster that grain may live on a silo that died and that membership has not yet declared dead: until it has,
/// the call fails with a <see cref="RetriableFailure"/>, and a silo whose start-up task throws stops itself. A silo
/// restarted after a kill -9 did exactly that while another was still being declared dead. So the call is made again,
/// <see cref="Pause"/> apart, until it succeeds or <see cref="Patience"/> has passed (membership declares a dead silo
/// within seconds); any other failure stops the start at once, as before.
/// </summary>
public static class StartupCalls
{
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public static readonly TimeSpan Pause = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(Func<Task> call, CancellationToken cancellationToken) =>
        await RunAsync(call, Pause, Patience, cancellationToken);

    /// <summary>As <see cref="RunAsync(Func{Task}, CancellationToken)"/>, with the pause and patience given (tests).</summary>
    public static async Task RunAsync(Func<Task> call, TimeSpan pause, TimeSpan patience, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (Exception e) when (RetriableFailure.Is(e) && !cancellationToken.IsCancellationRequested && elapsed.Elapsed < patience)
            {
                await Task.Delay(pause, cancellationToken);
            }
        }
    }
}
