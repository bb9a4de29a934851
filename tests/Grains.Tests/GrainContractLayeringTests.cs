using System.Reflection;
using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// Every Orleans client loads the grain contracts, so what they reference every client carries: the lake (and with it
/// ParquetSharp's native library and the AWS SDK) must stay on the silo side.
/// </summary>
public sealed class GrainContractLayeringTests
{
    private static readonly string[] Forbidden = ["ClinicalTrials.Lake", "ParquetSharp", "AWSSDK"];

    [Fact]
    public void Grain_contracts_reference_neither_the_lake_nor_its_storage_libraries()
    {
        var contracts = typeof(IJobGrain).Assembly;

        var offending = ReferencedClosure(contracts)
            .Where(name => Forbidden.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            .ToList();

        Assert.True(offending.Count == 0, $"{contracts.GetName().Name} references {string.Join(", ", offending)}");
    }

    [Fact]
    public void The_check_sees_the_references_of_the_contracts_own_libraries()
    {
        // Guards the test above against passing vacuously: it must reach Domain through the contracts, and it must see
        // the lake where it is referenced (the grains, which run the lake's jobs).
        Assert.Contains("ClinicalTrials.Domain", ReferencedClosure(typeof(IJobGrain).Assembly));
        Assert.Contains("ClinicalTrials.Lake", ReferencedClosure(typeof(Pipeline.JobGrain).Assembly));
    }

    /// <summary>
    /// The names of the assemblies <paramref name="root"/> references, followed through our own (ClinicalTrials.*)
    /// assemblies, so a forbidden reference cannot hide one library further down.
    /// </summary>
    private static HashSet<string> ReferencedClosure(Assembly root)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<Assembly>([root]);
        while (pending.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (names.Add(reference.Name!) && reference.Name!.StartsWith("ClinicalTrials.", StringComparison.Ordinal))
                {
                    pending.Enqueue(Assembly.Load(reference));
                }
            }
        }

        return names;
    }
}
