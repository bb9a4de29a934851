using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Npgsql;
using StackExchange.Redis;
using YamlDotNet.RepresentationModel;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// deploy/docker-compose.yml as docker-compose itself reads it (no Docker engine is needed for that): valid, and its
/// silos configured with settings the silo reads, pointing at the servers the same file starts.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string[] Silos = ["silo1", "silo2", "silo3"];

    [Fact]
    public async Task Compose_file_is_valid_for_docker_compose()
    {
        var result = await DockerCompose.RunAsync("config", "-q");

        Assert.True(result.ExitCode == 0, $"docker-compose config -q exited {result.ExitCode}: {result.Errors}");
    }

    [Fact]
    public async Task Silos_and_the_migration_run_the_cluster_profile_on_the_servers_of_the_file()
    {
        var services = (await DockerCompose.ResolvedAsync()).Map("services");
        var postgres = services.Pairs("postgres", "environment");
        var minio = services.Pairs("minio", "environment");

        foreach (var name in Silos.Append("migrate"))
        {
            var environment = services.Pairs(name, "environment");
            var configuration = SiloSettings.Configuration(environment);
            Assert.Equal("Postgres", configuration["Cluster:Mode"]);

            var database = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"));
            Assert.Equal(("postgres", 5432), (database.Host, database.Port));
            Assert.Equal(postgres["POSTGRES_USER"], database.Username);
            Assert.Equal(postgres["POSTGRES_PASSWORD"], database.Password);
            Assert.Equal(postgres["POSTGRES_DB"], database.Database);

            var redis = ConfigurationOptions.Parse(configuration.GetConnectionString("Redis")!);
            var endpoint = Assert.IsType<DnsEndPoint>(Assert.Single(redis.EndPoints));
            Assert.Equal(("redis", 6379), (endpoint.Host, endpoint.Port));
            Assert.NotNull(services.Find("redis"));

            var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()!;
            Assert.Null(storage.Problem());
            Assert.Equal(StorageProvider.S3, storage.Provider);
            Assert.Equal("minio", new Uri(storage.S3.ServiceUrl!).Host);
            Assert.Equal(minio["MINIO_ROOT_USER"], storage.S3.AccessKey);
            Assert.Equal(minio["MINIO_ROOT_PASSWORD"], storage.S3.SecretKey);
            var createBucket = string.Join(' ', services.List("create-bucket", "command").Select(c => ((YamlScalarNode)c).Value));
            Assert.Contains($"mc mb --ignore-existing lake/{storage.S3.Bucket}", createBucket, StringComparison.Ordinal);

            // The ports the image exposes (DockerfileTests) are the silo's defaults; the file must not move them.
            var silo = configuration.GetSection(SiloOptions.Section).Get<SiloOptions>()!;
            Assert.Equal((new SiloOptions().SiloPort, new SiloOptions().GatewayPort), (silo.SiloPort, silo.GatewayPort));
            Assert.Equal("http://+:8080", environment["ASPNETCORE_URLS"]);
        }
    }

    [Fact]
    public async Task Every_setting_of_a_silo_service_is_one_the_silo_reads()
    {
        var services = (await DockerCompose.ResolvedAsync()).Map("services");
        var settings = SiloSettings.FromCode();

        var problems = Silos.Append("migrate")
            .SelectMany(name => services.Pairs(name, "environment").Keys.Select(key => settings.Problem(key)))
            .OfType<string>().Distinct().ToList();

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task Silos_start_after_the_migration_and_the_bucket_and_each_publishes_its_own_port()
    {
        var services = (await DockerCompose.ResolvedAsync()).Map("services");
        Assert.Equal(["migrate"], services.List("migrate", "command").Select(c => ((YamlScalarNode)c).Value));
        var image = services.Text("migrate", "image");

        var published = new List<string>();
        foreach (var name in Silos)
        {
            Assert.Equal("service_completed_successfully", services.Text(name, "depends_on", "migrate", "condition"));
            Assert.Equal("service_completed_successfully", services.Text(name, "depends_on", "create-bucket", "condition"));
            Assert.Equal("service_healthy", services.Text(name, "depends_on", "postgres", "condition"));
            Assert.Equal(image, services.Text(name, "image"));
            Assert.Equal(services.Pairs("migrate", "environment"), services.Pairs(name, "environment"));

            var port = Assert.Single(services.List(name, "ports"));
            Assert.Equal("8080", port.Text("target"));
            published.Add(port.Text("published"));
        }

        Assert.Equal(Silos.Length, published.Distinct().Count());
        Assert.Contains("8080", services.List("gateway", "ports").Select(p => p.Text("published")));
        var nginx = Repository.Read("deploy/nginx.conf");
        Assert.All(Silos, silo => Assert.Contains($"server {silo}:8080", nginx, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Silos_are_given_longer_to_stop_than_the_silo_takes_to_shut_down()
    {
        var services = (await DockerCompose.ResolvedAsync()).Map("services");
        var shutdown = Dockerfile.Parse(Repository.Read("deploy/Dockerfile")).ShutdownTimeout;

        foreach (var name in Silos)
        {
            Assert.Equal("SIGTERM", services.Text(name, "stop_signal"));
            var grace = Duration(services.Text(name, "stop_grace_period"));
            Assert.True(grace > shutdown, $"{name}: stop_grace_period {grace} must exceed the silo's shutdown timeout {shutdown}.");
        }
    }

    /// <summary>A compose duration such as <c>90s</c> or <c>1m30s</c>.</summary>
    private static TimeSpan Duration(string text)
    {
        var parts = Regex.Matches(text, @"(\d+)(ms|h|m|s)");
        Assert.Equal(text, string.Concat(parts.Select(p => p.Value)));
        return parts.Aggregate(TimeSpan.Zero, (total, part) => total + (part.Groups[2].Value switch
        {
            "h" => TimeSpan.FromHours(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            "m" => TimeSpan.FromMinutes(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            "s" => TimeSpan.FromSeconds(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
            _ => TimeSpan.FromMilliseconds(int.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture)),
        }));
    }
}
