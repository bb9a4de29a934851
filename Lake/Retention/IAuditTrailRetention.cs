namespace ClinicalTrials.Lake.Retention;

/// <summary>
/// The audit trail of who did what (kept by the API's security layer), pruned by the retention job with the audit
/// material's retention (<see cref="RetentionOptions.AuditDays"/>, seven years by default). Nothing else deletes from it.
/// </summary>
public interface IAuditTrailRetention
{
    /// <summary>Deletes the records made before <paramref name="before"/>, keeping the rest verifiable; returns how many went.</summary>
    Task<long> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
