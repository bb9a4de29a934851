using System.Collections.Concurrent;
using ClinicalTrials.Api.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ClinicalTrials.Api.Tests;

/// <summary>A failure the API did not expect: answered 500 problem+json, and logged once with the answer's trace id.</summary>
public sealed class FailureLoggingTests
{
    [Fact]
    public async Task Unhandled_exception_is_logged_once_with_the_trace_id_of_the_answer()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var logs = new CapturedLogs();
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, services: s =>
        {
            s.AddSingleton<ILoggerProvider>(logs);
            s.AddSingleton<IStartupFilter, FailingEndpoint>();
        });

        var problem = await (await app.Http.GetAsync($"{FailingEndpoint.Path}/PT12AB34CD", cancellation)).ExpectAsync(500);

        var traceId = problem.GetProperty("traceId").GetString()!;
        var logged = Assert.Single(logs.Entries, e => e.Exception is FailingEndpoint.Failure);
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains(traceId, logged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PT12AB34CD", logged.Message, StringComparison.Ordinal);
    }

    /// <summary>A path that throws, behind the application's own middleware, as a bug in an endpoint would.</summary>
    private sealed class FailingEndpoint : IStartupFilter
    {
        public const string Path = "/test/failing";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, RequestDelegate rest) =>
                context.Request.Path.StartsWithSegments(Path) ? throw new Failure() : rest(context));
        };

        public sealed class Failure() : Exception("A failure no handler expects.");
    }

    private sealed record Entry(string Category, LogLevel Level, Exception? Exception, string Message);

    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<Entry> _entries = new();

        public IReadOnlyCollection<Entry> Entries => _entries;

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(category, logLevel, exception, formatter(state, exception)));
        }
    }
}
