using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// The console's <c>json</c> formatter (<c>Logging:Console:FormatterName=json</c>): one JSON object per line with
/// <c>timestamp</c>, <c>level</c>, <c>category</c>, <c>event_id</c>, <c>message</c>, the current request's
/// <c>trace_id</c> and <c>span_id</c> (the trace_id of problem details and of the exported trace), every named value of
/// the message as a snake_case field (<c>message_id</c>, <c>site_id</c>, …) and <c>exception</c>. It replaces
/// ASP.NET Core's own json formatter, which nests the values and the trace id in objects of their own. Messages hold
/// pseudonymous ids and counts, never patient values or message bodies.
/// </summary>
public sealed class JsonLogFormatter() : ConsoleFormatter(ConsoleFormatterNames.Json)
{
    private static readonly string[] Reserved = ["timestamp", "level", "category", "event_id", "message", "trace_id", "span_id", "exception"];

    /// <summary>Puts this formatter in the place of the built-in one of the same name (an internal type, found by its name).</summary>
    public static void Use(ILoggingBuilder logging)
    {
        foreach (var builtIn in logging.Services.Where(d => d.ServiceType == typeof(ConsoleFormatter) && d.ImplementationType?.Name == "JsonConsoleFormatter").ToList())
        {
            logging.Services.Remove(builtIn);
        }

        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, JsonLogFormatter>());
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", DateTimeOffset.UtcNow);
            json.WriteString("level", logEntry.LogLevel.ToString());
            json.WriteString("category", logEntry.Category);
            json.WriteNumber("event_id", logEntry.EventId.Id);
            json.WriteString("message", message);
            if (Activity.Current is { } activity)
            {
                json.WriteString("trace_id", activity.TraceId.ToHexString());
                json.WriteString("span_id", activity.SpanId.ToHexString());
            }

            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    var name = JsonNamingPolicy.SnakeCaseLower.ConvertName(key);
                    if (key != "{OriginalFormat}" && !Reserved.Contains(name))
                    {
                        WriteValue(json, name, value);
                    }
                }
            }

            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", exception.ToString());
            }

            json.WriteEndObject();
        }

        textWriter.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteValue(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(name);
                break;
            case bool flag:
                json.WriteBoolean(name, flag);
                break;
            case int or long or short or byte or uint or ulong:
                json.WriteNumber(name, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                json.WriteNumber(name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteString(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }
}
