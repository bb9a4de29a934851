namespace ClinicalTrials.Domain.Features;

/// <summary>
/// Integer sums over the values of one signal inside one window. Every sum is exact, so adding and removing the
/// same set of values in any order gives the same state; the statistics are then computed from the sums by one
/// formula. Times are seconds relative to the window's end (always in (-window, 0]), which keeps every sum in a
/// long; <see cref="Rebase"/> shifts them when the end moves.
/// </summary>
internal struct WindowAggregate
{
    public int Count;
    public int AbnormalCount;
    public long Sum;
    public long SumOfSquares;
    public long SumOfTimes;
    public long SumOfTimeSquares;
    public long SumOfTimeValues;
    public int Min;
    public int Max;

    /// <summary>
    /// A removed value was the minimum or maximum: they must be rescanned before they are read. Marked by
    /// Min &gt; Max rather than a flag: a bool would pad the struct from 56 to 64 bytes, and a patient keeps 96 of them.
    /// </summary>
    public readonly bool ExtremesStale => Count > 0 && Min > Max;

    public void Add(int time, int value, bool abnormal)
    {
        if (Count == 0)
        {
            Min = value;
            Max = value;
        }
        else if (!ExtremesStale)
        {
            Min = Math.Min(Min, value);
            Max = Math.Max(Max, value);
        }

        Count++;
        AbnormalCount += abnormal ? 1 : 0;
        Sum += value;
        SumOfSquares += (long)value * value;
        SumOfTimes += time;
        SumOfTimeSquares += (long)time * time;
        SumOfTimeValues += (long)time * value;
    }

    public void Remove(int time, int value, bool abnormal)
    {
        Count--;
        AbnormalCount -= abnormal ? 1 : 0;
        Sum -= value;
        SumOfSquares -= (long)value * value;
        SumOfTimes -= time;
        SumOfTimeSquares -= (long)time * time;
        SumOfTimeValues -= (long)time * value;
        if (Count > 0 && (value == Min || value == Max))
        {
            (Min, Max) = (int.MaxValue, int.MinValue);
        }
    }

    /// <summary>Sets the extremes found by a rescan of the window's values (at least one: the window is not empty).</summary>
    public void SetExtremes(int min, int max) => (Min, Max) = (min, max);

    /// <summary>Moves the time origin <paramref name="shift"/> seconds later: every stored time t becomes t - shift.</summary>
    public void Rebase(long shift)
    {
        if (Count == 0)
        {
            return;
        }

        SumOfTimeSquares += (-2 * shift * SumOfTimes) + (Count * shift * shift);
        SumOfTimeValues -= shift * Sum;
        SumOfTimes -= Count * shift;
    }

    public readonly double Mean(Signal signal) => Count == 0 ? double.NaN : signal.ToValue((double)Sum / Count);

    /// <summary>Sample standard deviation; NaN below two values.</summary>
    public readonly double StandardDeviation(Signal signal)
    {
        if (Count < 2)
        {
            return double.NaN;
        }

        var numerator = ((Int128)Count * SumOfSquares) - ((Int128)Sum * Sum);
        return signal.ToValue(Math.Sqrt((double)numerator / ((double)Count * (Count - 1))));
    }

    /// <summary>Least-squares slope in signal units per hour; NaN unless values exist at two different times.</summary>
    public readonly double SlopePerHour(Signal signal)
    {
        var denominator = ((Int128)Count * SumOfTimeSquares) - ((Int128)SumOfTimes * SumOfTimes);
        if (Count < 2 || denominator == 0)
        {
            return double.NaN;
        }

        var numerator = ((Int128)Count * SumOfTimeValues) - ((Int128)SumOfTimes * Sum);
        return signal.ToValue((double)numerator / (double)denominator * ClinicalTime.Hour);
    }
}
