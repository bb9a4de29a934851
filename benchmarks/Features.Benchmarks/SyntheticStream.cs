using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Features.Benchmarks;

/// <summary>
/// A day of realistic traffic for many patients, in arrival order: minute vitals, hourly labs, a demographics
/// message, occasional adverse events; a few events arrive late (up to 30 min) and a few are redelivered.
/// </summary>
internal static class SyntheticStream
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] LabCodes = ["GLUC", "CREAT", "WBC", "LACT", "HGB", "PLAT", "SODIUM"];
    private static readonly double[] LabTypical = [95, 0.9, 7.5, 1.2, 13.5, 250, 140];

    public static List<ClinicalMessage> Build(int patients, TimeSpan span, int seed)
    {
        var random = new Random(seed);
        var arrivals = new List<(DateTimeOffset ArrivesAt, ClinicalMessage Message)>();
        for (var p = 0; p < patients; p++)
        {
            foreach (var message in Patient($"PT{p:D8}", span, random))
            {
                var delay = random.NextDouble() < 0.05 ? TimeSpan.FromMinutes(random.Next(1, 30)) : TimeSpan.Zero;
                arrivals.Add((message.Timestamp + delay, message));
                if (random.NextDouble() < 0.01)
                {
                    arrivals.Add((message.Timestamp + TimeSpan.FromMinutes(random.Next(1, 60)), message));
                }
            }
        }

        return [.. arrivals.OrderBy(a => a.ArrivesAt).Select(a => a.Message)];
    }

    public static IEnumerable<ClinicalMessage> Patient(string patientId, TimeSpan span, Random random)
    {
        var site = $"SITE{random.Next(1, 40):D3}";
        ClinicalMessage Envelope(DateTimeOffset at, ClinicalPayload payload) => new(Guid.NewGuid(), at, StudyPhase.PhaseIII, site, payload);

        yield return Envelope(Start, new PatientDemographics(patientId, random.Next(18, 90), (Gender)random.Next(4),
            Math.Round(50 + (random.NextDouble() * 60), 1), Math.Round(150 + (random.NextDouble() * 45), 1),
            DateOnly.FromDateTime(Start.UtcDateTime.AddDays(-random.Next(0, 200))), random.Next(2) == 0 ? "Placebo" : "Drug 10 mg"));
        var heartRate = 75.0;
        for (var minute = 0; minute < span.TotalMinutes; minute++)
        {
            var at = Start.AddMinutes(minute).AddSeconds(random.Next(0, 5));
            heartRate = Math.Clamp(heartRate + ((random.NextDouble() - 0.5) * 4), 45, 160);
            yield return Envelope(at, new VitalSigns(patientId,
                Math.Round(120 + (random.NextDouble() * 20), 0), Math.Round(75 + (random.NextDouble() * 10), 0), Math.Round(heartRate, 0),
                Math.Round(36.5 + (random.NextDouble() * 1.2), 1), Math.Round(94 + (random.NextDouble() * 6), 0), Math.Round(14 + (random.NextDouble() * 8), 0)));
            if (minute % 60 == 30)
            {
                yield return Envelope(at, new LabResults(patientId,
                    [.. LabCodes.Select((code, i) => Lab(code, LabTypical[i] * (0.8 + (random.NextDouble() * 0.4))))]));
            }

            if (random.NextDouble() < 1.0 / 720)
            {
                yield return Envelope(at, new AdverseEvent(patientId, "Nausea", (Severity)random.Next(1, 4), random.Next(10) == 0,
                    (DrugRelation)random.Next(5), at));
            }
        }
    }

    private static LabResult Lab(string code, double value)
    {
        var rounded = Math.Round(value, 3);
        return new LabResult(code, rounded, "std", rounded, "std");
    }
}
