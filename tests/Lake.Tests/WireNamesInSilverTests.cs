using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Silver;

namespace ClinicalTrials.Lake.Tests;

/// <summary>Enum values reach silver under their wire names, whatever spelling the site sent, and read back as the same values.</summary>
public sealed class WireNamesInSilverTests
{
    private static readonly DateTimeOffset Received = TestLake.Now.AddDays(-1);
    private static readonly DateTimeOffset Clinical = new(2026, 3, 9, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 3, 9);

    [Fact]
    public async Task Genders_severities_and_relations_are_stored_by_wire_name_and_read_back_as_sent()
    {
        (string Sent, string Stored, Gender Value)[] genders =
            [("F", "F", Gender.Female), ("female", "F", Gender.Female), ("Male", "M", Gender.Male), ("o", "OTHER", Gender.Other), ("UNKNOWN", "UNKNOWN", Gender.Unknown)];
        (string Sent, string Stored, Severity Severity, string SentRelation, string StoredRelation, DrugRelation Relation)[] events =
        [
            ("mild", "MILD", Severity.Mild, "not related", "NOT_RELATED", DrugRelation.NotRelated),
            ("MODERATE", "MODERATE", Severity.Moderate, "Unlikely", "UNLIKELY", DrugRelation.Unlikely),
            ("Severe", "SEVERE", Severity.Severe, "POSSIBLE", "POSSIBLE", DrugRelation.Possible),
            ("MILD", "MILD", Severity.Mild, "probable", "PROBABLE", DrugRelation.Probable),
            ("SEVERE", "SEVERE", Severity.Severe, "DEFINITE", "DEFINITE", DrugRelation.Definite),
        ];
        using var lake = new TestLake();
        var patients = genders.Select(_ => NewPatientId()).ToArray();
        lake.WriteBronze(Received, genders.Select((g, i) =>
        {
            var message = Demographics(patients[i], TestLake.Site, Clinical, 61);
            message["patient_demographics"]!["gender"] = g.Sent;
            return message;
        }));
        lake.WriteBronze(Received, events.Select((e, i) =>
        {
            var message = AdverseEvent("Nausea", patients[i], TestLake.Site, Clinical, onset: Clinical);
            message["adverse_event"]!["severity"] = e.Sent;
            message["adverse_event"]!["relation_to_study_drug"] = e.SentRelation;
            return message;
        }));

        Assert.Equal("succeeded", (await lake.RunAsync(BronzeToSilverJob.JobName)).Status);

        var demographics = DemographicsTable.Instance.Read(Path.Combine(lake.DataDirectory, LakeLayout.SilverFile(PayloadType.PatientDemographics, Day)))
            .SelectMany(g => g).ToDictionary(r => r.PatientId);
        var adverseEvents = AdverseEventTable.Instance.Read(Path.Combine(lake.DataDirectory, LakeLayout.SilverFile(PayloadType.AdverseEvent, Day)))
            .SelectMany(g => g).ToDictionary(r => r.PatientId);
        for (var i = 0; i < patients.Length; i++)
        {
            var row = demographics[patients[i]];
            Assert.Equal(genders[i].Stored, row.Gender);
            Assert.Equal(genders[i].Value, ((PatientDemographics)SilverRows.ToMessage(row).Payload).Gender);

            var ae = adverseEvents[patients[i]];
            Assert.Equal((events[i].Stored, events[i].StoredRelation), (ae.Severity, ae.RelationToStudyDrug));
            var read = (AdverseEvent)SilverRows.ToMessage(ae).Payload;
            Assert.Equal((events[i].Severity, events[i].Relation), (read.Severity, read.RelationToStudyDrug));
        }
    }
}
