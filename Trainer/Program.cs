namespace ClinicalTrials.Trainer;

// A declared entry point, not top-level statements: with the ASP.NET Core shared framework referenced (for the
// configuration stack) top-level statements would make a public Program, which collides with the silo's in projects
// that reference both.
internal static class Program
{
    public static Task<int> Main(string[] args) => TrainerCommandLine.Create().Parse(args).InvokeAsync();
}
