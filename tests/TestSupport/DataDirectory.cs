namespace ClinicalTrials.TestSupport;

/// <summary>A fresh temporary directory (a silo's data directory, a lake, a trainer's output), removed afterwards.</summary>
public sealed class DataDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("clinical-test-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is going away; the temp folder is cleaned by the OS.
        }
    }
}
