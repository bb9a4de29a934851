using ClinicalTrials.Api;
using ClinicalTrials.Silo.Hosting;

if (PipelineCommand.Handles(args))
{
    return await PipelineCommand.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddClinicalPlatform(args);

var app = builder.Build();
app.MapClinicalApi();
await app.RunAsync();
return 0;

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
