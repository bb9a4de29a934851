using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClinicalTrials.Api.Health;

/// <summary>
/// The first step of a graceful stop (SIGTERM), so that a silo behind a load balancer answers every request it took.
/// Kestrel closes idle keep-alive connections when it stops, and a request a client sent on one at that moment got no
/// answer. So before anything stops, <c>/health/ready</c> answers 503 (the load balancer stops sending new requests
/// here) and for <see cref="Period"/> the silo goes on serving, each answer closing its connection
/// (<c>Connection: close</c>), so clients open their next connections to other silos. Only then do Kestrel and Orleans
/// stop; Kestrel still completes the requests in flight.
/// </summary>
/// <remarks>
/// The host runs every <see cref="IHostedLifecycleService.StoppingAsync"/> before any hosted service's
/// <see cref="IHostedService.StopAsync"/>, Kestrel's (ASP.NET Core's web host service) and the Orleans silo's among
/// them, and neither of those acts earlier (on <c>ApplicationStopping</c> or in <c>StoppingAsync</c>) in .NET 10 and
/// Orleans 10: so the wait here holds the whole stop, and the host's shutdown timeout counts it (it must be longer).
/// <c>ShutdownDrainTests</c> watch the order on a real silo process.
/// </remarks>
public sealed partial class ShutdownDrain(TimeSpan period, TimeProvider time, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    private volatile bool _draining;

    /// <summary>How long the silo serves after <c>/health/ready</c> turned 503; zero stops at once.</summary>
    public TimeSpan Period => period;

    /// <summary>True from the moment the host began to stop.</summary>
    public bool IsDraining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        if (period <= TimeSpan.Zero)
        {
            return;
        }

        LogDraining(logger, period.TotalSeconds);
        try
        {
            await Task.Delay(period, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out (it is validated to exceed the drain): stop now.
        }
    }

    /// <summary>Middleware: while draining, every HTTP/1.x answer closes its connection once it is sent.</summary>
    public Task CloseConnectionsWhileDrainingAsync(HttpContext context, RequestDelegate next)
    {
        // HTTP/2 and HTTP/3 forbid the header; Kestrel ends those connections with GOAWAY as it stops.
        if (_draining && (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol)))
        {
            // Set as the answer starts, so an exception handler that clears the headers does not drop it.
            context.Response.OnStarting(static state =>
            {
                ((HttpResponse)state).Headers.Connection = "close";
                return Task.CompletedTask;
            }, context.Response);
        }

        return next(context);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Stopping: /health/ready answers 503 and answers close their connections for {Seconds} s, then the silo stops")]
    private static partial void LogDraining(ILogger logger, double seconds);
}
