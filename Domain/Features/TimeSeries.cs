using System.Runtime.CompilerServices;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// The last 24 h of one series (all vital signs, or one lab), sorted by clinical second in a circular buffer,
/// with a <see cref="WindowAggregate"/> per signal and window. Windows end at the series' clock and cover
/// (clock - window, clock]; records at or before clock - 24 h are evicted because no window needs them.
/// </summary>
internal sealed class TimeSeries<T>
    where T : struct, ISeriesRecord<T>
{
    private const int Missing = ISeriesRecord<T>.Missing;

    private readonly Signal[] _signals;
    private readonly WindowAggregate[] _windows;
    private T[] _items = [];
    private int _head;
    private int _count;
    private int _clock;

    public TimeSeries(Signal[] signals)
    {
        _signals = signals;
        _windows = new WindowAggregate[T.SignalCount * ClinicalTime.WindowCount];
    }

    public int Count => _count;

    public int ApproximateSizeBytes =>
        64 + (_items.Length * Unsafe.SizeOf<T>()) + (_windows.Length * Unsafe.SizeOf<WindowAggregate>());

    /// <summary>Whether a record at <paramref name="seconds"/> is still inside the 24 h window.</summary>
    public bool Holds(int seconds) => seconds > _clock - ClinicalTime.Day;

    /// <summary>Moves every window's end forward to <paramref name="clock"/>.</summary>
    public void Advance(int clock)
    {
        if (clock <= _clock)
        {
            return;
        }

        for (var w = 0; w < ClinicalTime.WindowCount; w++)
        {
            var leaving = UpperBound(clock - ClinicalTime.WindowSeconds[w]);
            for (var i = UpperBound(_clock - ClinicalTime.WindowSeconds[w]); i < leaving; i++)
            {
                Account(At(i), w, remove: true);
            }
        }

        for (var i = 0; i < _windows.Length; i++)
        {
            _windows[i].Rebase(clock - _clock);
        }

        var evicted = UpperBound(clock - ClinicalTime.Day);
        _head = Physical(evicted);
        _count -= evicted;
        _clock = clock;
    }

    /// <summary>Adds a record inside the 24 h window (see <see cref="Holds"/>), merging it into one at the same second.</summary>
    /// <returns>False when the record changed nothing (a redelivery).</returns>
    public bool Insert(T record)
    {
        var index = LowerBound(record.Seconds);
        if (index < _count && At(index).Seconds == record.Seconds)
        {
            var existing = At(index);
            var merged = existing.Merge(record);
            if (merged.Equals(existing))
            {
                return false;
            }

            ApplyToWindows(existing, remove: true);
            _items[Physical(index)] = merged;
            ApplyToWindows(merged, remove: false);
            return true;
        }

        InsertAt(index, record);
        ApplyToWindows(record, remove: false);
        return true;
    }

    /// <summary>The aggregate of one signal over one window, its minimum and maximum rescanned if a removal made them stale.</summary>
    public ref readonly WindowAggregate Window(int signal, int window)
    {
        ref var aggregate = ref _windows[(signal * ClinicalTime.WindowCount) + window];
        if (aggregate.ExtremesStale)
        {
            var (min, max) = (int.MaxValue, int.MinValue);
            for (var i = UpperBound(_clock - ClinicalTime.WindowSeconds[window]); i < _count; i++)
            {
                var value = At(i).Value(signal);
                if (value != Missing)
                {
                    (min, max) = (Math.Min(min, value), Math.Max(max, value));
                }
            }

            aggregate.SetExtremes(min, max);
        }

        return ref aggregate;
    }

    /// <summary>
    /// The signal's value in the latest record at or before <paramref name="seconds"/>, or
    /// <see cref="ISeriesRecord{TSelf}.Missing"/>: only the records of (clock - 24h, clock] are held, so an older one is not found.
    /// </summary>
    public int LatestAtOrBefore(int signal, int seconds)
    {
        for (var i = UpperBound(seconds) - 1; i >= 0; i--)
        {
            if (At(i).Value(signal) is var value and not Missing)
            {
                return value;
            }
        }

        return Missing;
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(_clock);
        writer.Write(_count);
        for (var i = 0; i < _count; i++)
        {
            At(i).Write(writer);
        }
    }

    /// <summary>Restores the records; the aggregates are rebuilt from them, so they cannot disagree.</summary>
    public void Read(BinaryReader reader)
    {
        _clock = reader.ReadInt32();
        _count = reader.ReadInt32();
        (_items, _head) = (new T[_count], 0);
        for (var i = 0; i < _count; i++)
        {
            _items[i] = T.Read(reader);
            ApplyToWindows(_items[i], remove: false);
        }
    }

    private void ApplyToWindows(T record, bool remove)
    {
        for (var w = 0; w < ClinicalTime.WindowCount; w++)
        {
            if (record.Seconds > _clock - ClinicalTime.WindowSeconds[w])
            {
                Account(record, w, remove);
            }
        }
    }

    private void Account(T record, int window, bool remove)
    {
        var time = record.Seconds - _clock;
        for (var s = 0; s < _signals.Length; s++)
        {
            var value = record.Value(s);
            if (value == Missing)
            {
                continue;
            }

            ref var aggregate = ref _windows[(s * ClinicalTime.WindowCount) + window];
            if (remove)
            {
                aggregate.Remove(time, value, _signals[s].IsAbnormal(value));
            }
            else
            {
                aggregate.Add(time, value, _signals[s].IsAbnormal(value));
            }
        }
    }

    private void InsertAt(int index, T record)
    {
        if (_count == _items.Length)
        {
            // Double while small, then grow by 1/32: 24 h of minute vitals (1,440 records) must fit the
            // per-patient memory budget, which leaves no room for doubling's slack at that size.
            var grown = new T[_count + (_count < 1024 ? Math.Max(8, _count) : _count / 32)];
            for (var i = 0; i < _count; i++)
            {
                grown[i] = At(i);
            }

            (_items, _head) = (grown, 0);
        }

        // Late records usually land near the end, so shifting the tail is short.
        for (var i = _count; i > index; i--)
        {
            _items[Physical(i)] = At(i - 1);
        }

        _items[Physical(index)] = record;
        _count++;
    }

    private T At(int index) => _items[Physical(index)];

    private int Physical(int index)
    {
        var physical = _head + index;
        return physical >= _items.Length ? physical - _items.Length : physical;
    }

    private int LowerBound(int seconds) => UpperBound(seconds - 1);

    /// <summary>The logical index of the first record after <paramref name="seconds"/>.</summary>
    private int UpperBound(int seconds)
    {
        var (low, high) = (0, _count);
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (At(middle).Seconds <= seconds)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
