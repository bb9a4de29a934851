using ClinicalTrials.Api;
using ClinicalTrials.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddClinicalPlatform(args);

var app = builder.Build();
app.MapClinicalApi();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
