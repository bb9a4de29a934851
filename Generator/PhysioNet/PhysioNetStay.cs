using System.Globalization;

namespace ClinicalTrials.Generator.PhysioNet;

/// <summary>
/// One ICU stay of the PhysioNet/Computing in Cardiology Challenge 2019 (Reyna et al., Crit Care Med 2020;
/// doi:10.13026/v64v-d857): a pipe-separated file <c>pNNNNNN.psv</c> with a header line and one row per ICU hour,
/// <c>NaN</c> where nothing was measured.
/// </summary>
/// <param name="Record">The record name, the file name without extension (e.g. <c>p100001</c>).</param>
/// <param name="Columns">The header's column names, in file order.</param>
/// <param name="Rows">One array per hour, in file order; null where the file says NaN.</param>
public sealed record PhysioNetStay(string Record, IReadOnlyList<string> Columns, IReadOnlyList<double?[]> Rows)
{
    /// <summary>The value of <paramref name="column"/> in <paramref name="row"/>, or null when missing or not a column of the file.</summary>
    public double? Value(double?[] row, string column)
    {
        var index = IndexOf(column);
        return index < 0 ? null : row[index];
    }

    public int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (Columns[i] == column)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Reads a challenge file.</summary>
    /// <exception cref="InvalidDataException">The file has no header, a row of another width, or a value that is not a number.</exception>
    public static PhysioNetStay Read(string path)
    {
        var record = Path.GetFileNameWithoutExtension(path);
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{record}: the file is empty.");
        var columns = header.Split('|');
        var rows = new List<double?[]>();
        var line = 1;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }

            var cells = text.Split('|');
            if (cells.Length != columns.Length)
            {
                throw new InvalidDataException($"{record} line {line}: {cells.Length} values for {columns.Length} columns.");
            }

            var row = new double?[cells.Length];
            for (var i = 0; i < cells.Length; i++)
            {
                if (cells[i] is "NaN" or "")
                {
                    continue;
                }

                row[i] = double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                    ? value
                    : throw new InvalidDataException($"{record} line {line}: {columns[i]} is not a number.");
            }

            rows.Add(row);
        }

        return new PhysioNetStay(record, columns, rows);
    }
}
