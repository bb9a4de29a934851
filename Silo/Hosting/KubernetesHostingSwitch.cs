namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// Turns on Orleans' Kubernetes integration (<c>Microsoft.Orleans.Hosting.Kubernetes</c>) only where it can work: inside
/// a Kubernetes pod. There the silo names itself after its pod, advertises the pod IP, labels its pod with
/// <c>orleans/serviceId</c> and <c>orleans/clusterId</c>, and two silos watch the pods so that a deleted pod's silo is
/// declared dead at once instead of after missed probes. Outside a pod it must stay off: the integration reads the
/// service account's token at start and would stop the silo from starting.
/// </summary>
public static class KubernetesHostingSwitch
{
    /// <summary>
    /// <c>Cluster:Kubernetes</c> (<c>Cluster__Kubernetes</c>): <c>true</c> or <c>false</c> forces the integration on or
    /// off; unset, it is on when <see cref="ServiceHostVariable"/> is set.
    /// </summary>
    public const string SettingKey = "Cluster:Kubernetes";

    /// <summary>Set by the kubelet in every container of every pod; never set elsewhere.</summary>
    public const string ServiceHostVariable = "KUBERNETES_SERVICE_HOST";

    /// <summary>Whether the silo runs with the Kubernetes integration; a setting that is not a boolean stops the start.</summary>
    public static bool IsEnabled(IConfiguration configuration, Func<string, string?> environment)
    {
        var setting = configuration[SettingKey];
        if (string.IsNullOrWhiteSpace(setting))
        {
            return !string.IsNullOrEmpty(environment(ServiceHostVariable));
        }

        return bool.TryParse(setting, out var enabled)
            ? enabled
            : throw new InvalidOperationException($"{SettingKey} must be true or false (or unset to detect Kubernetes), not '{setting}'.");
    }

    /// <summary>
    /// Adds <c>UseKubernetesHosting()</c> when <see cref="IsEnabled"/> says so. It needs the pod's <c>POD_NAME</c>,
    /// <c>POD_NAMESPACE</c> and <c>POD_IP</c> (downward API) and a role allowing get, list, watch and patch on pods
    /// (deploy/k8s/rbac.yaml); without that role the silo retries the Kubernetes API and never becomes ready.
    /// </summary>
    public static ISiloBuilder UseKubernetesHostingInsidePods(this ISiloBuilder silo, IConfiguration configuration) =>
        IsEnabled(configuration, Environment.GetEnvironmentVariable) ? silo.UseKubernetesHosting() : silo;
}
