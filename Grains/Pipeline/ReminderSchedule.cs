namespace ClinicalTrials.Grains.Pipeline;

/// <summary>
/// Registers a scheduling grain's reminders unless they are registered already with this period: every silo of a cluster
/// starts the schedulers at its start, and registering again would move each next run to its first due time, so that a
/// rolling restart would postpone the runs each time.
/// </summary>
internal static class ReminderSchedule
{
    /// <returns>True when the reminders were registered now.</returns>
    public static async Task<bool> EnsureAsync(
        Grain grain, IPersistentState<PipelineScheduleState> state, TimeSpan period, IReadOnlyList<(string Name, TimeSpan FirstDue)> reminders)
    {
        var registered = (await grain.GetReminders()).Select(r => r.ReminderName).ToHashSet(StringComparer.Ordinal);
        if (state.State.Period == period && reminders.All(r => registered.Contains(r.Name)))
        {
            return false;
        }

        foreach (var (name, firstDue) in reminders)
        {
            await grain.RegisterOrUpdateReminder(name, firstDue, period);
        }

        state.State.Period = period;
        await state.WriteStateAsync();
        return true;
    }
}

/// <summary>The period a scheduling grain's reminders were registered with.</summary>
[GenerateSerializer, Alias("pipeline-schedule-state")]
public sealed class PipelineScheduleState
{
    [Id(0)]
    public TimeSpan? Period { get; set; }
}
