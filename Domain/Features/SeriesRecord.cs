namespace ClinicalTrials.Domain.Features;

/// <summary>
/// A stored measurement at one clinical second, holding one value per signal of its series.
/// Two records at the same second merge by taking, per signal, the larger value: merging is commutative and
/// idempotent, so a redelivered message changes nothing and arrival order cannot change the result.
/// </summary>
internal interface ISeriesRecord<TSelf> : IEquatable<TSelf>
    where TSelf : struct, ISeriesRecord<TSelf>
{
    /// <summary>The value of a signal this record does not carry.</summary>
    const int Missing = int.MinValue;

    static abstract int SignalCount { get; }

    int Seconds { get; }

    int Value(int signal);

    TSelf Merge(TSelf other);

    void Write(BinaryWriter writer);

    static abstract TSelf Read(BinaryReader reader);
}

/// <summary>One vital-signs message in 16 bytes: its second and six values x10 (short.MinValue when absent).</summary>
internal readonly record struct VitalRecord(int Seconds, short Systolic, short Diastolic, short HeartRate, short Temperature, short Saturation, short Respiratory)
    : ISeriesRecord<VitalRecord>
{
    private const short Absent = short.MinValue;

    public static int SignalCount => Signals.VitalCount;

    public static VitalRecord From(int seconds, Messages.VitalSigns vitals) => new(
        seconds, Fixed(vitals.SystolicBp), Fixed(vitals.DiastolicBp), Fixed(vitals.HeartRate),
        Fixed(vitals.TemperatureCelsius), Fixed(vitals.OxygenSaturation), Fixed(vitals.RespiratoryRate));

    public int Value(int signal)
    {
        var value = signal switch
        {
            Signals.SystolicBp => Systolic,
            Signals.DiastolicBp => Diastolic,
            Signals.HeartRate => HeartRate,
            Signals.Temperature => Temperature,
            Signals.OxygenSaturation => Saturation,
            _ => Respiratory,
        };
        return value == Absent ? ISeriesRecord<VitalRecord>.Missing : value;
    }

    // Absent is short.MinValue, so Max also fills a value one message lacks from the other.
    public VitalRecord Merge(VitalRecord other) => new(
        Seconds, Math.Max(Systolic, other.Systolic), Math.Max(Diastolic, other.Diastolic), Math.Max(HeartRate, other.HeartRate),
        Math.Max(Temperature, other.Temperature), Math.Max(Saturation, other.Saturation), Math.Max(Respiratory, other.Respiratory));

    public void Write(BinaryWriter writer)
    {
        writer.Write(Seconds);
        writer.Write(Systolic);
        writer.Write(Diastolic);
        writer.Write(HeartRate);
        writer.Write(Temperature);
        writer.Write(Saturation);
        writer.Write(Respiratory);
    }

    public static VitalRecord Read(BinaryReader reader) => new(
        reader.ReadInt32(), reader.ReadInt16(), reader.ReadInt16(), reader.ReadInt16(), reader.ReadInt16(), reader.ReadInt16(), reader.ReadInt16());

    // Validated vitals lie far inside short range at x10; the clamp only stops a bad value from wrapping around.
    private static short Fixed(double? value) => value is { } v
        ? (short)Math.Clamp(Math.Round(v * Signals.VitalScale, MidpointRounding.AwayFromZero), Absent + 1, short.MaxValue)
        : Absent;
}

/// <summary>One lab result in 8 bytes: its second and its value x1000 in the test's standard unit.</summary>
internal readonly record struct LabPoint(int Seconds, int Fixed) : ISeriesRecord<LabPoint>
{
    public static int SignalCount => 1;

    public int Value(int signal) => Fixed;

    public LabPoint Merge(LabPoint other) => this with { Fixed = Math.Max(Fixed, other.Fixed) };

    public void Write(BinaryWriter writer)
    {
        writer.Write(Seconds);
        writer.Write(Fixed);
    }

    public static LabPoint Read(BinaryReader reader) => new(reader.ReadInt32(), reader.ReadInt32());
}
