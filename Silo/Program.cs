using ClinicalTrials.Api;
using ClinicalTrials.Silo.Hosting;

if (PipelineCommand.Handles(args))
{
    return await PipelineCommand.RunAsync(args);
}

// The content root is the silo's own directory, so its appsettings.json applies whatever directory it is started from
// (a service manager, a script); relative data paths such as the default ./data still follow the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddClinicalPlatform(args);

var app = builder.Build();
app.MapClinicalApi();
await app.RunAsync();
return 0;

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
