namespace ClinicalTrials.Domain.Features;

/// <summary>
/// What the engine remembers of each signal beyond 24 h: its latest value and its baseline. Both are kept by
/// rules that ignore arrival order and repeats (the latest second wins, equal seconds keep the larger value;
/// the baseline is the earliest <see cref="BaselineSize"/> seconds), so a very late event needs no de-duplication.
/// </summary>
internal sealed class SignalHistory
{
    /// <summary>
    /// The baseline is the mean of a signal's first five measurements by clinical time. A count rather than
    /// "the first 24 h" keeps it exact in a fixed 40 bytes: an earlier late event simply displaces the latest one.
    /// </summary>
    public const int BaselineSize = 5;

    private readonly int[] _lastSeconds = new int[Signals.All.Length];
    private readonly int[] _lastValue = new int[Signals.All.Length];
    private readonly int[] _baselineCount = new int[Signals.All.Length];
    private readonly (int Seconds, int Value)[] _baseline = new (int, int)[Signals.All.Length * BaselineSize];

    public static int ApproximateSizeBytes => 64 + (Signals.All.Length * ((3 * sizeof(int)) + (BaselineSize * 8)));

    public bool HasValue(int signal) => _baselineCount[signal] > 0;

    public int LastSeconds(int signal) => _lastSeconds[signal];

    public int LastValue(int signal) => _lastValue[signal];

    /// <summary>The fixed-point sum and count of the baseline measurements.</summary>
    public (long Sum, int Count) Baseline(int signal)
    {
        var sum = 0L;
        for (var i = 0; i < _baselineCount[signal]; i++)
        {
            sum += _baseline[(signal * BaselineSize) + i].Value;
        }

        return (sum, _baselineCount[signal]);
    }

    /// <returns>False when the measurement changed nothing here.</returns>
    public bool Observe(int signal, int seconds, int value)
    {
        var newer = !HasValue(signal) || seconds > _lastSeconds[signal] || (seconds == _lastSeconds[signal] && value > _lastValue[signal]);
        if (newer)
        {
            (_lastSeconds[signal], _lastValue[signal]) = (seconds, value);
        }

        return ObserveBaseline(signal, seconds, value) | newer;
    }

    public void Write(BinaryWriter writer)
    {
        for (var s = 0; s < Signals.All.Length; s++)
        {
            writer.Write(_baselineCount[s]);
            writer.Write(_lastSeconds[s]);
            writer.Write(_lastValue[s]);
            for (var i = 0; i < _baselineCount[s]; i++)
            {
                writer.Write(_baseline[(s * BaselineSize) + i].Seconds);
                writer.Write(_baseline[(s * BaselineSize) + i].Value);
            }
        }
    }

    public void Read(BinaryReader reader)
    {
        for (var s = 0; s < Signals.All.Length; s++)
        {
            _baselineCount[s] = reader.ReadInt32();
            _lastSeconds[s] = reader.ReadInt32();
            _lastValue[s] = reader.ReadInt32();
            for (var i = 0; i < _baselineCount[s]; i++)
            {
                _baseline[(s * BaselineSize) + i] = (reader.ReadInt32(), reader.ReadInt32());
            }
        }
    }

    private bool ObserveBaseline(int signal, int seconds, int value)
    {
        var entries = _baseline.AsSpan(signal * BaselineSize, BaselineSize);
        var count = _baselineCount[signal];
        var index = 0;
        while (index < count && entries[index].Seconds < seconds)
        {
            index++;
        }

        if (index < count && entries[index].Seconds == seconds)
        {
            var larger = value > entries[index].Value;
            entries[index].Value = Math.Max(entries[index].Value, value);
            return larger;
        }

        if (index == BaselineSize)
        {
            return false;
        }

        // Once full, a later-arriving earlier measurement pushes the latest one out; it can never come back in.
        var kept = Math.Min(count, BaselineSize - 1);
        entries[index..kept].CopyTo(entries[(index + 1)..]);
        entries[index] = (seconds, value);
        _baselineCount[signal] = kept + 1;
        return true;
    }
}
