using ClinicalTrials.Silo.Hosting;

return await SiloCommandLine.InvokeAsync(args);

/// <summary>The entry point, visible to WebApplicationFactory in tests, which calls it with its own settings.</summary>
public partial class Program;
