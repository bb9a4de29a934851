using ClinicalTrials.Api;
using ClinicalTrials.Silo.Hosting;

if (SiloCommandLine.AsksForHelp(args))
{
    Console.WriteLine(SiloCommandLine.Usage);
    return 0;
}

if (SiloCommandLine.Problem(args) is { } usageProblem)
{
    await Console.Error.WriteLineAsync(usageProblem);
    return 2;
}

if (PipelineCommand.Handles(args))
{
    return await PipelineCommand.RunAsync(args);
}

if (DoctorCommand.Handles(args))
{
    return await DoctorCommand.RunAsync(args);
}

if (SdtmCommand.Handles(args))
{
    return await SdtmCommand.RunAsync(args);
}

if (AccessCommand.Handles(args))
{
    return await AccessCommand.RunAsync(args);
}

if (MigrateCommand.Handles(args))
{
    return await MigrateCommand.RunAsync(args);
}

// The content root is the silo's own directory, so its appsettings.json applies whatever directory it is started from
// (a service manager, a script); relative data paths such as the default ./data still follow the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
if ((SiloOptions.From(builder.Configuration).PortInUse() ?? await ClusterProfile.CheckBeforeStartAsync(builder.Configuration)) is { } problem)
{
    // One line, not a stack trace: a supervisor restarting the silo in a loop shows the operator what to fix.
    await Console.Error.WriteLineAsync(problem);
    return 3;
}

builder.AddClinicalPlatform(args);

var app = builder.Build();
app.MapClinicalApi();
app.MapClinicalDashboard();
app.MapClinicalMetrics();
await app.RunAsync();
return 0;

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
