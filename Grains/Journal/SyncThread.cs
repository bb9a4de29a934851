namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// Runs one action on a thread of its own each time it is started, so the journal's writer can sync one file while
/// this thread syncs another. Start and Wait alternate, from one thread.
/// </summary>
internal sealed class SyncThread : IDisposable
{
    private readonly Action _action;
    private readonly SemaphoreSlim _started = new(0);
    private readonly SemaphoreSlim _finished = new(0);
    private readonly Thread _thread;
    private Exception? _error;
    private volatile bool _stopping;

    public SyncThread(Action action, string name)
    {
        _action = action;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public void Start() => _started.Release();

    /// <summary>Waits for the run <see cref="Start"/> began; returns what it threw, if anything.</summary>
    public Exception? Wait()
    {
        _finished.Wait();
        var error = _error;
        _error = null;
        return error;
    }

    private void Run()
    {
        while (true)
        {
            _started.Wait();
            if (_stopping)
            {
                return;
            }

            try
            {
                _action();
            }
            catch (Exception e)
            {
                _error = e;
            }

            _finished.Release();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _started.Release();
        _thread.Join();
        _started.Dispose();
        _finished.Dispose();
    }
}
