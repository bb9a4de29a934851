using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;
using ParquetSharp;

namespace ClinicalTrials.Lake.Features;

/// <summary>
/// Silver to the offline feature store: for each patient and each whole hour t of the date range (from the patient's
/// first event to their latest one), the vector <see cref="FeatureReplay"/> gives as of t — the code the patient grain
/// runs online. No label: the trainer derives labels from the adverse events for the outcome and horizon each run asks
/// for (<c>OutcomeTimeline</c>), so one set of files serves every label. The history read is all silver up to the
/// range's end (baselines and "last" features look at all history). Patients are split into hash buckets so one bucket's history fits
/// <see cref="PipelineOptions.MaxRowsInMemory"/>; each bucket writes <c>part-NNN.parquet</c> per date.
/// </summary>
/// <remarks>
/// Without a range (the scheduled run) it recomputes from the day before the earliest silver date that changed since
/// its last run (labels of that day look into the changed one) to the latest silver date.
/// </remarks>
public sealed class OfflineFeaturesJob(LakeContext lake) : ILakeJob
{
    public const string JobName = "offline-features";

    private const int PatientsPerGroup = 256;

    public string Name => JobName;

    public async Task<JobOutcome> RunAsync(JobArguments arguments, CancellationToken cancellationToken)
    {
        var outcome = new JobOutcome();
        var changes = lake.State.SilverChanges();
        var silver = await SilverFilesAsync(cancellationToken);
        var (from, to) = arguments.From is { } f
            ? (f, arguments.To ?? f)
            : changes.Count == 0 || silver.Count == 0
                ? (DateOnly.MaxValue, DateOnly.MinValue)
                : (changes[0].AddDays(-1), silver.Max(s => s.Date));
        if (from > to)
        {
            return outcome;
        }

        var inputs = silver.Where(s => s.Date <= to).ToList();
        var leases = new List<LocalFileLease>();
        try
        {
            foreach (var input in inputs)
            {
                if (await lake.Storage.OpenLocalAsync(input.Key, cancellationToken) is { } lease)
                {
                    leases.Add(lease);
                    using var reader = new ParquetFileReader(lease.Path);
                    input.Rows = reader.FileMetaData.NumRows;
                    input.Path = lease.Path;
                }
            }

            outcome.RowsIn = inputs.Sum(i => i.Rows);
            var buckets = (int)Math.Max(1, (outcome.RowsIn + lake.Options.MaxRowsInMemory - 1) / lake.Options.MaxRowsInMemory);
            outcome.Count("buckets", buckets);
            var written = new HashSet<string>(StringComparer.Ordinal);
            for (var bucket = 0; bucket < buckets; bucket++)
            {
                var patients = LoadBucket(inputs, bucket, buckets, to);
                await WriteBucketAsync(patients, bucket, from, to, written, outcome, cancellationToken);
            }

            await RemoveStaleFilesAsync(from, to, written, outcome, cancellationToken);
        }
        finally
        {
            leases.ForEach(l => l.Dispose());
        }

        lake.State.ClearSilverChanges(changes.Where(d => d >= from.AddDays(1) && d <= to));
        return outcome;
    }

    /// <summary>A stable bucket for a patient (FNV-1a over the ID), the same in every process.</summary>
    public static int BucketOf(string patientId, int buckets)
    {
        var hash = 2166136261u;
        foreach (var c in patientId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)buckets);
    }

    private async Task<List<SilverInput>> SilverFilesAsync(CancellationToken cancellationToken)
    {
        var files = new List<SilverInput>();
        foreach (var type in PayloadTypes.All)
        {
            await foreach (var item in lake.Storage.ListAsync(LakeLayout.SilverPrefix(type), cancellationToken))
            {
                if (item.Key.EndsWith(".parquet", StringComparison.Ordinal) && LakeLayout.DateOf(item.Key) is { } date)
                {
                    files.Add(new SilverInput(type, date, item.Key));
                }
            }
        }

        return files;
    }

    /// <summary>The bucket's patients with their history up to the end of <paramref name="to"/> and every adverse-event onset.</summary>
    private static List<PatientReplay> LoadBucket(List<SilverInput> inputs, int bucket, int buckets, DateOnly to)
    {
        var end = new DateTime(to.AddDays(1), TimeOnly.MinValue, DateTimeKind.Utc);
        var patients = new Dictionary<string, PatientReplay>(StringComparer.Ordinal);
        PatientReplay For(string id) => patients.TryGetValue(id, out var p) ? p : patients[id] = new PatientReplay(id);
        bool Mine(string id) => buckets == 1 || BucketOf(id, buckets) == bucket;

        foreach (var input in inputs.Where(i => i.Path is not null))
        {
            switch (input.Type)
            {
                case PayloadType.VitalSigns:
                    foreach (var group in VitalTable.Instance.Read(input.Path!))
                    {
                        foreach (var row in group.Where(r => Mine(r.PatientId)))
                        {
                            For(row.PatientId).History.Add(SilverRows.ToMessage(row));
                        }
                    }

                    break;
                case PayloadType.PatientDemographics:
                    foreach (var group in DemographicsTable.Instance.Read(input.Path!))
                    {
                        foreach (var row in group.Where(r => Mine(r.PatientId)))
                        {
                            For(row.PatientId).History.Add(SilverRows.ToMessage(row));
                        }
                    }

                    break;
                case PayloadType.AdverseEvent:
                    foreach (var group in AdverseEventTable.Instance.Read(input.Path!))
                    {
                        foreach (var row in group.Where(r => Mine(r.PatientId)))
                        {
                            if (row.Timestamp < end)
                            {
                                For(row.PatientId).History.Add(SilverRows.ToMessage(row));
                            }
                        }
                    }

                    break;
                case PayloadType.LabResults:
                    foreach (var group in LabTable.Instance.Read(input.Path!))
                    {
                        // Rows are sorted by (patient, timestamp, message id): a message's results are adjacent.
                        var start = 0;
                        for (var i = 1; i <= group.Length; i++)
                        {
                            if (i == group.Length || group[i].MessageId != group[start].MessageId)
                            {
                                if (Mine(group[start].PatientId))
                                {
                                    For(group[start].PatientId).History.Add(SilverRows.ToMessage(new ArraySegment<LabRow>(group, start, i - start)));
                                }

                                start = i;
                            }
                        }
                    }

                    break;
            }
        }

        return [.. patients.Values.Where(p => p.History.Count > 0).OrderBy(p => p.PatientId, StringComparer.Ordinal)];
    }

    private async Task WriteBucketAsync(List<PatientReplay> patients, int bucket, DateOnly from, DateOnly to, HashSet<string> written,
        JobOutcome outcome, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var patient in patients)
            {
                patient.Prepare(from, to);
            }

            for (var date = from; date <= to; date = date.AddDays(1))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var dayEnd = new DateTimeOffset(date.AddDays(1), TimeOnly.MinValue, TimeSpan.Zero);
                var key = LakeLayout.FeatureFile(date, bucket);
                var scratch = Path.Combine(lake.Storage.ScratchDirectory, $"{Guid.NewGuid():N}.parquet");
                long rows = 0;
                try
                {
                    using (var properties = OfflineFeatureFile.WriterProperties())
                    using (var writer = new ParquetFileWriter(scratch, OfflineFeatureFile.Columns(), properties, OfflineFeatureFile.Metadata()))
                    {
                        for (var start = 0; start < patients.Count; start += PatientsPerGroup)
                        {
                            // Patients replay independently: a group of them on every core, then one row group in patient order.
                            var slice = patients.GetRange(start, Math.Min(PatientsPerGroup, patients.Count - start));
                            var produced = new List<OfflineFeatureRow>[slice.Count];
                            Parallel.For(0, slice.Count, i => produced[i] = slice[i].TakeUntil(dayEnd));
                            var group = produced.SelectMany(r => r).ToList();
                            if (group.Count > 0)
                            {
                                OfflineFeatureFile.WriteGroup(writer, group);
                                rows += group.Count;
                            }
                        }

                        writer.Close();
                    }

                    if (rows > 0)
                    {
                        await lake.Storage.PutFileAsync(key, scratch, cancellationToken);
                        written.Add(key);
                        outcome.RowsOut += rows;
                        outcome.Count("feature_files_written");
                    }
                }
                finally
                {
                    File.Delete(scratch);
                }
            }
        }
        finally
        {
            patients.ForEach(p => p.Dispose());
        }
    }

    /// <summary>Files of the range this run did not write (an earlier run with more buckets) are removed.</summary>
    private async Task RemoveStaleFilesAsync(DateOnly from, DateOnly to, HashSet<string> written, JobOutcome outcome, CancellationToken cancellationToken)
    {
        var stale = new List<string>();
        await foreach (var item in lake.Storage.ListAsync(LakeLayout.OfflineFeatures, cancellationToken))
        {
            if (LakeLayout.DateOf(item.Key) is { } date && date >= from && date <= to && !written.Contains(item.Key))
            {
                stale.Add(item.Key);
            }
        }

        foreach (var key in stale)
        {
            await lake.Storage.DeleteAsync(key, cancellationToken);
            outcome.Count("feature_files_removed");
        }
    }

    private sealed class SilverInput(PayloadType type, DateOnly date, string key)
    {
        public PayloadType Type { get; } = type;

        public DateOnly Date { get; } = date;

        public string Key { get; } = key;

        public string? Path { get; set; }

        public long Rows { get; set; }
    }

    /// <summary>One patient's replay through the range: the evaluation hours and the vectors.</summary>
    private sealed class PatientReplay(string patientId) : IDisposable
    {
        private DateTimeOffset[] _times = [];
        private IEnumerator<FeatureVector>? _vectors;
        private int _next;

        public string PatientId { get; } = patientId;

        public List<ClinicalMessage> History { get; } = [];

        /// <summary>
        /// Evaluation times: the whole hours of [from, to] from the first event's hour (rounded up) to the latest
        /// event's hour (rounded up), as <see cref="FeatureReplay.Hourly"/> chooses them.
        /// </summary>
        public void Prepare(DateOnly from, DateOnly to)
        {
            var first = FeatureReplay.CeilingToHour(History.Min(m => m.Timestamp));
            var last = FeatureReplay.CeilingToHour(History.Max(m => m.Timestamp));
            var start = Max(first, new DateTimeOffset(from, TimeOnly.MinValue, TimeSpan.Zero));
            var end = Min(last, new DateTimeOffset(to, new TimeOnly(23, 0), TimeSpan.Zero));
            _times = start > end ? [] : [.. Enumerable.Range(0, (int)((end - start).Ticks / TimeSpan.TicksPerHour) + 1).Select(h => start.AddHours(h))];
            _vectors = FeatureReplay.At(History, _times).GetEnumerator();
        }

        /// <summary>The rows of every evaluation time before <paramref name="end"/> not taken yet.</summary>
        public List<OfflineFeatureRow> TakeUntil(DateTimeOffset end)
        {
            var rows = new List<OfflineFeatureRow>();
            for (; _next < _times.Length && _times[_next] < end; _next++)
            {
                _vectors!.MoveNext();
                var t = _times[_next];
                rows.Add(new OfflineFeatureRow(PatientId, t, [.. _vectors.Current.Values]));
            }

            return rows;
        }

        public void Dispose() => _vectors?.Dispose();

        private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

        private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
    }
}
