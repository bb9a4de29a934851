using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// One patient's feature state: the single code path for online serving and offline training.
/// <para>
/// Online, call <see cref="Apply"/> per event in arrival order; <see cref="Current"/> is then the vector as of the
/// latest clinical time seen, kept up to date by Apply so a reader never recomputes. Offline,
/// <see cref="FeatureReplay"/> applies a history in timestamp order and calls <see cref="AdvanceTo"/> at each
/// evaluation time. Every aggregate is an exact integer sum or an order-free rule, so both give bit-identical vectors.
/// </para>
/// <para>
/// Redeliveries change nothing: vital signs and labs merge by (clinical second, signal), which a repeated
/// message id always repeats, and adverse events are kept by message id. One instance per patient; not thread-safe.
/// </para>
/// </summary>
public sealed class PatientFeatureState
{
    private const byte FormatVersion = 2; // 2: 26 lab signals (1 had 6)

    private readonly TimeSeries<VitalRecord> _vitals = new(Signals.All[..Signals.VitalCount]);
    private readonly TimeSeries<LabPoint>[] _labs =
        [.. Enumerable.Range(Signals.VitalCount, Signals.LabCount).Select(s => new TimeSeries<LabPoint>([Signals.All[s]]))];

    private readonly double[] _current = new double[FeatureCatalogue.Count];
    private bool _hasClock;
    private bool _hasEvent;

    public PatientFeatureState() => FeatureVectorWriter.Write(this, _current);

    /// <summary>The evaluation time t of <see cref="Current"/>: the latest event second or <see cref="AdvanceTo"/> time.</summary>
    public DateTimeOffset? AsOf => _hasClock ? ClinicalTime.ToTimestamp(ClockSeconds) : null;

    /// <summary>A snapshot of the vector as of <see cref="AsOf"/>, using only events with timestamp &lt;= AsOf.</summary>
    public FeatureVector Current => new(AsOf, _current.ToArray());

    /// <summary>The same values as <see cref="Current"/> without a copy; valid until the next Apply or AdvanceTo.</summary>
    public ReadOnlySpan<double> CurrentValues => _current;

    /// <summary>Approximate bytes held for this patient (records, aggregates, the cached vector).</summary>
    public int ApproximateSizeBytes =>
        96 + _vitals.ApproximateSizeBytes + _labs.Sum(l => l.ApproximateSizeBytes) + SignalHistory.ApproximateSizeBytes
        + AdverseEvents.ApproximateSizeBytes + PatientContext.ApproximateSizeBytes + (_current.Length * sizeof(double));

    internal int ClockSeconds { get; private set; }

    internal int FirstEventSeconds { get; private set; }

    internal bool HasEvent => _hasEvent;

    internal SignalHistory History { get; } = new();

    internal AdverseEventHistory AdverseEvents { get; } = new();

    internal PatientContext Context { get; } = new();

    internal int VitalRecordCount => _vitals.Count;

    internal int LabResultCount
    {
        get
        {
            // A loop, not LINQ: this runs on every Apply and should not allocate.
            var count = 0;
            foreach (var lab in _labs)
            {
                count += lab.Count;
            }

            return count;
        }
    }

    /// <summary>Applies one event of this patient, in any order; a late event lands in the windows of its own timestamp.</summary>
    /// <returns>False when the event changed nothing (a redelivery); the vector is then not recomputed.</returns>
    public bool Apply(ClinicalMessage message)
    {
        var seconds = ClinicalTime.EventSeconds(message.Timestamp);
        var changed = MoveClock(seconds);
        if (!_hasEvent || seconds < FirstEventSeconds)
        {
            (FirstEventSeconds, _hasEvent, changed) = (seconds, true, true);
        }

        changed |= Context.Observe(seconds, message);
        changed |= message.Payload switch
        {
            VitalSigns vitals => ApplyVitals(seconds, vitals),
            LabResults labs => ApplyLabs(seconds, labs),
            AdverseEvent adverseEvent => AdverseEvents.Add(message.MessageId, seconds, adverseEvent),
            _ => false,
        };

        if (changed)
        {
            FeatureVectorWriter.Write(this, _current);
        }

        return changed;
    }

    /// <summary>
    /// Moves t forward to <paramref name="asOf"/> with no new event: windows slide and "hours since" features grow.
    /// A time at or before the current t changes nothing, since the state cannot forget events.
    /// </summary>
    public void AdvanceTo(DateTimeOffset asOf)
    {
        if (MoveClock(ClinicalTime.EvaluationSeconds(asOf)))
        {
            FeatureVectorWriter.Write(this, _current);
        }
    }

    /// <summary>The state in a versioned binary format (records and small aggregates; window sums are rebuilt on load).</summary>
    public byte[] Serialize()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(FormatVersion);
            writer.Write(_hasClock);
            writer.Write(ClockSeconds);
            writer.Write(_hasEvent);
            writer.Write(FirstEventSeconds);
            _vitals.Write(writer);
            foreach (var lab in _labs)
            {
                lab.Write(writer);
            }

            History.Write(writer);
            AdverseEvents.Write(writer);
            Context.Write(writer);
        }

        return stream.ToArray();
    }

    /// <summary>Restores a state written by <see cref="Serialize"/>; throws <see cref="InvalidDataException"/> for an unknown format.</summary>
    public static PatientFeatureState Deserialize(byte[] data)
    {
        using var reader = new BinaryReader(new MemoryStream(data));
        var format = reader.ReadByte();
        if (format != FormatVersion)
        {
            throw new InvalidDataException($"Unknown feature state format {format}; this build reads format {FormatVersion}.");
        }

        var state = new PatientFeatureState { _hasClock = reader.ReadBoolean(), ClockSeconds = reader.ReadInt32() };
        (state._hasEvent, state.FirstEventSeconds) = (reader.ReadBoolean(), reader.ReadInt32());
        state._vitals.Read(reader);
        foreach (var lab in state._labs)
        {
            lab.Read(reader);
        }

        state.History.Read(reader);
        state.AdverseEvents.Read(reader);
        state.Context.Read(reader);
        FeatureVectorWriter.Write(state, state._current);
        return state;
    }

    /// <summary>The signal's latest fixed-point value if it was measured in (t - 24h, t], else null.</summary>
    internal int? LatestWithinDay(int signal) =>
        History.HasValue(signal) && History.LastSeconds(signal) > ClockSeconds - ClinicalTime.Day ? History.LastValue(signal) : null;

    /// <summary>The signal's latest fixed-point value with timestamp in (t - 24h, <paramref name="seconds"/>], else null.</summary>
    internal int? LatestWithinDayAtOrBefore(int signal, int seconds)
    {
        var value = signal < Signals.VitalCount
            ? _vitals.LatestAtOrBefore(signal, seconds)
            : _labs[signal - Signals.VitalCount].LatestAtOrBefore(0, seconds);
        return value == ISeriesRecord<VitalRecord>.Missing ? null : value;
    }

    internal ref readonly WindowAggregate Window(int signal, int window) => ref signal < Signals.VitalCount
        ? ref _vitals.Window(signal, window)
        : ref _labs[signal - Signals.VitalCount].Window(0, window);

    private bool MoveClock(int seconds)
    {
        if (_hasClock && seconds <= ClockSeconds)
        {
            return false;
        }

        (ClockSeconds, _hasClock) = (seconds, true);
        _vitals.Advance(seconds);
        foreach (var lab in _labs)
        {
            lab.Advance(seconds);
        }

        return true;
    }

    private bool ApplyVitals(int seconds, VitalSigns vitals)
    {
        var record = VitalRecord.From(seconds, vitals);
        var changed = false;
        for (var s = 0; s < Signals.VitalCount; s++)
        {
            if (record.Value(s) is var value and not ISeriesRecord<VitalRecord>.Missing)
            {
                changed |= History.Observe(s, seconds, value);
            }
        }

        return (_vitals.Holds(seconds) && _vitals.Insert(record)) | changed;
    }

    private bool ApplyLabs(int seconds, LabResults labs)
    {
        var changed = false;
        foreach (var result in labs.Results)
        {
            var signal = result.IsStandardisedBloodValue ? Signals.LabSignal(result.TestCode) : -1;
            if (signal < 0)
            {
                continue;
            }

            var value = Signals.All[signal].ToFixed(result.Value!.Value);
            var series = _labs[signal - Signals.VitalCount];
            changed |= History.Observe(signal, seconds, value);
            changed |= series.Holds(seconds) && series.Insert(new LabPoint(seconds, value));
        }

        return changed;
    }
}
