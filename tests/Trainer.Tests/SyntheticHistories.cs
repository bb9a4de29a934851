using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Generator;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>Patients' histories from the generator's synthetic trial, parsed as the platform parses them.</summary>
internal static class SyntheticHistories
{
    /// <summary>Five days ago at midnight: the generator enrols patients 10 to 400 days before today, so after enrolment.</summary>
    public static readonly DateTimeOffset Start = new(DateTime.UtcNow.Date.AddDays(-5), TimeSpan.Zero);

    public static DateOnly FirstDay => DateOnly.FromDateTime(Start.UtcDateTime);

    public static DateOnly LastDay(int days) => FirstDay.AddDays(days);

    /// <summary>
    /// <paramref name="messages"/> messages over <paramref name="days"/> days, evenly spaced; <paramref name="eventRate"/>
    /// above 1 enriches the trial's adverse events (<see cref="SyntheticTrial"/>).
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<ClinicalMessage>> Create(int seed, int patients, int messages, int days, double shift = 0,
        double eventRate = 1)
    {
        var byPatient = new Dictionary<string, List<ClinicalMessage>>(StringComparer.Ordinal);
        foreach (var (json, at) in Messages(seed, patients, messages, days, shift, eventRate))
        {
            var parsed = ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), at.AddSeconds(1));
            var message = parsed.Message ?? throw new InvalidOperationException(
                $"The generator made an invalid message with invalidShare 0: {string.Join("; ", parsed.Violations.Select(v => v.Message))}");
            if (!byPatient.TryGetValue(message.PatientId, out var list))
            {
                byPatient[message.PatientId] = list = [];
            }

            list.Add(message);
        }

        return byPatient.ToDictionary(p => p.Key, p => (IReadOnlyList<ClinicalMessage>)p.Value, StringComparer.Ordinal);
    }

    /// <summary>The same trial as <see cref="Create"/>, as the wire messages it sends and when they are sent.</summary>
    public static IEnumerable<(JsonObject Json, DateTimeOffset At)> Messages(int seed, int patients, int messages, int days, double shift = 0, double eventRate = 1)
    {
        var trial = new SyntheticTrial(seed, patients, sites: 5, invalidShare: 0, shift, eventRate);
        var step = TimeSpan.FromDays(days) / messages;
        for (var i = 0; i < messages; i++)
        {
            var at = Start + step * i;
            yield return (trial.Next(at, out _), at);
        }
    }
}
