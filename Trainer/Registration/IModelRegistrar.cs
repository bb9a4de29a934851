namespace ClinicalTrials.Trainer.Registration;

/// <summary>Hands a finished model (its artifact folder) to the model registry as a <c>staging</c> version.</summary>
public interface IModelRegistrar
{
    /// <summary>Where the model goes, for the run record.</summary>
    string Description { get; }

    Task RegisterAsync(string version, string folder, CancellationToken cancellationToken);
}

/// <summary>
/// Registration through the registry's storage: the artifacts already lie in <c>models/{version}/</c> of the platform's
/// data directory, and the registry adopts every folder there with a readable <c>metadata.json</c> as a staging version
/// (at activation, and whenever the versions are listed or one is promoted). Nothing more to send.
/// </summary>
public sealed class StorageRegistrar(string dataDirectory) : IModelRegistrar
{
    public string Description => $"registry storage {Path.Combine(dataDirectory, "models")}";

    public Task RegisterAsync(string version, string folder, CancellationToken cancellationToken) => Task.CompletedTask;
}
