using ClinicalTrials.Trainer.Data;

namespace ClinicalTrials.Trainer.Tests;

public sealed class SplitTests
{
    private static readonly string[] Patients = [.. Enumerable.Range(0, 1000).Select(i => $"PT{i:D8}")];

    [Fact]
    public void Patients_are_split_70_15_15_and_each_lands_in_one_set()
    {
        var split = PatientSplit.Create(Patients.Concat(Patients), seed: 7);
        Assert.Equal(700, split.Count(SplitName.Train));
        Assert.Equal(150, split.Count(SplitName.Validation));
        Assert.Equal(150, split.Count(SplitName.Test));
        Assert.Equal(Patients.Length, Patients.GroupBy(p => split[p]).Sum(g => g.Count()));
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_whatever_the_order_of_rows()
    {
        var a = PatientSplit.Create(Patients, seed: 7);
        var b = PatientSplit.Create(Patients.Reverse(), seed: 7);
        var c = PatientSplit.Create(Patients, seed: 8);
        Assert.All(Patients, p => Assert.Equal(a[p], b[p]));
        Assert.Contains(Patients, p => a[p] != c[p]);
    }
}
