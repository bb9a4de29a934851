using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using static ClinicalTrials.Domain.Tests.Features.TestMessages;

namespace ClinicalTrials.Domain.Tests.Features;

public sealed class StateSerializationTests
{
    private static readonly ClinicalMessage[] Before =
    [
        Demographics(T0, age: 40, gender: Gender.Other),
        Vitals(T0.AddMinutes(5), heartRate: 71.3, systolic: 118, diastolic: 77, temperature: 36.9),
        Labs(T0.AddMinutes(20), ("GLUC", 101.25), ("WBC", 7.1), ("CHOL", 180)),
        Adverse(T0.AddHours(2), Severity.Moderate, serious: true),
        Vitals(T0.AddHours(26), heartRate: 99, saturation: 93),
        Vitals(T0.AddHours(25), heartRate: 88.8),
    ];

    private static readonly ClinicalMessage[] After =
    [
        Vitals(T0.AddHours(27), heartRate: 101, systolic: 95),
        Vitals(T0.AddHours(26.5), respiratory: 22),
        Labs(T0.AddHours(24.5), ("LACT", 2.75)),
        Before[4],
    ];

    [Fact]
    public void Deserialised_state_has_the_same_vector_and_continues_identically()
    {
        var original = Feed(new PatientFeatureState(), Before);

        var restored = PatientFeatureState.Deserialize(original.Serialize());

        Assert.True(restored.Current.IsIdenticalTo(original.Current));
        Feed(original, After);
        Feed(restored, After);
        Assert.True(restored.Current.IsIdenticalTo(original.Current));
        Assert.Equal(original.Serialize(), restored.Serialize());
    }

    [Fact]
    public void Empty_state_round_trips()
    {
        var restored = PatientFeatureState.Deserialize(new PatientFeatureState().Serialize());

        Assert.True(restored.Current.IsIdenticalTo(new PatientFeatureState().Current));
    }

    [Fact]
    public void Unknown_format_version_is_rejected()
    {
        var bytes = new PatientFeatureState().Serialize();
        bytes[0] = 99;

        Assert.Throws<InvalidDataException>(() => PatientFeatureState.Deserialize(bytes));
    }

    [Fact]
    public void State_holding_24_hours_of_minute_vitals_stays_under_40_KB()
    {
        var state = new PatientFeatureState();
        for (var minute = 0; minute < 2 * 24 * 60; minute++)
        {
            state.Apply(Vitals(T0.AddMinutes(minute), 70 + (minute % 13), 120 + (minute % 7), 80, 36.6, 97, 16));
        }

        Assert.Equal(24 * 60, state.Current["vital_records_24h"]);
        // 32 KB with 6 labs; each tracked lab keeps about 500 B of window aggregates and history even while unmeasured, so 26 labs need 40.
        Assert.InRange(state.ApproximateSizeBytes, 24 * 60 * 16, 40 * 1024);
    }

    private static PatientFeatureState Feed(PatientFeatureState state, IEnumerable<ClinicalMessage> messages)
    {
        foreach (var message in messages)
        {
            state.Apply(message);
        }

        return state;
    }
}
