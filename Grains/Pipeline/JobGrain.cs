using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Lake.Jobs;
using Microsoft.Extensions.Logging;

namespace ClinicalTrials.Grains.Pipeline;

/// <summary>One pipeline job; not reentrant, so its runs never overlap. The work itself runs off the grain scheduler.</summary>
public sealed class JobGrain(PipelineJobs jobs, ClinicalMetrics metrics, ILogger<JobGrain> logger) : Grain, IJobGrain
{
    public async Task<JobRun> RunAsync(DateOnly? from, DateOnly? to)
    {
        var name = this.GetPrimaryKeyString();
        var record = await jobs.RunAsync(name, new JobArguments(from, to));
        metrics.JobRan(name, record.Status, record.RowsIn, record.RowsOut, record.EndedAt - record.StartedAt);
        if (record.Status == "failed")
        {
            logger.LogError("Pipeline job {Job} run {RunId} failed: {Error}", name, record.Id, record.Error);
        }
        else
        {
            logger.LogInformation("Pipeline job {Job} run {RunId}: {RowsIn} rows in, {RowsOut} rows out in {Seconds:0.0} s",
                name, record.Id, record.RowsIn, record.RowsOut, (record.EndedAt - record.StartedAt)?.TotalSeconds);
        }

        return record.ToJobRun();
    }
}
