namespace ClinicalTrials.Domain.Features;

/// <summary>One named feature: what it means, over which window, in which unit, and what a missing value looks like.</summary>
/// <param name="Name">The stable snake_case name, also the column name offline.</param>
/// <param name="Definition">How the value is computed from the events with timestamp &lt;= t.</param>
/// <param name="Window">The span of clinical time the value looks at, ending at t.</param>
/// <param name="Unit">The value's unit.</param>
/// <param name="MissingRule">The value when the inputs are missing (NaN or a stated default).</param>
public sealed record FeatureDefinition(string Name, string Definition, string Window, string Unit, string MissingRule);
