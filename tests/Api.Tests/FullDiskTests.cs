using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// The silo's data directory on a small filesystem (a tmpfs this test mounts), filled under load until it refuses,
/// then enlarged, several times over; then the silo is killed and restarted. Every message answered 202 is found,
/// every message the journal refused (503 with its outcome) is accepted afresh when retried (never "duplicate"), one
/// answered 503 because its request's audit record could not be stored (the journal may have stored it first) is
/// accepted or answered duplicate when retried, and bronze holds each accepted message exactly once, with no line of a
/// refused one and no torn line.
/// </summary>
public sealed class FullDiskTests
{
    private const int Workers = 6;
    private const int Rounds = 3;

    [Fact]
    public async Task A_full_disk_loses_nothing_acknowledged_and_stores_nothing_refused()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        using var disk = Tmpfs.Mount(data.Path, sizeMiB: 24);
        var patients = Enumerable.Range(0, 40).Select(_ => NewPatientId()).ToArray();
        var site = NewSiteId();
        var acknowledged = new ConcurrentDictionary<Guid, JsonObject>();
        var refused = new ConcurrentDictionary<Guid, JsonObject>();
        var unaudited = new ConcurrentDictionary<Guid, JsonObject>();
        var unexpected = new ConcurrentBag<string>();

        await using (var silo = await SiloProcess.StartAsync(data.Path, cancellation))
        {
            using var http = silo.CreateClient();
            for (var round = 1; round <= Rounds; round++)
            {
                var refusedBefore = refused.Count + unaudited.Count;
                await FillAsync(http, patients, site, acknowledged, refused, unaudited, unexpected);
                Assert.True(refused.Count + unaudited.Count > refusedBefore, $"Round {round}: the disk never filled.");

                using (var full = await http.GetAsync("/api/clinical/health", cancellation))
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
                    var report = await full.ReadJsonAsync();
                    var detail = report.GetProperty("components").GetProperty("disk").GetProperty("detail").GetString()!;
                    var freeMiB = int.Parse(detail[..detail.IndexOf(' ')]);
                    Assert.True(freeMiB < 24, detail); // the tmpfs's own free space, not the root filesystem's
                }

                disk.Resize(24 + 16 * round);
                // Healthy again without a single message sent: the health probe repairs and checks the disk itself.
                await (await http.GetAsync("/api/clinical/health", cancellation)).ExpectAsync(200);
            }

            Assert.Empty(unexpected);
            foreach (var (id, message) in refused)
            {
                using var retry = await http.PostAsync("/api/clinical/data", Json(message), cancellation);
                var body = await retry.ExpectAsync(202);
                Assert.Equal("accepted", body.GetProperty("status").GetString()); // answered 503, so never stored
                acknowledged[id] = message;
            }

            foreach (var (id, message) in unaudited.Where(u => !acknowledged.ContainsKey(u.Key)))
            {
                using var retry = await http.PostAsync("/api/clinical/data", Json(message), cancellation);
                Assert.True(retry.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, $"HTTP {(int)retry.StatusCode}");
                Assert.Contains((await retry.ReadJsonAsync()).GetProperty("status").GetString(), new[] { "accepted", "duplicate" });
                acknowledged[id] = message;
            }

            silo.Kill();
            await silo.WaitForExitAsync(cancellation);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{acknowledged.Count - refused.Count - unaudited.Count} acknowledged at once, {refused.Count} refused and {unaudited.Count} unaudited, retried.");
        await using var restarted = await SiloProcess.StartAsync(data.Path, cancellation);
        using var client = restarted.CreateClient();
        var missing = new ConcurrentBag<Guid>();
        await Parallel.ForEachAsync(acknowledged.Keys, new ParallelOptions { MaxDegreeOfParallelism = Workers, CancellationToken = cancellation }, async (id, ct) =>
        {
            using var response = await client.GetAsync($"/api/clinical/messages/{id}", ct);
            if (response.StatusCode != HttpStatusCode.OK || (await response.ReadJsonAsync()).GetProperty("status").GetString() != "accepted")
            {
                missing.Add(id);
            }
        });
        Assert.True(missing.IsEmpty, $"{missing.Count} of {acknowledged.Count} acknowledged messages are gone, e.g. {missing.FirstOrDefault()}.");

        var inBronze = BronzeMessageIds(data.Path);
        Assert.Equal(acknowledged.Keys.Order(), inBronze.Order());
    }

    /// <summary>Sends new messages, single and in batches, from several workers until the silo refuses them.</summary>
    private static async Task FillAsync(HttpClient http, string[] patients, string site, ConcurrentDictionary<Guid, JsonObject> acknowledged,
        ConcurrentDictionary<Guid, JsonObject> refused, ConcurrentDictionary<Guid, JsonObject> unaudited, ConcurrentBag<string> unexpected)
    {
        var refusals = 0;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (Volatile.Read(ref refusals) < 20)
            {
                var batch = Enumerable.Range(0, worker % 2 == 0 ? 1 : random.Next(2, 40))
                    .Select(_ => Vitals(patients[random.Next(patients.Length)], site, random.Next(50, 120)))
                    .ToList();
                using var response = batch.Count == 1
                    ? await http.PostAsync("/api/clinical/data", Json(batch[0]))
                    : await http.PostAsync("/api/clinical/data/batch", Json(new JsonArray(batch.ToArray<JsonNode>())));
                var body = await response.Content.ReadAsStringAsync();
                switch ((int)response.StatusCode)
                {
                    case 503 when JsonDocument.Parse(body).RootElement.TryGetProperty("title", out var title) && title.GetString() == "Audit trail unavailable":
                        // The request's audit record could not be stored, after ingest: its messages may be stored.
                        foreach (var message in batch)
                        {
                            unaudited[IdOf(message)] = message;
                        }

                        Interlocked.Increment(ref refusals);
                        break;
                    case 503:
                        // A batch says which of its messages were stored all the same (other patients' commits).
                        var results = batch.Count == 1 ? (JsonElement?)null : JsonDocument.Parse(body).RootElement.GetProperty("results");
                        for (var i = 0; i < batch.Count; i++)
                        {
                            var stored = results?[i].GetProperty("status").GetString() == "accepted";
                            (stored ? acknowledged : refused)[IdOf(batch[i])] = batch[i];
                        }

                        Interlocked.Increment(ref refusals);
                        break;
                    case 202 when JsonDocument.Parse(body).RootElement.GetProperty("status").GetString() == "accepted":
                        acknowledged[IdOf(batch[0])] = batch[0];
                        break;
                    case 200:
                        foreach (var result in JsonDocument.Parse(body).RootElement.GetProperty("results").EnumerateArray())
                        {
                            var message = batch[result.GetProperty("index").GetInt32()];
                            if (result.GetProperty("status").GetString() == "accepted")
                            {
                                acknowledged[IdOf(message)] = message;
                            }
                            else
                            {
                                unexpected.Add(result.ToString());
                            }
                        }

                        break;
                    default:
                        unexpected.Add($"{(int)response.StatusCode}: {body}");
                        Interlocked.Increment(ref refusals);
                        break;
                }
            }
        })));
    }

    /// <summary>The message_id of every bronze line; a line that is not a whole record fails the test.</summary>
    private static List<Guid> BronzeMessageIds(string dataDirectory) =>
        Directory.EnumerateFiles(Path.Combine(dataDirectory, "raw"), "*.ndjson", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("message_id").GetGuid())
            .ToList();

    /// <summary>A tmpfs mounted over a directory for one test, enlarged on demand and unmounted at the end.</summary>
    private sealed class Tmpfs : IDisposable
    {
        private readonly string _path;

        private Tmpfs(string path) => _path = path;

        public static Tmpfs Mount(string path, int sizeMiB)
        {
            Assert.SkipUnless(Environment.UserName == "root", "Mounting a tmpfs needs root; CI and the developers' machines run as root.");
            Run("mount", "-t", "tmpfs", "-o", $"size={sizeMiB}m", "tmpfs", path);
            return new Tmpfs(path);
        }

        public void Resize(int sizeMiB) => Run("mount", "-o", $"remount,size={sizeMiB}m", _path);

        public void Dispose() => Run("umount", "--lazy", _path);

        private static void Run(string command, params string[] arguments)
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)} failed: {error}");
        }
    }
}
