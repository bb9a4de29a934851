using ClinicalTrials.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting.Kubernetes;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>Orleans' Kubernetes hosting is on inside a pod and off everywhere else, unless the setting says otherwise.</summary>
public sealed class KubernetesHostingSwitchTests
{
    private static IConfiguration Setting(string? value) => new ConfigurationBuilder()
        .AddInMemoryCollection(value is null ? [] : [KeyValuePair.Create(KubernetesHostingSwitch.SettingKey, (string?)value)])
        .Build();

    private static Func<string, string?> Environment(string? serviceHost) =>
        name => name == KubernetesHostingSwitch.ServiceHostVariable ? serviceHost : null;

    [Fact]
    public void Off_outside_a_pod() => Assert.False(KubernetesHostingSwitch.IsEnabled(Setting(null), Environment(null)));

    [Fact]
    public void On_inside_a_pod() => Assert.True(KubernetesHostingSwitch.IsEnabled(Setting(null), Environment("10.96.0.1")));

    [Theory]
    [InlineData("false", "10.96.0.1", false)]
    [InlineData("False", "10.96.0.1", false)]
    [InlineData("true", null, true)]
    public void The_setting_overrides_detection(string setting, string? serviceHost, bool enabled) =>
        Assert.Equal(enabled, KubernetesHostingSwitch.IsEnabled(Setting(setting), Environment(serviceHost)));

    [Fact]
    public void A_setting_that_is_not_a_boolean_stops_the_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => KubernetesHostingSwitch.IsEnabled(Setting("yes"), Environment(null)));
        Assert.Contains(KubernetesHostingSwitch.SettingKey, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void The_platform_adds_the_kubernetes_agent_to_the_silo_only_when_enabled(string setting, bool added)
    {
        var args = new[] { $"--{KubernetesHostingSwitch.SettingKey}={setting}" };
        var builder = WebApplication.CreateBuilder(args);

        builder.AddClinicalPlatform();

        Assert.Equal(added, builder.Services.Any(s => s.ImplementationType == typeof(KubernetesClusterAgent)));
    }
}
