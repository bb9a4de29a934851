using ClinicalTrials.Models.Scoring;

namespace ClinicalTrials.Grains.Models;

/// <summary>
/// A model in memory with a count of the calls using it. When a promotion replaces it, it is retired and its ONNX
/// Runtime session is disposed only once the last call using it has finished, so a swap fails no prediction.
/// </summary>
internal sealed class LoadedModel(OnnxModel model)
{
    private int _leases;
    private int _retired;
    private int _disposed;

    public OnnxModel Model => model;

    /// <summary>Takes a lease; false when the model has been retired meanwhile (the caller should take the new one).</summary>
    public bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (Volatile.Read(ref _retired) == 1)
        {
            Release();
            return false;
        }

        return true;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) == 1)
        {
            DisposeOnce();
        }
    }

    /// <summary>No new leases; the session goes when the current ones are released.</summary>
    public void Retire()
    {
        // Exchange is a full fence: the lease count read below cannot move before the flag is visible.
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _leases) == 0)
        {
            DisposeOnce();
        }
    }

    private void DisposeOnce()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            model.Dispose();
        }
    }
}
