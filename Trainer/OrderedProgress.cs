namespace ClinicalTrials.Trainer;

/// <summary>
/// Hands each report to <paramref name="show"/> on the reporting thread, one at a time and in the order reported.
/// <see cref="Progress{T}"/> does neither without a synchronisation context: a console command has none, so it ran
/// its handler on pool threads concurrently and out of order, and a handler that keeps state (the progress display's
/// task table) broke the process with an unhandled exception. Training lines may be reported from ML.NET's threads,
/// hence the lock.
/// </summary>
public sealed class OrderedProgress<T>(Action<T> show) : IProgress<T>
{
    private readonly Lock gate = new();

    public void Report(T value)
    {
        lock (gate)
        {
            show(value);
        }
    }
}
