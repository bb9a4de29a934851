using System.Globalization;
using ClinicalTrials.Trainer.Data;
using ParquetSharp;

namespace ClinicalTrials.Trainer.Evaluation;

/// <summary>
/// The hourly scores of an evaluation for analysis outside the platform, one row per patient-hour: <c>patient_id</c>
/// (pseudonymous), <c>hour</c> (UTC), <c>score</c> (the model's probability) and <c>label</c> (the outcome within the
/// model's horizon). CSV or Parquet, by the file's extension.
/// </summary>
public static class ScoreExport
{
    public enum Format
    {
        Csv,
        Parquet,
    }

    /// <summary>The format an extension names; null for any other.</summary>
    public static Format? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => Format.Csv,
        ".parquet" => Format.Parquet,
        _ => null,
    };

    /// <summary>Writes the rows and their probabilities to <paramref name="path"/> (through a temporary file, so a failed export leaves no half file).</summary>
    public static void Write(string path, IReadOnlyList<TrainingRow> rows, IReadOnlyList<float> scores)
    {
        var format = FormatOf(path) ?? throw new ArgumentException($"'{path}' is neither .csv nor .parquet.", nameof(path));
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var scratch = path + ".tmp";
        if (format == Format.Csv)
        {
            using var writer = new StreamWriter(scratch);
            writer.WriteLine("patient_id,hour,score,label");
            for (var i = 0; i < rows.Count; i++)
            {
                // Patient IDs are PT and eight capitals or digits (ClinicalIds): nothing to quote.
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{rows[i].PatientId},{rows[i].Timestamp.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ},{scores[i]:R},{(rows[i].Label ? 1 : 0)}"));
            }
        }
        else
        {
            Column[] columns =
            [
                new Column<string>("patient_id"), new Column<DateTime>("hour", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
                new Column<float>("score"), new Column<bool>("label"),
            ];
            using var file = new ParquetFileWriter(scratch, columns, Compression.Snappy);
            using (var group = file.AppendRowGroup())
            {
                using (var patients = group.NextColumn().LogicalWriter<string>())
                {
                    patients.WriteBatch([.. rows.Select(r => r.PatientId)]);
                }

                using (var hours = group.NextColumn().LogicalWriter<DateTime>())
                {
                    hours.WriteBatch([.. rows.Select(r => r.Timestamp.UtcDateTime)]);
                }

                using (var values = group.NextColumn().LogicalWriter<float>())
                {
                    values.WriteBatch([.. scores]);
                }

                using var labels = group.NextColumn().LogicalWriter<bool>();
                labels.WriteBatch([.. rows.Select(r => r.Label)]);
            }

            file.Close();
        }

        File.Move(scratch, path, overwrite: true);
    }
}
