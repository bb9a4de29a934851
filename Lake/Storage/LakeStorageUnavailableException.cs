namespace ClinicalTrials.Lake.Storage;

/// <summary>
/// The lake storage cannot be reached (the S3 server is down, refuses connections or answers 5xx). Nothing about the
/// request was wrong and nothing was changed by the failed call: the caller may retry later (the API answers 503).
/// </summary>
public sealed class LakeStorageUnavailableException(string storage, Exception inner)
    : Exception($"The lake storage ({storage}) is unavailable: {inner.GetBaseException().Message}", inner);
