using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using FsCheck;
using FsCheck.Fluent;
using static ClinicalTrials.Domain.Tests.Features.TestMessages;

namespace ClinicalTrials.Domain.Tests.Features;

/// <summary>
/// The online path (Apply in arrival order, with redeliveries and late events) and the offline path
/// (<see cref="FeatureReplay"/> in timestamp order) must give bit-identical vectors at every time.
/// </summary>
public sealed class OnlineOfflineEquivalenceTests
{
    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(150).WithReplay(20260301, 7);

    [Fact]
    public void Online_vector_is_bit_identical_to_offline_replay_for_any_arrival_order()
    {
        Check.One(Config, Prop.ForAll(Scenarios().ToArbitrary(), scenario =>
        {
            var online = new PatientFeatureState();
            foreach (var message in scenario.Arrivals)
            {
                online.Apply(message);
            }

            var offline = FeatureReplay.VectorAt(scenario.History, online.AsOf!.Value);
            return online.Current.IsIdenticalTo(offline);
        }));
    }

    [Fact]
    public void Vector_at_every_hour_is_bit_identical_to_a_state_fed_only_earlier_events_in_arrival_order()
    {
        Check.One(Config.WithMaxTest(40), Prop.ForAll(Scenarios().ToArbitrary(), scenario =>
            FeatureReplay.Hourly(scenario.History).All(expected =>
            {
                var asOf = expected.AsOf!.Value;
                var online = new PatientFeatureState();
                foreach (var message in scenario.Arrivals.Where(m => m.Timestamp <= asOf))
                {
                    online.Apply(message);
                }

                online.AdvanceTo(asOf);
                return online.Current.IsIdenticalTo(expected);
            })));
    }

    private static Gen<Scenario> Scenarios() =>
        from events in Gen.NonEmptyListOf(Event()).Resize(80)
        from repeats in Gen.SubListOf<ClinicalMessage>(events)
        from arrivals in Gen.Shuffle<ClinicalMessage>([.. events, .. repeats])
        select new Scenario([.. events], [.. arrivals]);

    // Half the events fall on a coarse grid, so that distinct events often share a second.
    private static Gen<ClinicalMessage> Event() =>
        from minute in Gen.OneOf(Gen.Choose(0, 3 * 24 * 60), Gen.Choose(0, 72).Select(h => h * 60))
        from second in Gen.Elements(0, 0, 0, 17)
        from millisecond in Gen.Elements(0, 0, 0, 250)
        let at = T0.AddMinutes(minute).AddSeconds(second).AddMilliseconds(millisecond)
        from message in Gen.Frequency(
            (8, VitalsAt(at)), (5, LabsAt(at)), (2, AdverseAt(at)), (1, DemographicsAt(at)))
        select message;

    // Narrow value ranges so that equal seconds with different values, ties for min and max, and exact
    // decimal fractions (which a floating-point sum would add in an order-dependent way) all occur.
    private static Gen<ClinicalMessage> VitalsAt(DateTimeOffset at) =>
        from hr in Optional(Gen.Choose(550, 1300), 10)
        from sbp in Optional(Gen.Choose(850, 1650), 10)
        from dbp in Optional(Gen.Choose(500, 1000), 10)
        from temp in Optional(Gen.Choose(355, 395), 10)
        from spo2 in Optional(Gen.Choose(880, 1000), 10)
        from rr in Optional(Gen.Choose(100, 280), 10)
        where new[] { hr, sbp, dbp, temp, spo2, rr }.Any(v => v is not null)
        select Vitals(at, hr, sbp, dbp, temp, spo2, rr);

    private static Gen<ClinicalMessage> LabsAt(DateTimeOffset at) =>
        from codes in Gen.SubListOf(["GLUC", "CREAT", "WBC", "LACT", "HGB", "PLAT", "FIO2", "PCO2", "BILI", "CHOL"]).Where(c => c.Count > 0)
        from values in Gen.ArrayOf(Gen.Choose(1, 400_000), codes.Count)
        select Labs(at, [.. codes.Select((c, i) => (c, values[i] / 1000.0))]);

    private static Gen<ClinicalMessage> AdverseAt(DateTimeOffset at) =>
        from severity in Gen.Elements(Severity.Mild, Severity.Moderate, Severity.Severe)
        from serious in Gen.Elements(true, false)
        from relation in Gen.Elements(Enum.GetValues<DrugRelation>())
        select Adverse(at, severity, serious, relation);

    private static Gen<ClinicalMessage> DemographicsAt(DateTimeOffset at) =>
        from age in Gen.Choose(18, 90)
        from gender in Gen.Elements(Enum.GetValues<Gender>())
        from weight in Gen.Choose(400, 1500)
        from arm in Gen.Elements("Placebo", "Treatment A", "Treatment B")
        from site in Gen.Elements("SITE001", "SITE002")
        select Demographics(at, age, gender, weight / 10.0, 175, new DateOnly(2026, 2, 20), arm, site);

    private static Gen<double?> Optional(Gen<int> tenths, int scale) =>
        Gen.Frequency((3, tenths.Select(v => (double?)(v / (double)scale))), (1, Gen.Constant<double?>(null)));

    /// <summary>The distinct events of one patient, and the order they arrive in (with redeliveries).</summary>
    public sealed record Scenario(ClinicalMessage[] History, ClinicalMessage[] Arrivals)
    {
        public override string ToString() => string.Join(Environment.NewLine, Arrivals.Select(m => $"{m.Timestamp:O} {m.MessageId} {m.Payload}"));
    }
}
