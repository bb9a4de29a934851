using System.Diagnostics;

namespace ClinicalTrials.Grains.Telemetry;

/// <summary>
/// The platform's own spans, on the activity source <see cref="SourceName"/>. They are created only while a tracer
/// listens (an OTLP endpoint is configured); otherwise <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null and tracing costs nothing. Spans carry counts, never patient or message identifiers.
/// </summary>
public static class ClinicalTracing
{
    public const string SourceName = "ClinicalTrials";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// A span named <paramref name="name"/> under the current one (the grain call that appends), lasting until
    /// <paramref name="work"/> ends: for a journal append, the wait for the group commit that makes it durable.
    /// </summary>
    public static Task<T> Traced<T>(string name, int entries, Task<T> work)
    {
        var activity = Source.StartActivity(name);
        return activity is null ? work : EndWith(activity.SetTag("clinical.entries", entries), work);

        static async Task<T> EndWith(Activity activity, Task<T> work)
        {
            using (activity)
            {
                try
                {
                    return await work;
                }
                catch (Exception e)
                {
                    activity.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
                    throw;
                }
            }
        }
    }
}
