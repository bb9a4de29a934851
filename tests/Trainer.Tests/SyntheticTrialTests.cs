using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Trainer.Data;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>
/// The generator's default trial looks like a trial (docs/synthetic-trial.md): one enrolment per patient, adverse events
/// rare, and most of them preceded by hours of deteriorating vitals.
/// </summary>
public sealed class SyntheticTrialTests
{
    private const int Patients = 150;
    private const int Days = 7;

    // About one message per patient and hour, as the generator's trickle and --days modes send.
    private static readonly Lazy<IReadOnlyDictionary<string, IReadOnlyList<ClinicalMessage>>> Trial =
        new(() => SyntheticHistories.Create(seed: 3, Patients, messages: Patients * Days * 24, Days));

    [Fact]
    public void Each_patient_is_enrolled_once_and_demographics_are_rarely_updated()
    {
        var demographics = Trial.Value.Values.Select(h => h.Count(m => m.Payload is PatientDemographics)).ToList();

        Assert.All(Trial.Value.Values, h => Assert.IsType<PatientDemographics>(h[0].Payload));
        Assert.True(demographics.Max() <= 4, $"A patient sent {demographics.Max()} demographics messages in a week.");
        Assert.InRange(demographics.Sum() - Patients, 0, Patients / 2); // fewer updates in a week than one per two patients
        Assert.All(Trial.Value.Values, h => Assert.Single(h.Select(m => m.Payload).OfType<PatientDemographics>().Select(d => (d.Age, d.EnrollmentDate)).Distinct()));
    }

    [Fact]
    public void Adverse_events_are_rare_and_most_patients_have_none_in_a_week()
    {
        var events = Trial.Value.Values.Select(h => h.Count(m => m.Payload is AdverseEvent)).ToList();
        var eventsPerPatientDay = (double)events.Sum() / (Patients * Days);

        Assert.InRange(eventsPerPatientDay, 0.01, 0.06);
        Assert.True(events.Count(e => e == 0) > Patients / 2, $"{events.Count(e => e == 0)} of {Patients} patients had no event.");
        Assert.True(events.Max() <= 4, $"A patient had {events.Max()} adverse events in a week.");
    }

    [Fact]
    public async Task A_few_per_cent_of_hourly_rows_are_positive()
    {
        var rows = new ReplayedHistories("synthetic trial", Trial.Value, LabelDefinition.Default);
        long total = 0, positive = 0;
        await foreach (var row in rows.ReadAsync(SyntheticHistories.FirstDay, SyntheticHistories.LastDay(Days), TestContext.Current.CancellationToken))
        {
            total++;
            positive += row.Label ? 1 : 0;
        }

        Assert.InRange((double)positive / total, 0.01, 0.10);
    }

    [Fact]
    public void Vitals_deteriorate_in_the_hours_before_most_events()
    {
        var before = new List<double>();
        var quiet = new List<double>();
        foreach (var history in Trial.Value.Values)
        {
            var onsets = history.Select(m => m.Payload).OfType<AdverseEvent>().Select(e => e.Onset).ToList();
            foreach (var message in history.Where(m => m.Payload is VitalSigns { HeartRate: not null }))
            {
                var heartRate = ((VitalSigns)message.Payload).HeartRate!.Value;
                if (onsets.Any(o => o > message.Timestamp && o - message.Timestamp <= TimeSpan.FromHours(6)))
                {
                    before.Add(heartRate);
                }
                else if (onsets.All(o => (o - message.Timestamp).Duration() > TimeSpan.FromHours(48)))
                {
                    quiet.Add(heartRate);
                }
            }
        }

        Assert.True(before.Count > 20, $"{before.Count} vital signs in the 6 h before an event.");
        Assert.True(before.Average() > quiet.Average() + 5, $"Heart rate {before.Average():0.0} before events against {quiet.Average():0.0} away from them.");
    }
}
