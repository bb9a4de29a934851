using System.Xml.Linq;
using ClinicalTrials.Silo.Hosting;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// deploy/Dockerfile against the projects it builds and the silo it starts. No image is built here (no Docker engine
/// on our machines); these checks catch what drifts when the code changes: a new project reference, a renamed
/// assembly, a moved port.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly Dockerfile Image = Dockerfile.Parse(Repository.Read("deploy/Dockerfile"));

    [Fact]
    public void Restore_layer_copies_every_project_the_silo_and_the_trainer_build_from()
    {
        var needed = ProjectClosure("Silo/Silo.csproj", "Trainer/Trainer.csproj");
        var copied = Image.InStage("build", "COPY")
            .Select(c => c.Split(' ')[0])
            .Where(source => source.EndsWith(".csproj", StringComparison.Ordinal))
            .ToHashSet();

        Assert.Equal(needed.Order(), copied.Order());
        var restores = string.Join(' ', Image.InStage("build", "RUN"));
        Assert.Contains("dotnet restore Silo/Silo.csproj", restores, StringComparison.Ordinal);
        Assert.Contains("dotnet restore Trainer/Trainer.csproj", restores, StringComparison.Ordinal);

        // Central package versions, the SDK pin and the shared build settings must be there before the restore.
        var firstCopy = Image.InStage("build", "COPY").First().Split(' ')[..^1];
        foreach (var file in Directory.GetFiles(Repository.Root, "Directory.*.props").Select(Path.GetFileName).Append("global.json"))
        {
            Assert.Contains(file, firstCopy);
        }
    }

    [Fact]
    public void Image_starts_the_silo_assembly_as_a_user_other_than_root()
    {
        Assert.Equal(["dotnet", $"{typeof(SiloOptions).Assembly.GetName().Name}.dll"], Image.EntryPoint);

        var user = Assert.Single(Image.Final("USER"));
        Assert.DoesNotContain(user, new[] { "root", "0", "0:0" });
    }

    [Fact]
    public void Image_listens_on_every_interface_and_exposes_the_silo_ports()
    {
        // Without a URL the silo binds localhost:8080, which nothing outside the container can reach.
        var urls = new Uri(Image.Environment["ASPNETCORE_URLS"].Replace("+", "0.0.0.0", StringComparison.Ordinal));
        Assert.Equal(("0.0.0.0", 8080), (urls.Host, urls.Port));

        var defaults = new SiloOptions();
        Assert.Superset(new HashSet<int> { 8080, defaults.SiloPort, defaults.GatewayPort }, Image.ExposedPorts.ToHashSet());
        Assert.Equal(defaults.SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Image.Environment["Orleans__SiloPort"]);
        Assert.Equal(defaults.GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Image.Environment["Orleans__GatewayPort"]);

        Assert.Equal(Assert.Single(Image.Final("VOLUME")), Image.Environment["Journal__DataDirectory"]);
        var settings = SiloSettings.FromCode();
        var problems = Image.Environment.Keys.Where(k => k != "DOTNET_CLI_TELEMETRY_OPTOUT" && k != "ASPNETCORE_HTTP_PORTS")
            .Select(settings.Problem).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void Health_check_asks_the_silos_readiness_probe()
    {
        var check = Assert.Single(Image.Final("HEALTHCHECK"));
        Assert.Contains("http://127.0.0.1:8080/health/ready", check, StringComparison.Ordinal);
        Assert.Contains("curl", string.Join(' ', Image.Final("RUN")), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_context_leaves_out_host_build_output()
    {
        var ignored = Repository.Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToHashSet();
        Assert.Superset(new HashSet<string> { "**/bin/", "**/obj/", ".git/", ".servers/" }, ignored);
    }

    /// <summary>The projects and all they reference, as paths from the repository root.</summary>
    private static HashSet<string> ProjectClosure(params string[] roots)
    {
        var found = new HashSet<string>();
        var pending = new Stack<string>(roots);
        while (pending.TryPop(out var project))
        {
            if (!found.Add(project))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(Repository.PathOf(project))!;
            foreach (var reference in XDocument.Load(Repository.PathOf(project)).Descendants("ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(directory, reference.Attribute("Include")!.Value));
                pending.Push(Path.GetRelativePath(Repository.Root, path).Replace(Path.DirectorySeparatorChar, '/'));
            }
        }

        return found;
    }
}
