namespace ClinicalTrials.Grains.Journal.Ledger;

/// <summary>
/// Taking back what the last commits before a crash wrote to the ledger but whose bronze lines are not, or not surely,
/// on disk (<see cref="LedgerReader.Unverified"/>): those messages were never acknowledged.
/// </summary>
internal static class LedgerRecovery
{
    /// <summary>
    /// Removes <paramref name="rows"/> and takes them out of the counters and the patient directory, in one durable transaction that marks every
    /// remaining row verified; returns the highest remaining sequence. A retry of a removed message is accepted afresh,
    /// with a sequence above every acknowledged one. <paramref name="alsoTakenBack"/> holds the counts that no row
    /// records (duplicates of the commit taken back).
    /// </summary>
    public static long Forget(LedgerWriter ledger, IReadOnlyList<LedgerRow> rows, CounterChanges? alsoTakenBack = null)
    {
        using var transaction = ledger.Begin();
        using (var delete = ledger.Command(transaction, "DELETE FROM messages WHERE seq = $seq"))
        {
            var seq = delete.Parameters.Add("$seq", Microsoft.Data.Sqlite.SqliteType.Integer);
            var changes = new CounterChanges();
            foreach (var row in rows)
            {
                seq.Value = row.Sequence;
                delete.ExecuteNonQuery();
                changes.AddStored(row.SiteId, row.PayloadType, row.IsAccepted, row.Flags, row.Violations, sign: -1);
            }

            changes.WriteTo(ledger);
        }

        alsoTakenBack?.WriteTo(ledger);

        // Only pairs first seen after the verified point can have lost their first row; each of those is counted again
        // from the rows that remain, all of which lie after that point too.
        using (var patients = ledger.Command(transaction, $"""
            DELETE FROM patients WHERE first_seq > (SELECT value FROM meta WHERE key = 'verified_through');
            {LedgerSchema.PatientsFrom("(SELECT value FROM meta WHERE key = 'verified_through')")};
            """))
        {
            patients.ExecuteNonQuery();
        }

        using (var emptied = ledger.Command(transaction, "DELETE FROM counters WHERE count = 0; DELETE FROM rejection_reasons WHERE count = 0"))
        {
            emptied.ExecuteNonQuery();
        }

        long verifiedThrough;
        using (var verify = ledger.Command(transaction,
            "UPDATE meta SET value = (SELECT coalesce(max(seq), 0) FROM messages) WHERE key = 'verified_through' RETURNING value"))
        {
            verifiedThrough = (long)verify.ExecuteScalar()!;
        }

        transaction.Commit();
        ledger.SyncWal();
        return verifiedThrough;
    }
}
