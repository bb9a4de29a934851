namespace ClinicalTrials.Api.Security;

/// <summary>
/// The roles a credential carries (claim <c>role</c>). <c>admin</c> passes every policy, so the first credential of a new
/// installation can do everything; the others are each limited to their work (docs/security.md).
/// </summary>
public static class Roles
{
    /// <summary>Sends data for its own site (the key's <c>site_id</c>) and reads its own messages' status.</summary>
    public const string Site = "site";

    /// <summary>Reads patients and sites, data quality, quarantine, predictions.</summary>
    public const string DataManager = "data_manager";

    /// <summary>Models, training runs, monitoring, lake jobs, predictions.</summary>
    public const string MlEngineer = "ml_engineer";

    /// <summary>Keys and configuration; passes every policy.</summary>
    public const string Admin = "admin";

    /// <summary>Reads the audit trail, nothing else.</summary>
    public const string Auditor = "auditor";

    public static readonly IReadOnlyList<string> All = [Site, DataManager, MlEngineer, Admin, Auditor];
}

/// <summary>The claims the platform reads from a credential, whichever scheme issued it.</summary>
public static class ClinicalClaims
{
    /// <summary>Who: <c>key:{key_id}</c> for an API key, the token's <c>sub</c> for a bearer token.</summary>
    public const string Subject = "sub";

    public const string Role = "role";

    /// <summary>The one site a site credential may write for and read.</summary>
    public const string SiteId = "site_id";

    /// <summary>Present (<c>ingest</c>) on a key that may only send data.</summary>
    public const string Scope = "scope";

    public const string IngestOnly = "ingest";
}
