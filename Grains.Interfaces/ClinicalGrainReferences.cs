namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// References to the patient grains, for the path every message takes. Orleans' <c>GetGrain&lt;T&gt;(string)</c>
/// works out the grain interface's type from its name on each call, formatting type names (about a kilobyte of garbage
/// every time); these take the types from one reference made that way and reuse them.
/// </summary>
public static class ClinicalGrainReferences
{
    public static IPatientGrain Patient(this IGrainFactory grains, string patientId) => Reference<IPatientGrain>(grains, patientId);

    private static T Reference<T>(IGrainFactory grains, string key)
        where T : class, IGrainWithStringKey
    {
        if (ResolvedTypes<T>.Value is { } types)
        {
            return (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
        }

        var reference = grains.GetGrain<T>(key);
        var resolved = (GrainReference)(object)reference;
        ResolvedTypes<T>.Value = new GrainTypes(resolved.GrainId.Type, resolved.InterfaceType);
        return reference;
    }

    private sealed record GrainTypes(GrainType Grain, GrainInterfaceType Interface);

    private static class ResolvedTypes<T>
    {
        public static GrainTypes? Value;
    }
}
