namespace ClinicalTrials.Deploy.Tests;

/// <summary>The check the deploy files go through finds settings the silo would ignore.</summary>
public sealed class SiloSettingsTests
{
    private static readonly SiloSettings Settings = SiloSettings.FromCode();

    [Theory]
    [InlineData("Storage__S3__ServiceUrl")]
    [InlineData("storage__s3__secretkey")]
    [InlineData("Orleans__SiloPort")]
    [InlineData("Journal__DataDirectory")]
    [InlineData("Pipeline__Retention__BronzeDays")]
    [InlineData("Predictions__Log__MaxPending")]
    [InlineData("Predictions__Thresholds__High")]
    [InlineData("ConnectionStrings__Postgres")]
    [InlineData("Cluster__Kubernetes")]
    [InlineData("POD_IP")]
    public void Settings_the_silo_binds_are_read(string variable) => Assert.Null(Settings.Problem(variable));

    [Theory]
    [InlineData("Storage__S3__Endpoint")]        // the S3 URL is ServiceUrl
    [InlineData("Storage__S3")]                  // a section, not a value
    [InlineData("Predictions__Log__High")]       // High belongs to Predictions:Thresholds
    [InlineData("Orleans__SiloPortt")]
    [InlineData("Clustr__Mode")]
    [InlineData("ConnectionStrings__Postgresql")]
    [InlineData("CLUSTER_MODE")]                 // one underscore is no section separator
    public void Settings_the_silo_does_not_read_are_named(string variable)
    {
        var problem = Settings.Problem(variable);
        Assert.NotNull(problem);
        Assert.StartsWith(variable, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Once_an_options_class_binds_the_cluster_section_its_properties_decide()
    {
        var settings = SiloSettings.FromTypes([typeof(ClusterOptionsWithModeOnly)]);

        Assert.Null(settings.Problem("Cluster__Mode"));
        Assert.Null(settings.Problem("Cluster__Kubernetes"));
        Assert.Contains("ClusterOptionsWithModeOnly", settings.Problem("Cluster__ClusterId"), StringComparison.Ordinal);
    }

    private sealed class ClusterOptionsWithModeOnly
    {
        public const string Section = "Cluster";

        public string Mode { get; set; } = "Embedded";
    }
}
