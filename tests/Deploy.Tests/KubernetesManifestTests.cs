using ClinicalTrials.Api.Health;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting.Kubernetes;
using YamlDotNet.RepresentationModel;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// deploy/k8s parsed as YAML and checked against what the silo and Orleans' Kubernetes hosting read. No Kubernetes API
/// server is reachable here, so nothing validates the manifests against the API schema: that is for
/// <c>kubectl apply --dry-run=server</c> on a real cluster.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string Folder = "deploy/k8s";

    private static readonly IReadOnlyList<YamlMappingNode> Resources = Directory.GetFiles(Repository.PathOf(Folder), "*.yaml")
        .Where(f => Path.GetFileName(f) != "kustomization.yaml")
        .SelectMany(f => Yaml.Documents(File.ReadAllText(f)))
        .ToList();

    private static YamlMappingNode Resource(string kind, string name) =>
        Resources.Single(r => r.Text("kind") == kind && r.Text("metadata", "name") == name);

    private static YamlMappingNode SiloPod => Resource("Deployment", "clinicaltrials-silo").Map("spec", "template");

    private static YamlNode SiloContainer => SiloPod.List("spec", "containers").Single(c => c.Text("name") == "silo");

    [Fact]
    public void Kustomization_lists_every_manifest_and_each_resource_is_named()
    {
        var listed = Yaml.Documents(Repository.Read($"{Folder}/kustomization.yaml")).Single().List("resources")
            .Select(r => ((YamlScalarNode)r).Value).Order();
        var files = Directory.GetFiles(Repository.PathOf(Folder), "*.yaml").Select(Path.GetFileName)
            .Where(f => f != "kustomization.yaml").Order();
        Assert.Equal(files, listed);

        Assert.All(Resources, r =>
        {
            Assert.False(string.IsNullOrEmpty(r.TextOrNull("apiVersion")));
            Assert.False(string.IsNullOrEmpty(r.TextOrNull("kind")));
            Assert.False(string.IsNullOrEmpty(r.TextOrNull("metadata", "name")));
        });
    }

    [Fact]
    public void Silo_pods_carry_the_orleans_labels_of_the_cluster_they_are_configured_for()
    {
        var config = Resource("ConfigMap", "clinicaltrials-config").Pairs("data");
        var labels = SiloPod.Pairs("metadata", "labels");

        Assert.Equal(config["Cluster__ServiceId"], labels[KubernetesHostingOptions.ServiceIdLabel]);
        Assert.Equal(config["Cluster__ClusterId"], labels[KubernetesHostingOptions.ClusterIdLabel]);

        var deployment = Resource("Deployment", "clinicaltrials-silo");
        Assert.Equal(3, int.Parse(deployment.Text("spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture));
        var selector = deployment.Pairs("spec", "selector", "matchLabels");
        Assert.All(selector, pair => Assert.Equal(pair.Value, labels[pair.Key]));
    }

    [Fact]
    public void Silo_containers_get_their_pod_name_namespace_and_ip_from_the_downward_api()
    {
        var fields = SiloContainer.List("env")
            .Where(e => e.Find("valueFrom", "fieldRef") is not null)
            .ToDictionary(e => e.Text("name"), e => e.Text("valueFrom", "fieldRef", "fieldPath"));

        Assert.Equal("metadata.name", fields[KubernetesHostingOptions.PodNameEnvironmentVariable]);
        Assert.Equal("metadata.namespace", fields[KubernetesHostingOptions.PodNamespaceEnvironmentVariable]);
        Assert.Equal("status.podIP", fields[KubernetesHostingOptions.PodIPEnvironmentVariable]);
    }

    [Fact]
    public void Silo_service_account_may_do_what_orleans_kubernetes_hosting_does_with_pods()
    {
        var account = SiloPod.Text("spec", "serviceAccountName");
        Assert.NotNull(Resources.SingleOrDefault(r => r.Text("kind") == "ServiceAccount" && r.Text("metadata", "name") == account));

        var binding = Resources.Single(r => r.Text("kind") == "RoleBinding"
            && r.List("subjects").Any(s => s.Text("kind") == "ServiceAccount" && s.Text("name") == account));
        var role = Resource(binding.Text("roleRef", "kind"), binding.Text("roleRef", "name"));
        var podVerbs = role.List("rules")
            .Where(rule => rule.List("resources").Any(r => ((YamlScalarNode)r).Value == "pods")
                && rule.List("apiGroups").Any(g => ((YamlScalarNode)g).Value == ""))
            .SelectMany(rule => rule.List("verbs").Select(v => ((YamlScalarNode)v).Value!))
            .ToHashSet();

        // KubernetesClusterAgent reads and patches its own pod, lists and watches the cluster's pods.
        Assert.Superset(new HashSet<string> { "get", "patch", "list", "watch" }, podVerbs);
    }

    [Fact]
    public void Silo_and_migration_settings_are_ones_the_silo_reads_and_name_a_usable_lake()
    {
        var config = Resource("ConfigMap", "clinicaltrials-config").Pairs("data");
        var secret = Resource("Secret", "clinicaltrials-secrets").Pairs("stringData");
        var explicitEnvironment = SiloContainer.List("env").Select(e => e.Text("name"));
        var settings = SiloSettings.FromCode();

        var problems = config.Keys.Concat(secret.Keys).Concat(explicitEnvironment).Select(settings.Problem).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

        var configuration = SiloSettings.Configuration(config.Concat(secret));
        Assert.Equal("Postgres", configuration["Cluster:Mode"]);
        Assert.Null(configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()!.Problem());
        Assert.All(secret.Values, value => Assert.Contains("REPLACE_ME", value, StringComparison.Ordinal));

        string[] sources = ["configMapRef", "secretRef"];
        var job = Resource("Job", "clinicaltrials-migrate").Get("spec", "template", "spec").List("containers").Single();
        Assert.Equal(["migrate"], job.List("args").Select(a => ((YamlScalarNode)a).Value));
        Assert.Equal(
            SiloContainer.List("envFrom").Select(e => sources.Select(s => e.TextOrNull(s, "name")).Single(n => n is not null)),
            job.List("envFrom").Select(e => sources.Select(s => e.TextOrNull(s, "name")).Single(n => n is not null)));
    }

    [Fact]
    public void Silos_are_given_longer_to_stop_than_the_silo_takes_to_shut_down_and_have_probes()
    {
        var shutdown = Dockerfile.Parse(Repository.Read("deploy/Dockerfile")).ShutdownTimeout;
        var grace = TimeSpan.FromSeconds(int.Parse(SiloPod.Text("spec", "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(grace > shutdown, $"terminationGracePeriodSeconds {grace} must exceed the silo's shutdown timeout {shutdown}.");

        var ports = SiloContainer.List("ports").Select(p => p.Text("name")).ToHashSet();
        Assert.Equal(HealthApi.ReadyPath, SiloContainer.Text("readinessProbe", "httpGet", "path"));
        Assert.Equal(HealthApi.ReadyPath, SiloContainer.Text("startupProbe", "httpGet", "path"));
        Assert.Equal(HealthApi.LivePath, SiloContainer.Text("livenessProbe", "httpGet", "path"));
        Assert.Contains(SiloContainer.Text("readinessProbe", "httpGet", "port"), ports);
        Assert.Contains(SiloContainer.Text("livenessProbe", "httpGet", "port"), ports);
        Assert.NotNull(SiloContainer.Find("resources", "requests", "cpu"));
        Assert.NotNull(SiloContainer.Find("resources", "requests", "memory"));
    }
}
