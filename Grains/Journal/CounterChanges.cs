using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Journal.Ledger;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// What a commit changes in the ledger's counters and patient directory, summed per key before it is written: one
/// place says what a stored message counts for, whether a commit adds it or a recovery takes it back.
/// </summary>
internal sealed class CounterChanges
{
    private readonly Dictionary<(string Site, string Type, string Outcome), long> _counts = [];
    private readonly Dictionary<(string Site, string Field, string Rule), long> _reasons = [];
    private readonly Dictionary<(string Patient, string Site), long> _patients = [];

    public void Add(string site, string type, string outcome, long n) =>
        _counts[(site, type, outcome)] = _counts.GetValueOrDefault((site, type, outcome)) + n;

    /// <summary>
    /// Counts one stored message: accepted (with its abnormal values flagged) or rejected, and its
    /// <paramref name="reasons"/> (a rejection's violations, or an accepted message's result issues), keyed without
    /// list positions. A <paramref name="sign"/> of -1 takes it back out.
    /// </summary>
    public void AddStored(string site, string type, bool accepted, int abnormalFlags, IReadOnlyList<Violation> reasons, int sign = 1)
    {
        if (accepted)
        {
            Add(site, type, "accepted", sign);
            if (abnormalFlags > 0)
            {
                Add(site, type, "flagged", sign * abnormalFlags);
            }
        }
        else
        {
            Add(site, type, "rejected", sign);
        }

        foreach (var reason in reasons)
        {
            var key = (site, ViolationFields.WithoutListIndex(reason.Field), reason.Rule);
            _reasons[key] = _reasons.GetValueOrDefault(key) + sign;
        }
    }

    /// <summary>
    /// Notes that <paramref name="site"/> has an accepted message for <paramref name="patientId"/> at
    /// <paramref name="sequence"/>; the directory keeps each pair once, with its first sequence. Recovery does not take
    /// pairs back through here: whether a pair stays depends on the rows that remain (<see cref="Ledger.LedgerRecovery"/>).
    /// </summary>
    public void AddPatient(string? patientId, string site, long sequence)
    {
        if (patientId is null)
        {
            return;
        }

        var key = (patientId, site);
        _patients[key] = _patients.TryGetValue(key, out var first) ? Math.Min(first, sequence) : sequence;
    }

    /// <summary>The duplicates this commit counted, to take back out: no row records them.</summary>
    public CounterChanges DuplicatesTakenBack()
    {
        var taken = new CounterChanges();
        foreach (var ((site, type, outcome), n) in _counts.Where(count => count.Key.Outcome == "duplicate"))
        {
            taken.Add(site, type, outcome, -n);
        }

        return taken;
    }

    /// <summary>Outcome counts by site, payload type and outcome.</summary>
    public IEnumerable<((string Site, string Type, string Outcome) Key, long N)> Counts => _counts.Select(c => (c.Key, c.Value));

    /// <summary>Reason counts by site, field and rule: rejections, and issues of single lab results.</summary>
    public IEnumerable<((string Site, string Field, string Rule) Key, long N)> Reasons => _reasons.Select(r => (r.Key, r.Value));

    /// <summary>The patient and site pairs of the commit's accepted messages, each with its first sequence in the commit.</summary>
    public IEnumerable<((string Patient, string Site) Key, long FirstSequence)> Patients => _patients.Select(p => (p.Key, p.Value));

    /// <summary>Writes the changes inside the ledger transaction that is open.</summary>
    public void WriteTo(LedgerWriter ledger)
    {
        foreach (var ((site, type, outcome), n) in _counts)
        {
            ledger.AddCount(site, type, outcome, n);
        }

        foreach (var ((site, field, rule), n) in _reasons)
        {
            ledger.AddReason(site, field, rule, n);
        }

        foreach (var ((patient, site), first) in _patients)
        {
            ledger.AddPatient(patient, site, first);
        }
    }
}
