using System.Reflection;
using ClinicalTrials.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting.Kubernetes;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// The settings the silo reads, taken from its code: every options class in its assemblies that declares
/// <c>public const string Section</c> contributes its property paths. A deploy file that sets anything else (a typo, a
/// renamed option) is caught here instead of being ignored by the silo at run time.
/// </summary>
internal sealed class SiloSettings
{
    /// <summary>
    /// Keys issue 12 specifies for the cluster profile that no options class binds in this build: the connection strings
    /// (read with <c>GetConnectionString</c>) and the <c>Cluster</c> section. As soon as an options class declares a
    /// section, its properties decide for every key under it, so a key named differently in the code fails the check.
    /// </summary>
    public static readonly IReadOnlyList<string> SpecifiedWithoutOptionsClass =
        ["ConnectionStrings:Postgres", "ConnectionStrings:Redis", "Cluster:Mode", "Cluster:ClusterId", "Cluster:ServiceId"];

    /// <summary>Read directly from configuration by the silo's own code.</summary>
    private static readonly IReadOnlyList<string> DirectReads = [KubernetesHostingSwitch.SettingKey];

    /// <summary>Environment variables read by ASP.NET Core, the .NET host and Orleans' Kubernetes hosting.</summary>
    private static readonly IReadOnlyList<string> FrameworkVariables =
    [
        "ASPNETCORE_URLS",
        "DOTNET_shutdownTimeoutSeconds",
        KubernetesHostingOptions.PodNameEnvironmentVariable,
        KubernetesHostingOptions.PodNamespaceEnvironmentVariable,
        KubernetesHostingOptions.PodIPEnvironmentVariable,
    ];

    private readonly Dictionary<string, List<Type>> _sections;

    private SiloSettings(Dictionary<string, List<Type>> sections) => _sections = sections;

    public IReadOnlyDictionary<string, List<Type>> Sections => _sections;

    public static SiloSettings FromCode() => FromTypes(SiloAssemblies().SelectMany(a => a.GetTypes()));

    public static SiloSettings FromTypes(IEnumerable<Type> types)
    {
        var sections = new Dictionary<string, List<Type>>(StringComparer.OrdinalIgnoreCase);
        foreach (var type in types)
        {
            if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && field.GetRawConstantValue() is string section)
            {
                (sections.TryGetValue(section, out var list) ? list : sections[section] = []).Add(type);
            }
        }

        return new SiloSettings(sections);
    }

    /// <summary>Null when the silo reads <paramref name="variable"/> (an environment variable name); else why not.</summary>
    public string? Problem(string variable)
    {
        if (FrameworkVariables.Contains(variable, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!variable.Contains("__", StringComparison.Ordinal))
        {
            return $"{variable}: not a configuration path (sections are separated by '__') nor a variable the framework reads.";
        }

        var path = variable.Replace("__", ":", StringComparison.Ordinal);
        if (DirectReads.Contains(path, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        var section = _sections.Keys.Where(s => path.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)).MaxBy(s => s.Length);
        if (section is null)
        {
            return SpecifiedWithoutOptionsClass.Contains(path, StringComparer.OrdinalIgnoreCase)
                ? null
                : $"{variable}: no options class of the silo binds a section of '{path}'.";
        }

        var rest = path[(section.Length + 1)..].Split(':');
        return _sections[section].Any(type => HasSetting(type, rest))
            ? null
            : $"{variable}: {string.Join(" or ", _sections[section].Select(t => t.Name))} (section '{section}') has no setting '{string.Join(':', rest)}'.";
    }

    /// <summary>The settings as the silo would see them if they were its environment ('__' becomes ':').</summary>
    public static IConfiguration Configuration(IEnumerable<KeyValuePair<string, string>> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(p => KeyValuePair.Create(p.Key.Replace("__", ":", StringComparison.Ordinal), (string?)p.Value)))
            .Build();

    private static IEnumerable<Assembly> SiloAssemblies()
    {
        var seen = new Dictionary<string, Assembly>();
        var pending = new Stack<Assembly>([typeof(SiloOptions).Assembly]);
        while (pending.TryPop(out var assembly))
        {
            if (seen.TryAdd(assembly.GetName().Name!, assembly))
            {
                foreach (var reference in assembly.GetReferencedAssemblies().Where(r => r.Name!.StartsWith("ClinicalTrials.", StringComparison.Ordinal)))
                {
                    pending.Push(Assembly.Load(reference));
                }
            }
        }

        return seen.Values;
    }

    private static bool HasSetting(Type type, ReadOnlySpan<string> path)
    {
        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
        {
            return false;
        }

        var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (path.Length == 1)
        {
            return property.SetMethod is { IsPublic: true } && IsValue(propertyType);
        }

        if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            return true;
        }

        return propertyType.IsClass && !IsValue(propertyType) && HasSetting(propertyType, path[1..]);
    }

    private static bool IsValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);
}
